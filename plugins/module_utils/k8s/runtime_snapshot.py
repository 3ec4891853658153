# Copyright: (c) 2026, deploysafe.preflight contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The runtime security snapshot on disk and its diff against the last release's snapshot.

A snapshot is one JSON document: what was inspected, when, in which namespace, and every finding with
its fingerprint (check id + namespace-independent identity, see runtime_checks.fingerprint). Two
snapshots are compared by fingerprint only: `new` findings are in this snapshot and not in the baseline,
`fixed` ones in the baseline and gone now, the rest `unchanged`. Messages may be reworded between
releases without turning a known risk into a new one.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Sequence

from ..findings import Finding, counts_by_severity
from ..verdict import artifact, atomic_write_bytes
from ..files import sha256_file
from . import K8sError

SNAPSHOT_KIND = "deploysafe.preflight/runtime-security-snapshot"
SNAPSHOT_FORMAT = 1


@dataclass
class Baseline:
    """A saved snapshot (the last release's), by fingerprint."""

    path: str
    sha256: str
    namespace: str
    taken_at: str
    findings: Dict[str, Dict[str, Any]] = field(default_factory=dict)

    def describe(self) -> Dict[str, Any]:
        return {"path": self.path, "sha256": self.sha256, "namespace": self.namespace, "taken_at": self.taken_at,
                "findings": len(self.findings)}


@dataclass
class Diff:
    new: List[Finding] = field(default_factory=list)
    unchanged: List[Finding] = field(default_factory=list)
    fixed: List[Dict[str, Any]] = field(default_factory=list)   # the baseline's finding dicts

    @property
    def new_fingerprints(self) -> set:
        return {f.fingerprint for f in self.new}

    def describe(self) -> Dict[str, Any]:
        def brief(d: Dict[str, Any]) -> Dict[str, Any]:
            return {k: d.get(k) for k in ("fingerprint", "check_id", "severity", "message")}
        return {"new": [brief(f.to_dict()) for f in self.new], "fixed": [brief(d) for d in self.fixed],
                "unchanged": len(self.unchanged)}


def load_baseline(path: str) -> Optional[Baseline]:
    """The snapshot at path, or None when there is no file (a first release: every finding is new).
    Raises K8sError naming the file when it is not a runtime security snapshot."""
    try:
        with open(path, "rb") as handle:
            raw = handle.read()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise K8sError(f"cannot read baseline {path}: {exc.strerror or exc}") from None
    try:
        doc = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise K8sError(f"baseline {path} is not JSON: {exc}") from None
    if not isinstance(doc, dict) or doc.get("kind") != SNAPSHOT_KIND:
        raise K8sError(f"baseline {path} is not a runtime security snapshot (kind is not {SNAPSHOT_KIND})")
    items = doc.get("findings")
    if not isinstance(items, list) or not all(isinstance(f, dict) and f.get("fingerprint") and f.get("check_id")
                                              for f in items):
        raise K8sError(f"baseline {path}: findings must be a list of findings with check_id and fingerprint")
    return Baseline(path=path, sha256=sha256_file(path), namespace=str(doc.get("namespace") or ""),
                    taken_at=str(doc.get("taken_at") or ""), findings={f["fingerprint"]: f for f in items})


def diff_findings(findings: Sequence[Finding], baseline: Optional[Baseline]) -> Diff:
    """new / unchanged / fixed by fingerprint. Without a baseline every finding is new."""
    known = baseline.findings if baseline else {}
    current = {f.fingerprint for f in findings}
    return Diff(new=[f for f in findings if f.fingerprint not in known],
                unchanged=[f for f in findings if f.fingerprint in known],
                fixed=[d for fp, d in sorted(known.items()) if fp not in current])


def snapshot_document(namespace: str, taken_at: str, api_server: str, findings: Sequence[Finding],
                      inspected: Dict[str, int], diff: Diff, baseline: Optional[Baseline]) -> Dict[str, Any]:
    """The JSON document saved as the snapshot (findings before exemptions: an exemption is today's
    decision, not a property of the namespace)."""
    return {
        "kind": SNAPSHOT_KIND, "format": SNAPSHOT_FORMAT, "namespace": namespace, "taken_at": taken_at,
        "api_server": api_server, "inspected": dict(inspected),
        "counts": counts_by_severity(findings),
        "findings": [f.to_dict() for f in sorted(findings, key=lambda f: f.fingerprint)],
        "baseline": dict(baseline.describe(), new=len(diff.new), fixed=len(diff.fixed),
                         unchanged=len(diff.unchanged)) if baseline else None,
    }


def write_snapshot(path: str, document: Dict[str, Any]) -> Dict[str, Any]:
    """Write the snapshot atomically (temp name, fsync, rename) and return its artifact entry."""
    directory = os.path.dirname(os.path.abspath(path))
    try:
        os.makedirs(directory, exist_ok=True)
        atomic_write_bytes(path, (json.dumps(document, indent=2, sort_keys=True) + "\n").encode("utf-8"), mode=0o644)
    except OSError as exc:
        raise K8sError(f"cannot write snapshot {path}: {exc.strerror or exc}") from None
    return artifact(path, kind="runtime-snapshot")
