# Copyright: (c) 2026, deploysafe.preflight contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a server-side apply would change in one object: the live object against the server's dry-run
answer, both normalised (server bookkeeping and status dropped, Secret values redacted), classified as
create / update / unchanged, and a unified diff of their YAML that leaves out what the server defaulted
the same way on both sides. Pure functions on dicts: no API calls."""

from __future__ import annotations

import copy
import difflib
from typing import Any, Dict, List, Optional, Tuple

CREATE, UPDATE, UNCHANGED = "create", "update", "unchanged"
# Written by the API server on every write, or derived from the rest: never a change the release makes.
SERVER_METADATA = ("managedFields", "resourceVersion", "generation", "uid", "creationTimestamp", "selfLink")
LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"
REDACTED, REDACTED_OLD, REDACTED_NEW = "<redacted>", "<redacted: old value>", "<redacted: new value>"
_ABSENT = object()


def normalise(obj: Optional[Dict[str, Any]]) -> Optional[Dict[str, Any]]:
    """A copy of obj without status and the server's bookkeeping metadata (None stays None)."""
    if obj is None:
        return None
    out = copy.deepcopy(obj)
    out.pop("status", None)
    meta = out.get("metadata") or {}
    for key in SERVER_METADATA:
        meta.pop(key, None)
    for key in ("annotations", "labels"):
        if key in meta and not meta[key]:
            del meta[key]  # an empty map and an absent one are the same object to the API server
    return out


def redact_secrets(before: Optional[Dict[str, Any]], after: Optional[Dict[str, Any]]) -> None:
    """Replace the values of a Secret (data, stringData, and kubectl's last-applied copy of them) in place,
    keeping whether each one changes: a diff report must say that a key changes, never to what."""
    obj = after if after is not None else before
    if not obj or obj.get("kind") != "Secret":
        return
    pairs = [(before, after, field) for field in ("data", "stringData")]
    for b_map, a_map, field in pairs:
        _redact_map((b_map or {}).get(field), (a_map or {}).get(field))
    _redact_map(((before or {}).get("metadata") or {}).get("annotations"),
                ((after or {}).get("metadata") or {}).get("annotations"), only=LAST_APPLIED)


def _redact_map(before: Optional[Dict[str, Any]], after: Optional[Dict[str, Any]], only: Optional[str] = None) -> None:
    before = before if isinstance(before, dict) else {}
    after = after if isinstance(after, dict) else {}
    for key in set(before) | set(after):
        if only is not None and key != only:
            continue
        same = before.get(key, _ABSENT) == after.get(key, _ABSENT)
        if key in before:
            before[key] = REDACTED if same else REDACTED_OLD
        if key in after:
            after[key] = REDACTED if same else REDACTED_NEW


def classify(live: Optional[Dict[str, Any]], planned: Dict[str, Any]) -> str:
    """create / update / unchanged for normalised live and dry-run objects."""
    if live is None:
        return CREATE
    return UNCHANGED if live == planned else UPDATE


def prune_defaults(before: Any, after: Any, manifest: Any) -> Tuple[Any, Any]:
    """(before, after) without the map entries the manifest does not set and that are equal on both sides:
    the server's defaults (strategy, terminationMessagePath, ...) and annotations of other controllers.
    What the manifest sets stays as context; lists are compared element by element when their lengths match."""
    if isinstance(before, dict) and isinstance(after, dict):
        spec = manifest if isinstance(manifest, dict) else {}
        out_b: Dict[str, Any] = {}
        out_a: Dict[str, Any] = {}
        for key in list(before) + [k for k in after if k not in before]:
            b, a = before.get(key, _ABSENT), after.get(key, _ABSENT)
            if key not in spec and b == a:
                continue
            if b is not _ABSENT and a is not _ABSENT:
                b, a = prune_defaults(b, a, spec.get(key))
            if b is not _ABSENT:
                out_b[key] = b
            if a is not _ABSENT:
                out_a[key] = a
        return out_b, out_a
    if isinstance(before, list) and isinstance(after, list) and len(before) == len(after):
        specs = manifest if isinstance(manifest, list) and len(manifest) == len(before) else [None] * len(before)
        pairs = [prune_defaults(b, a, s) for b, a, s in zip(before, after, specs)]
        return [p[0] for p in pairs], [p[1] for p in pairs]
    return before, after


def to_yaml(obj: Optional[Dict[str, Any]]) -> str:
    if obj is None:
        return ""
    import yaml
    return yaml.safe_dump(obj, sort_keys=True, default_flow_style=False, width=120)


def unified_diff(ref: str, before: Optional[Dict[str, Any]], after: Optional[Dict[str, Any]], context: int = 3) -> str:
    """A unified diff of the YAML of before (live) and after (dry-run); empty when they are equal."""
    lines = difflib.unified_diff(to_yaml(before).splitlines(keepends=True), to_yaml(after).splitlines(keepends=True),
                                 fromfile=f"{ref} (live)" if before is not None else "/dev/null",
                                 tofile=f"{ref} (dry-run)", n=context)
    return "".join(line if line.endswith("\n") else line + "\n" for line in lines)


def compare(ref: str, live: Optional[Dict[str, Any]], dry_run: Dict[str, Any], manifest: Dict[str, Any]
            ) -> Dict[str, Any]:
    """{action, diff, before, after} for one object: live (None when absent) against the server's dry-run
    answer. before/after are normalised, redacted and, for an update, pruned of equal defaults."""
    before, after = normalise(live), normalise(dry_run)
    redact_secrets(before, after)
    action = classify(before, after)
    if action == UPDATE:
        before, after = prune_defaults(before, after, manifest)
    diff = "" if action == UNCHANGED else unified_diff(ref, before, after)
    return {"action": action, "diff": diff, "before": before, "after": after}


def changed_paths(before: Any, after: Any, prefix: str = "") -> List[str]:
    """Dotted paths where before and after differ (list elements as [i]); for summaries."""
    if isinstance(before, dict) and isinstance(after, dict):
        out: List[str] = []
        for key in sorted(set(before) | set(after), key=str):
            path = f"{prefix}.{key}" if prefix else str(key)
            out += changed_paths(before.get(key, _ABSENT), after.get(key, _ABSENT), path)
        return out
    if isinstance(before, list) and isinstance(after, list) and len(before) == len(after):
        return [p for i, (b, a) in enumerate(zip(before, after)) for p in changed_paths(b, a, f"{prefix}[{i}]")]
    return [] if before == after else [prefix]
