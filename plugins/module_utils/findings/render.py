# Copyright: (c) 2026, deploysafe.preflight contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Renderers of the findings model: JSON, SARIF 2.1.0, JUnit XML, Markdown.

Every renderer takes the same inputs (findings, the check catalogue, the threshold and the Outcome of
findings.decide) so the four reports and the verdict always agree. Exempted findings are kept in the
reports, marked as suppressed. A pending outcome is never shown as passed or skipped: JUnit reports it as a
failure with the reason.
"""

from __future__ import annotations

import json
import os
from typing import Dict, Iterable, List, Optional, Sequence, Tuple

from ansible_collections.deploysafe.preflight.plugins.module_utils.findings import (
    SEVERITIES, Check, Finding, Outcome, counts_by_severity, decide, sort_findings,
)
from ansible_collections.deploysafe.preflight.plugins.module_utils.markup import md_code, md_inline, xml_attr, xml_text
from ansible_collections.deploysafe.preflight.plugins.module_utils.verdict import FAIL, PASS, PENDING, atomic_write_bytes

SARIF_SCHEMA = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
TOOL_NAME = "deploysafe.preflight"
TOOL_URI = "https://example.invalid/deploysafe/preflight"
FORMATS = ("json", "sarif", "junit", "markdown")
EXTENSIONS = {"json": "json", "sarif": "sarif", "junit": "junit.xml", "markdown": "md"}
# SARIF has three result levels; severity survives in properties and as GitHub's security-severity.
_SARIF_LEVEL = {"critical": "error", "high": "error", "medium": "warning", "low": "note", "info": "note"}
_SECURITY_SEVERITY = {"critical": "9.5", "high": "8.0", "medium": "5.5", "low": "2.0", "info": "0.0"}


def render_json(findings: Sequence[Finding], threshold: str, tool: str = TOOL_NAME,
                outcome: Optional[Outcome] = None) -> str:
    outcome = outcome or decide(findings, threshold)
    active = [f for f in findings if not f.exempted_by]
    doc = {
        "tool": tool, "threshold": threshold, "status": outcome.status, "summary": outcome.summary,
        "passed": outcome.status == PASS,
        "counts": counts_by_severity(active),
        "exempted": sum(1 for f in findings if f.exempted_by),
        "findings": [f.to_dict() for f in sort_findings(findings)],
    }
    return json.dumps(doc, indent=2, sort_keys=True) + "\n"


def _rules_for(findings: Sequence[Finding], checks: Iterable[Check]) -> List[Check]:
    known = {c.check_id: c for c in checks}
    for f in findings:
        if f.check_id not in known:
            known[f.check_id] = Check(f.check_id, f.severity, f.check_id, f.remediation)
    return [known[k] for k in sorted(known)]


def _sarif_result(f: Finding, rule_index: int) -> Dict:
    loc = f.location
    result: Dict = {
        "ruleId": f.check_id, "ruleIndex": rule_index, "level": _SARIF_LEVEL[f.severity],
        "message": {"text": f.message},
        "partialFingerprints": {"deploysafeFinding/v1": f.fingerprint},
        "properties": {"severity": f.severity, "security-severity": _SECURITY_SEVERITY[f.severity]},
    }
    for key, value in (("remediation", f.remediation), ("evidenceRedacted", f.evidence_redacted),
                       ("jsonPointer", loc.pointer), ("imageLayer", loc.layer), ("gate", f.gate)):
        if value:
            result["properties"][key] = value
    if loc.file:
        physical: Dict = {"artifactLocation": {"uri": loc.file.replace(os.sep, "/")}}
        if loc.line and loc.line >= 1:
            physical["region"] = {"startLine": int(loc.line)}
            if loc.column and loc.column >= 1:
                physical["region"]["startColumn"] = int(loc.column)
        location: Dict = {"physicalLocation": physical}
        if loc.pointer or loc.layer:
            location["logicalLocations"] = [{"fullyQualifiedName": loc.layer + loc.pointer,
                                             "kind": "object" if loc.pointer else "module"}]
        result["locations"] = [location]
    if f.exempted_by:
        result["suppressions"] = [{"kind": "external", "status": "accepted",
                                   "justification": f"{f.exempted_by.get('reason', '')} "
                                                    f"(owner {f.exempted_by.get('owner', '?')}, "
                                                    f"expires {f.exempted_by.get('expires', '?')})"}]
    return result


def render_sarif(findings: Sequence[Finding], checks: Iterable[Check] = (), tool: str = TOOL_NAME,
                 version: str = "0.1.0") -> str:
    """SARIF 2.1.0 log: one run for our findings, one more per ingested external tool."""
    by_tool: Dict[str, List[Finding]] = {}
    for f in sort_findings(findings):
        by_tool.setdefault(f.tool or tool, []).append(f)
    by_tool.setdefault(tool, [])
    checks = list(checks)
    runs = []
    for name in sorted(by_tool, key=lambda n: (n != tool, n)):
        items = by_tool[name]
        rules = _rules_for(items, checks if name == tool else ())
        index = {r.check_id: i for i, r in enumerate(rules)}
        driver: Dict = {"name": name, "rules": [{
            "id": r.check_id, "name": r.check_id.replace(".", "_").replace("-", "_"),
            "shortDescription": {"text": r.title or r.check_id},
            "help": {"text": r.remediation or r.title or r.check_id},
            "defaultConfiguration": {"level": _SARIF_LEVEL.get(r.severity, "warning")},
            "properties": {"severity": r.severity, "security-severity": _SECURITY_SEVERITY.get(r.severity, "5.5")},
        } for r in rules]}
        if name == tool:
            driver.update(version=version, informationUri=TOOL_URI)
        runs.append({"tool": {"driver": driver}, "columnKind": "unicodeCodePoints",
                     "results": [_sarif_result(f, index[f.check_id]) for f in items]})
    return json.dumps({"$schema": SARIF_SCHEMA, "version": "2.1.0", "runs": runs}, indent=2) + "\n"


def render_junit(findings: Sequence[Finding], checks: Iterable[Check], threshold: str, suite: str = TOOL_NAME,
                 outcome: Optional[Outcome] = None) -> str:
    """One testcase per check: failure when a non-exempted finding fails the gate or an input could not be
    examined; skipped only when every finding of the check is exempted. A pending outcome adds a failing
    testcase `verdict` with the reason, so a scan that decided nothing never reads as green."""
    outcome = outcome or decide(findings, threshold)
    fails = {id(f) for f in outcome.failing}
    unsure = {id(f) for f in outcome.undecided}
    per_check: Dict[str, List[Finding]] = {c.check_id: [] for c in checks}
    for f in sort_findings(findings):
        per_check.setdefault(f.check_id, []).append(f)
    cases, failures, skipped = [], 0, 0
    for check_id in sorted(per_check):
        items = per_check[check_id]
        failing = [f for f in items if id(f) in fails]
        pending = [f for f in items if id(f) in unsure]
        body = ""
        if failing or pending:
            failures += 1
            parts = [f"{len(failing)} finding(s) fail the gate (threshold {threshold})"] if failing else []
            parts += [f"pending: {len(pending)} input(s) could not be examined"] if pending else []
            text = "\n".join(f"[{f.severity}] {f.location.describe()}: {f.message}" for f in failing + pending)
            body = f'<failure message={xml_attr("; ".join(parts))} ' \
                   f'type="{xml_text(check_id)}">{xml_text(text)}</failure>'
        elif items and all(f.exempted_by for f in items):
            skipped += 1
            body = f'<skipped message={xml_attr(f"{len(items)} finding(s) exempted")}/>'
        others = [f for f in items if id(f) not in fails and id(f) not in unsure]
        if others:
            body += "<system-out>" + xml_text("\n".join(
                f"[{f.severity}{', exempted' if f.exempted_by else ''}] {f.location.describe()}: {f.message}"
                for f in others)) + "</system-out>"
        cases.append(f'  <testcase classname={xml_attr(suite)} name={xml_attr(check_id)}>{body}</testcase>')
    if outcome.status == PENDING:
        failures += 1
        cases.append(f'  <testcase classname={xml_attr(suite)} name="verdict"><failure '
                     f'message={xml_attr("pending: " + outcome.reason)} type="pending">'
                     f'{xml_text(outcome.summary)}</failure></testcase>')
    head = (f'<testsuite name={xml_attr(suite)} tests="{len(cases)}" failures="{failures}" errors="0" '
            f'skipped="{skipped}">')
    return '<?xml version="1.0" encoding="UTF-8"?>\n<testsuites>\n' + head + "\n" + "\n".join(cases) + \
        "\n</testsuite>\n</testsuites>\n"


def render_markdown(findings: Sequence[Finding], threshold: str, title: str = "Findings",
                    outcome: Optional[Outcome] = None) -> str:
    outcome = outcome or decide(findings, threshold)
    counts = counts_by_severity(f for f in findings if not f.exempted_by)
    head = f"{len(outcome.failing)} finding(s) fail the gate at `{threshold}`" if outcome.status == FAIL else \
        f"{md_inline(outcome.reason)}" if outcome.status == PENDING else f"0 finding(s) at or above `{threshold}`"
    lines = [f"# {title}", "",
             f"**{outcome.status.upper()}** — {head}; "
             + ", ".join(f"{counts[s]} {s}" for s in reversed(SEVERITIES)) + ".", ""]
    if findings:
        lines += ["| Severity | Check | Location | Message | Remediation |", "|---|---|---|---|---|"]
        for f in sort_findings(findings):
            sev = f.severity + (" (exempted)" if f.exempted_by else "")
            msg = f.message + (f" `{f.evidence_redacted}`" if f.evidence_redacted else "")
            lines.append(f"| {sev} | {md_code(f.check_id)} | {md_inline(f.location.describe())} | {md_inline(msg)} | {md_inline(f.remediation)} |")
    else:
        lines.append("No findings.")
    return "\n".join(lines) + "\n"


def write_reports(findings: Sequence[Finding], checks: Iterable[Check], threshold: str, out_dir: str,
                  basename: str = "findings", formats: Iterable[str] = FORMATS,
                  title: Optional[str] = None, outcome: Optional[Outcome] = None) -> Tuple[List[str], List[str]]:
    """Write the requested reports to out_dir/<basename>.<ext> atomically, leaving files that already
    hold the same text alone (reports carry no timestamp, so a re-run changes nothing).
    Returns (all report paths, paths actually written)."""
    checks = list(checks)
    outcome = outcome or decide(findings, threshold)
    os.makedirs(out_dir, exist_ok=True)
    paths: List[str] = []
    changed: List[str] = []
    for fmt in formats:
        if fmt == "json":
            text = render_json(findings, threshold, outcome=outcome)
        elif fmt == "sarif":
            text = render_sarif(findings, checks)
        elif fmt == "junit":
            text = render_junit(findings, checks, threshold, suite=basename, outcome=outcome)
        elif fmt == "markdown":
            text = render_markdown(findings, threshold, title or basename, outcome=outcome)
        else:
            raise ValueError(f"unknown report format {fmt!r}; use {', '.join(FORMATS)}")
        path = os.path.join(out_dir, f"{basename}.{EXTENSIONS[fmt]}")
        data = text.encode("utf-8")
        if not _same_content(path, data):
            atomic_write_bytes(path, data, mode=0o644)
            changed.append(path)
        paths.append(path)
    return paths, changed


def _same_content(path: str, data: bytes) -> bool:
    try:
        with open(path, "rb") as handle:
            return handle.read() == data
    except OSError:
        return False
