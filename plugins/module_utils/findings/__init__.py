# Copyright: (c) 2026, deploysafe.preflight contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""One findings model for every validator (image, manifests, repository, ingested SARIF).

A Finding says which check fired (check_id), how bad it is (severity), where (Location: file and line,
JSON pointer inside a document, or image layer), what to do about it (remediation) and, for secrets,
only a redacted preview of the evidence. Renderers (render.py) turn a list of findings into JSON,
SARIF 2.1.0, JUnit XML and Markdown; they are views of this model, not separate code paths.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any, Dict, Iterable, List, Optional

from ..errors import PreflightError

SEVERITIES = ("info", "low", "medium", "high", "critical")
_RANK = {name: rank for rank, name in enumerate(SEVERITIES)}


class FindingsError(PreflightError):
    """Bad findings input: unreadable exemptions file, malformed SARIF, unknown severity."""


def severity_rank(severity: str) -> int:
    if severity not in _RANK:
        raise FindingsError(f"unknown severity {severity!r}; use one of {', '.join(SEVERITIES)}")
    return _RANK[severity]


@dataclass(frozen=True)
class Check:
    """A check a validator can run: its id, default severity, one-line title and the usual fix."""

    check_id: str
    severity: str
    title: str
    remediation: str = ""


@dataclass
class Location:
    """Where a finding is: a file (relative path), line/column, a JSON pointer or an image layer."""

    file: str = ""
    line: Optional[int] = None
    column: Optional[int] = None
    pointer: str = ""
    layer: str = ""

    def to_dict(self) -> Dict[str, Any]:
        return {k: v for k, v in (("file", self.file), ("line", self.line), ("column", self.column),
                                  ("pointer", self.pointer), ("layer", self.layer)) if v not in (None, "")}

    def describe(self) -> str:
        text = self.file or "-"
        if self.line:
            text += f":{self.line}" + (f":{self.column}" if self.column else "")
        if self.layer:
            text += f" (layer {self.layer[:19]})"
        if self.pointer:
            text += f" {self.pointer}"
        return text


@dataclass
class Finding:
    """One problem found by one check. evidence_redacted never holds a secret value."""

    check_id: str
    severity: str
    message: str
    location: Location = field(default_factory=Location)
    remediation: str = ""
    evidence_redacted: str = ""
    fingerprint: str = ""
    tool: str = "deploysafe.preflight"
    exempted_by: Optional[Dict[str, Any]] = None

    def __post_init__(self) -> None:
        severity_rank(self.severity)
        if not self.fingerprint:
            self.fingerprint = finding_fingerprint(self)

    def to_dict(self) -> Dict[str, Any]:
        data: Dict[str, Any] = {
            "check_id": self.check_id, "severity": self.severity, "message": self.message,
            "location": self.location.to_dict(), "remediation": self.remediation,
            "evidence_redacted": self.evidence_redacted, "fingerprint": self.fingerprint, "tool": self.tool,
        }
        if self.exempted_by:
            data["exempted_by"] = self.exempted_by
        return data

    @classmethod
    def from_dict(cls, data: Dict[str, Any]) -> "Finding":
        loc = data.get("location") or {}
        return cls(check_id=str(data["check_id"]), severity=str(data.get("severity", "medium")),
                   message=str(data.get("message", "")),
                   location=Location(file=loc.get("file", ""), line=loc.get("line"), column=loc.get("column"),
                                     pointer=loc.get("pointer", ""), layer=loc.get("layer", "")),
                   remediation=data.get("remediation", ""), evidence_redacted=data.get("evidence_redacted", ""),
                   fingerprint=data.get("fingerprint", ""), tool=data.get("tool", "deploysafe.preflight"),
                   exempted_by=data.get("exempted_by"))


def finding_fingerprint(finding: Finding) -> str:
    """Stable id of a finding (check, place, evidence): survives message rewording, not moves."""
    loc = finding.location
    key = "\0".join([finding.check_id, loc.file, loc.pointer, loc.layer, finding.evidence_redacted,
                     "" if loc.pointer or finding.evidence_redacted else str(loc.line or "")])
    return hashlib.sha256(key.encode("utf-8", "surrogateescape")).hexdigest()[:16]


def make_finding(check: Check, message: str, location: Optional[Location] = None, *,
                 severity: Optional[str] = None, evidence_redacted: str = "", fingerprint: str = "") -> Finding:
    """A Finding for a catalogued check, taking severity and remediation from the catalogue."""
    return Finding(check_id=check.check_id, severity=severity or check.severity, message=message,
                   location=location or Location(), remediation=check.remediation,
                   evidence_redacted=evidence_redacted, fingerprint=fingerprint)


def counts_by_severity(findings: Iterable[Finding]) -> Dict[str, int]:
    counts = {name: 0 for name in SEVERITIES}
    for f in findings:
        counts[f.severity] += 1
    return counts


def at_or_above(findings: Iterable[Finding], threshold: str) -> List[Finding]:
    """Findings whose severity is >= threshold: the ones that fail the gate."""
    limit = severity_rank(threshold)
    return [f for f in findings if severity_rank(f.severity) >= limit]


def sort_findings(findings: Iterable[Finding]) -> List[Finding]:
    return sorted(findings, key=lambda f: (-severity_rank(f.severity), f.location.file, f.location.line or 0,
                                           f.location.pointer, f.check_id))
