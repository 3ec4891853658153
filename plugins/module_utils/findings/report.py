# Copyright: (c) 2026, deploysafe.preflight contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The tail every validator shares: ingest SARIF, apply exemptions, gate on severity, write the
reports and build the verdict of the evidence contract."""

from __future__ import annotations

import datetime
from typing import Any, Dict, Iterable, List, Optional, Sequence

from ansible_collections.deploysafe.preflight.plugins.module_utils.findings import (
    Check, Finding, at_or_above, counts_by_severity, severity_rank, sort_findings,
)
from ansible_collections.deploysafe.preflight.plugins.module_utils.findings.exemptions import (
    EXPIRED, apply_exemptions, load_exemptions,
)
from ansible_collections.deploysafe.preflight.plugins.module_utils.findings.render import FORMATS, write_reports
from ansible_collections.deploysafe.preflight.plugins.module_utils.findings.sarif_ingest import load_sarif
from ansible_collections.deploysafe.preflight.plugins.module_utils.verdict import (
    FAIL, PASS, PENDING, artifact, make_verdict, measurement,
)


def findings_verdict(findings: Sequence[Finding], threshold: str, subject: str, *, scanned: Optional[int] = None,
                     report_paths: Iterable[str] = (), measurements: Iterable[Dict[str, Any]] = ()) -> Dict[str, Any]:
    """Verdict from findings: fail when a non-exempted finding reaches threshold, pending when nothing
    was scanned (no data is never a pass), else pass. evidence.findings counts by severity."""
    severity_rank(threshold)
    active = [f for f in findings if not f.exempted_by]
    counts = counts_by_severity(active)
    failing = at_or_above(active, threshold)
    exempted = len(findings) - len(active)
    if failing:
        status = FAIL
        summary = f"{subject}: {len(failing)} finding(s) at or above {threshold}"
    elif scanned == 0:
        status = PENDING
        summary = f"{subject}: nothing was scanned"
    else:
        status = PASS
        summary = f"{subject}: no finding at or above {threshold}"
    below = len(active) - len(failing)
    if below or exempted:
        summary += f" ({below} below threshold, {exempted} exempted)"
    evidence_counts = dict(counts)
    evidence_counts["exempted"] = exempted
    meas = list(measurements)
    meas.append(measurement("findings_at_or_above_threshold", len(failing), "findings", 0, "<="))
    return make_verdict(status, summary, artifacts=[artifact(p, kind="findings-report") for p in report_paths],
                        findings=evidence_counts, measurements=meas)


def finish_scan(findings: List[Finding], checks: Sequence[Check], subject: str, *, threshold: str = "high",
                exemptions_file: Optional[str] = None, sarif_inputs: Iterable[str] = (),
                report_dir: Optional[str] = None, report_basename: str = "findings",
                report_formats: Iterable[str] = FORMATS, scanned: Optional[int] = None,
                measurements: Iterable[Dict[str, Any]] = (), today: Optional[datetime.date] = None) -> Dict[str, Any]:
    """Ingest, exempt, gate, report. Returns the module result keys shared by every validator:
    findings, passed, counts, exempted, reports, changed (a report was written), verdict.
    Raises FindingsError on bad inputs."""
    findings = list(findings)
    for path in sarif_inputs:
        findings.extend(load_sarif(path))
    findings, exempted = apply_exemptions(findings, load_exemptions(exemptions_file), today=today)
    findings = sort_findings(findings)
    all_checks = list(checks) + [EXPIRED]
    paths: List[str] = []
    written: List[str] = []
    if report_dir:
        paths, written = write_reports(findings, all_checks, threshold, report_dir, report_basename,
                                       list(report_formats), title=f"{subject} findings")
    verdict = findings_verdict(findings, threshold, subject, scanned=scanned, report_paths=paths,
                               measurements=measurements)
    active = [f for f in findings if not f.exempted_by]
    return {
        "findings": [f.to_dict() for f in findings],
        "passed": verdict["status"] == PASS,
        "counts": counts_by_severity(active),
        "exempted": exempted,
        "reports": paths,
        "changed": bool(written),
        "verdict": verdict,
    }


def findings_argument_spec() -> Dict[str, Any]:
    """Options every validator module shares (documented in doc fragment deploysafe.preflight.findings)."""
    return dict(
        severity_threshold=dict(type="str", default="high", choices=["info", "low", "medium", "high", "critical"]),
        exemptions_file=dict(type="path"),
        sarif_inputs=dict(type="list", elements="path", default=[]),
        report_dir=dict(type="path"),
        report_formats=dict(type="list", elements="str", default=list(FORMATS), choices=list(FORMATS)),
    )
