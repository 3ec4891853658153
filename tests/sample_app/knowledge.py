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


class KnowledgeBase:
    """Articles 1..size, deterministic for a given seed so tests can predict hits."""

    def __init__(self, size: int = 1000, seed: int = 7):
        rng = random.Random(seed)
        self.items: List[Dict[str, object]] = []
        for i in range(1, size + 1):
            topic, other, verb = rng.choice(TOPICS), rng.choice(TOPICS), rng.choice(VERBS)
            title = f"How to {verb} {topic} for {other}"
            body = (f"Article {i}: steps to {verb} {topic} when {other} changes. "
                    f"See also {rng.choice(TOPICS)} and {rng.choice(TOPICS)}.")
            self.items.append({"id": i, "title": title, "body": body})
        self.index: Dict[str, Set[int]] = {}
        for pos, item in enumerate(self.items):
            for tok in set(tokens(f"{item['title']} {item['body']}")):
                self.index.setdefault(tok, set()).add(pos)

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
