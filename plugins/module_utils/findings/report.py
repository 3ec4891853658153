# Copyright: (c) 2026, deploysafe.preflight contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The tail every validator shares: ingest SARIF, apply exemptions, decide (findings.decide), write the
reports and build the verdict of the evidence contract."""

from __future__ import annotations

import datetime
from typing import Any, Callable, Dict, Iterable, List, Optional, Sequence

from ansible_collections.deploysafe.preflight.plugins.module_utils.findings import (
    Check, Coverage, Finding, Outcome, counts_by_severity, decide, sort_findings,
)
from ansible_collections.deploysafe.preflight.plugins.module_utils.findings.exemptions import (
    EXPIRED, apply_exemptions, load_exemptions,
)
from ansible_collections.deploysafe.preflight.plugins.module_utils.findings.render import FORMATS, write_reports
from ansible_collections.deploysafe.preflight.plugins.module_utils.findings.sarif_ingest import load_sarif
from ansible_collections.deploysafe.preflight.plugins.module_utils.verdict import (
    FAIL_ON, PASS, artifact, make_verdict, measurement,
)


def outcome_measurements(outcome: Outcome, coverage: Optional[Coverage]) -> List[Dict[str, Any]]:
    """The measurements behind an outcome: what was examined (the evidence a pass stands on), how many
    findings fail the gate (threshold 0) and how many inputs could not be examined (no threshold: that is
    pending, not fail)."""
    meas: List[Dict[str, Any]] = []
    if coverage is not None and coverage.count is not None:
        meas.append(measurement(coverage.name, coverage.count, coverage.unit))
    meas.append(measurement("findings_at_or_above_threshold", len(outcome.failing), "findings", 0, "<="))
    if outcome.undecided:
        meas.append(measurement("inputs_not_examined", len(outcome.undecided), "inputs"))
    return meas


def findings_verdict(findings: Sequence[Finding], threshold: str, subject: str, *, scanned: Optional[int] = None,
                     coverage: Optional[Coverage] = None, report_paths: Iterable[str] = (),
                     measurements: Iterable[Dict[str, Any]] = (), outcome: Optional[Outcome] = None,
                     artifacts: Iterable[Dict[str, Any]] = ()) -> Dict[str, Any]:
    """Verdict from findings (see findings.decide): fail when a non-exempted finding fails the gate, pending
    when nothing was examined or an input could not be, else pass. evidence.findings counts by severity;
    evidence.measurements holds the caller's measurements, then the coverage (files_scanned,
    objects_checked...) and the finding counts; evidence.artifacts the caller's artifacts, then the reports."""
    if coverage is None:
        coverage = Coverage("items_scanned", scanned, "items")
    outcome = outcome or decide(findings, threshold, subject, coverage)
    active = [f for f in findings if not f.exempted_by]
    evidence_counts = dict(counts_by_severity(active))
    evidence_counts["exempted"] = len(findings) - len(active)
    meas = list(measurements) + outcome_measurements(outcome, coverage)
    return make_verdict(outcome.status, outcome.summary,
                        artifacts=list(artifacts) + [artifact(p, kind="findings-report") for p in report_paths],
                        findings=evidence_counts, measurements=meas)


def finish_scan(findings: List[Finding], checks: Sequence[Check], subject: str, *, threshold: str = "high",
                exemptions_file: Optional[str] = None, sarif_inputs: Iterable[str] = (),
                report_dir: Optional[str] = None, report_basename: str = "findings",
                report_formats: Iterable[str] = FORMATS, scanned: Optional[int] = None,
                coverage: Optional[Coverage] = None, measurements: Iterable[Dict[str, Any]] = (),
                today: Optional[datetime.date] = None, gate_on: Optional[Callable[[Finding], bool]] = None,
                artifacts: Iterable[Dict[str, Any]] = ()) -> Dict[str, Any]:
    """Ingest, exempt, decide, report. Returns the module result keys shared by every validator:
    findings, passed, counts, exempted, reports, changed (a report was written), verdict.

    coverage says what was examined (or scanned, a plain count of items); without either the verdict
    cannot be a pass. gate_on, when given, says which findings may decide the verdict (a diff against a
    baseline gates on the new ones only); the others are still reported. artifacts (artifact() entries)
    join the reports in the verdict's evidence. Raises FindingsError on bad inputs."""
    findings = list(findings)
    for path in sarif_inputs:
        findings.extend(load_sarif(path))
    findings, exempted = apply_exemptions(findings, load_exemptions(exemptions_file), today=today)
    findings = sort_findings(findings)
    if coverage is None:
        coverage = Coverage("items_scanned", scanned, "items")
    outcome = decide([f for f in findings if gate_on(f)] if gate_on else findings, threshold, subject, coverage)
    all_checks = list(checks) + [EXPIRED]
    paths: List[str] = []
    written: List[str] = []
    if report_dir:
        paths, written = write_reports(findings, all_checks, threshold, report_dir, report_basename,
                                       list(report_formats), title=f"{subject} findings", outcome=outcome)
    verdict = findings_verdict(findings, threshold, subject, coverage=coverage, report_paths=paths,
                               measurements=measurements, outcome=outcome, artifacts=artifacts)
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
        fail_on=dict(type="str", default="fail", choices=list(FAIL_ON)),
    )
