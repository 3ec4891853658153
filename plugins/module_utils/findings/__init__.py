# Copyright: (c) 2026, deploysafe.preflight contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""One findings model for every validator (image, manifests, repository, ingested SARIF).

A Finding says which check fired (check_id), how bad it is (severity), where (Location: file and line,
JSON pointer inside a document, or image layer), what to do about it (remediation) and, for secrets,
only a redacted preview of the evidence. Renderers (render.py) turn a list of findings into JSON,
SARIF 2.1.0, JUnit XML and Markdown; they are views of this model, not separate code paths.

decide() is the one place that turns findings into pass, fail or pending; the verdict and every report
take its Outcome, so no report can call green what the verdict calls pending.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any, Dict, Iterable, List, Optional

from ansible_collections.deploysafe.preflight.plugins.module_utils.errors import PreflightError
from ansible_collections.deploysafe.preflight.plugins.module_utils.verdict import FAIL, PASS, PENDING

SEVERITIES = ("info", "low", "medium", "high", "critical")
_RANK = {name: rank for rank, name in enumerate(SEVERITIES)}
# How a finding gates, besides its severity:
#   ""        the severity threshold decides (most checks);
#   "fail"    a limit the user set (a size budget): fails the verdict at any severity threshold;
#   "pending" the scanner could not examine an input (unreadable file): the verdict cannot be a pass,
#             and is pending unless something else fails. An exemption (or excluding the input) lifts both.
GATES = ("", FAIL, PENDING)


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
    gate: str = ""


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
    gate: str = ""

    def __post_init__(self) -> None:
        severity_rank(self.severity)
        if self.gate not in GATES:
            raise FindingsError(f"unknown gate {self.gate!r} for {self.check_id}; use one of {GATES}")
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
        if self.gate:
            data["gate"] = self.gate
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
                   exempted_by=data.get("exempted_by"), gate=str(data.get("gate") or ""))


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
                   evidence_redacted=evidence_redacted, fingerprint=fingerprint, gate=check.gate)


def counts_by_severity(findings: Iterable[Finding]) -> Dict[str, int]:
    counts = {name: 0 for name in SEVERITIES}
    for f in findings:
        counts[f.severity] += 1
    return counts


def at_or_above(findings: Iterable[Finding], threshold: str) -> List[Finding]:
    """Findings whose severity is >= threshold."""
    limit = severity_rank(threshold)
    return [f for f in findings if severity_rank(f.severity) >= limit]


def failing(findings: Iterable[Finding], threshold: str) -> List[Finding]:
    """Non-exempted findings that fail the verdict: over a user-set limit (gate fail) at any severity,
    else at or above threshold. A could-not-decide finding (gate pending) never fails, it is undecided."""
    limit = severity_rank(threshold)
    return [f for f in findings if not f.exempted_by and f.gate != PENDING
            and (f.gate == FAIL or severity_rank(f.severity) >= limit)]


def undecided(findings: Iterable[Finding]) -> List[Finding]:
    """Non-exempted findings saying an input could not be examined (gate pending)."""
    return [f for f in findings if not f.exempted_by and f.gate == PENDING]


@dataclass
class Coverage:
    """What a scan examined: the measurement a pass stands on. count 0 (nothing examined) is pending, and
    so is None (nobody said what was examined). note explains an empty scan (for example "3 objects read,
    none of a kind with a schema")."""

    name: str
    count: Optional[int]
    unit: str
    note: str = ""


@dataclass
class Outcome:
    """The decision over a set of findings, shared by the verdict and every report."""

    status: str
    summary: str
    failing: List[Finding] = field(default_factory=list)
    undecided: List[Finding] = field(default_factory=list)
    reason: str = ""  # why the status is pending ("" otherwise)


def decide(findings: Iterable[Finding], threshold: str, subject: str = "scan",
           coverage: Optional[Coverage] = None) -> Outcome:
    """fail when a non-exempted finding fails the gate (at or above threshold, or over a user-set limit);
    else pending when nothing was examined (coverage count 0 or unknown) or an input could not be examined;
    else pass. Without coverage (a report rendered on its own) only the findings decide."""
    findings = list(findings)
    bad = failing(findings, threshold)
    unsure = undecided(findings)
    reason = ""
    if bad:
        over_limit = sum(1 for f in bad if f.gate == FAIL and severity_rank(f.severity) < severity_rank(threshold))
        status, text = FAIL, f"{len(bad)} finding(s) at or above {threshold}"
        if over_limit:
            text = f"{len(bad)} finding(s) fail the gate ({len(bad) - over_limit} at or above {threshold}, " \
                   f"{over_limit} over a limit you set)"
    elif coverage is not None and not coverage.count:
        what = f"0 {coverage.unit}" if coverage.count == 0 else f"{coverage.name} unknown"
        reason = f"nothing was scanned ({what})" + (f": {coverage.note}" if coverage.note else "")
        status, text = PENDING, reason
    elif unsure:
        reason = f"could not decide: {len(unsure)} input(s) could not be examined ({unsure[0].message}" \
                 + (", ..." if len(unsure) > 1 else "") + ")"
        status, text = PENDING, reason
    else:
        status, text = PASS, f"no finding at or above {threshold}"
    active = [f for f in findings if not f.exempted_by]
    below = len(active) - len(bad) - len(unsure)
    exempted = len(findings) - len(active)
    if below or exempted:
        text += f" ({below} below threshold, {exempted} exempted)"
    return Outcome(status, f"{subject}: {text}", bad, unsure, reason)


def sort_findings(findings: Iterable[Finding]) -> List[Finding]:
    return sorted(findings, key=lambda f: (-severity_rank(f.severity), f.location.file, f.location.line or 0,
                                           f.location.pointer, f.check_id))
