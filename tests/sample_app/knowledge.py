"""A generated 1,000-item knowledge base with an inverted index and a text-scan fallback."""

from __future__ import annotations

import random
import re
from typing import Dict, List, Set

TOPICS = ["backup", "restore", "postgres", "deploy", "rollback", "kubernetes", "latency", "alert",
          "workspace", "workflow", "search", "metrics", "storage", "network", "secret", "image",
          "canary", "budget", "quota", "cache", "queue", "index", "replica", "failover"]
VERBS = ["configure", "verify", "debug", "tune", "monitor", "rotate", "migrate", "scale", "audit", "plan"]
WORD = re.compile(r"[a-z0-9]+")


def tokens(text: str) -> List[str]:
    return WORD.findall(text.lower())


MAX_ADDED = 5000   # items added at run time beyond this push out the oldest added ones


class KnowledgeBase:
    """Articles 1..size, deterministic for a given seed so tests can predict hits."""

    def __init__(self, size: int = 1000, seed: int = 7):
        self.size = size
        rng = random.Random(seed)
        self.items: List[Dict[str, object]] = []
        for i in range(1, size + 1):
            topic, other, verb = rng.choice(TOPICS), rng.choice(TOPICS), rng.choice(VERBS)
            title = f"How to {verb} {topic} for {other}"
            body = (f"Article {i}: steps to {verb} {topic} when {other} changes. "
                    f"See also {rng.choice(TOPICS)} and {rng.choice(TOPICS)}.")
            self.items.append({"id": i, "title": title, "body": body})
        self._reindex()

    def _reindex(self) -> None:
        self.index: Dict[str, Set[int]] = {}
        for pos, item in enumerate(self.items):
            for tok in set(tokens(f"{item['title']} {item['body']}")):
                self.index.setdefault(tok, set()).add(pos)

    def add(self, title: str, body: str) -> Dict[str, object]:
        """Append an item (ids go on after the generated ones) and index it."""
        item = {"id": int(self.items[-1]["id"]) + 1, "title": title, "body": body}
        self.items.append(item)
        if len(self.items) > self.size + MAX_ADDED:
            del self.items[self.size]
            self._reindex()   # positions moved
        else:
            for tok in set(tokens(f"{title} {body}")):
                self.index.setdefault(tok, set()).add(len(self.items) - 1)
        return item

    def search_ranked(self, query: str, limit: int) -> List[Dict[str, object]]:
        """Scores every item (title hits count triple, then body hits), best first, ties by id."""
        toks = tokens(query)
        scored = []
        for item in self.items:
            title, body = tokens(str(item["title"])), tokens(str(item["body"]))
            score = sum(3 * title.count(t) + body.count(t) for t in toks)
            if score:
                scored.append((-score, item["id"], item))
        scored.sort(key=lambda s: (s[0], s[1]))
        return [dict(s[2], score=-s[0]) for s in scored[:limit]]

    def search_boolean(self, all_terms: List[str], any_terms: List[str], none_terms: List[str],
                       limit: int) -> List[Dict[str, object]]:
        """Items holding every `all` term, at least one `any` term (when given) and no `none` term."""
        every = set(range(len(self.items)))
        hits = every
        for t in (tok for term in all_terms for tok in tokens(term)):
            hits = hits & self.index.get(t, set())
        if any_terms:
            hits = hits & set().union(*(self.index.get(tok, set()) for term in any_terms for tok in tokens(term)))
        for t in (tok for term in none_terms for tok in tokens(term)):
            hits = hits - self.index.get(t, set())
        return [self.items[p] for p in sorted(hits)[:limit]]

    def search_index(self, query: str, limit: int) -> List[Dict[str, object]]:
        """AND of all query tokens through the inverted index."""
        toks = tokens(query)
        if not toks:
            return []
        hits = set.intersection(*(self.index.get(t, set()) for t in toks))
        return [self.items[p] for p in sorted(hits)[:limit]]

    def search_scan(self, query: str, limit: int) -> List[Dict[str, object]]:
        """Fallback: tokenise and scan every article (slower, same answers)."""
        toks = set(tokens(query))
        if not toks:
            return []
        out = []
        for item in self.items:
            if toks <= set(tokens(f"{item['title']} {item['body']}")):
                out.append(item)
                if len(out) >= limit:
                    break
        return out
