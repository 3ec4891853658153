# Copyright: (c) 2026, deploysafe.preflight contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Text renderers of the one report model: JSON, Markdown and JUnit XML (HTML is in render_html)."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from typing import Any, Dict, List

from ..markup import md_code, md_inline, xml_clean

ICONS = {"pass": "PASS", "fail": "FAIL", "pending": "PENDING"}


def render_json(model: Dict[str, Any]) -> bytes:
    return (json.dumps(model, indent=2, sort_keys=True, default=str) + "\n").encode()


def measurement_text(m: Dict[str, Any]) -> str:
    """'restore_duration 2.4 s (<= 300 s: ok)'."""
    text = f"{m.get('name')} {m.get('value')} {m.get('unit')}"
    if m.get("comparison"):
        text += f" ({m['comparison']} {m.get('threshold')} {m.get('unit')}: {'ok' if m.get('ok') else 'NOT MET'})"
    return text


def findings_text(findings: Dict[str, Any]) -> str:
    return ", ".join(f"{k} {v}" for k, v in sorted(findings.items(), key=lambda kv: str(kv[0]))) or "none"


def status_text(r: Dict[str, Any]) -> str:
    """'PASS', or 'PASS (MANUAL)' for a verdict recorded by hand."""
    return ICONS[r["status"]] + (" (MANUAL)" if r.get("manual") else "")


def release_text(release: Dict[str, Any]) -> str:
    return ", ".join(f"{k} {v}" for k, v in sorted(release.items())) or "unknown"


def decision_line(model: Dict[str, Any]) -> str:
    return f"{model['decision'].upper()} - {model['decision_reason']}"


def signoff_line(s: Dict[str, Any]) -> str:
    if not s["recorded"]:
        return "not recorded"
    words = {"approve": "approved", "reject": "rejected"}.get(s["decision"], str(s["decision"]))
    text = f"{words} by {s['by']} at {s['at']}"
    if s["change_ticket"]:
        text += f", change {s['change_ticket']}"
    if s["comment"]:
        text += f": {s['comment']}"
    if s["override"]:
        text += f" - OVERRIDE (not pass at sign-off: {', '.join(s['not_pass_at_signoff'])}; reason: {s['override_reason']})"
    if s["status"] == "pending":
        text += f" - NOT VALID: {s['reason']}"
    return text


def render_markdown(model: Dict[str, Any]) -> bytes:
    c = model["counts"]
    lines: List[str] = [
        f"# {md_inline(model['title'])}: {model['decision'].upper()}", "",
        f"**Decision: {model['decision'].upper()}** - {md_inline(model['decision_reason'])}", "",
        f"- Items: {c['pass']} pass, {c['fail']} fail, {c['pending']} pending of {c['total']}"
        f" (critical failed {c['critical_failed']}, critical open {c['critical_open']})",
        f"- Sign-off: {md_inline(signoff_line(model['signoff']))}",
        f"- Run: {md_code(model.get('run_id') or 'none')} started {md_inline(model.get('run_started_at') or '-')}; "
        f"release: {md_inline(release_text(model.get('release') or {}))}",
        f"- Run directory: {md_code(model['run_dir'])}; generated {model['generated_at']}", "",
    ]
    if model["signoff"]["override"]:
        lines += [f"> **OVERRIDE**: {md_inline(model['signoff']['override_reason'])}", ""]
    if model["warnings"]:
        lines += ["## Warnings", ""] + [f"- {md_inline(w)}" for w in model["warnings"]] + [""]
    lines += ["## Checklist", "", "| # | Item | Critical | Status | Summary |", "|---|---|---|---|---|"]
    for r in model["items"]:
        lines.append(f"| {md_inline(r['id'])} | {md_inline(r['title'])} ({md_code(r['name'])}) | {'yes' if r['critical'] else 'no'} "
                     f"| **{status_text(r)}** | {md_inline(r['summary'])} |")
    lines += ["", "## Evidence", ""]
    for r in model["items"]:
        ev = r["evidence"]
        lines += [f"### {md_inline(r['id'])}. {md_inline(r['title'])}: {status_text(r)}", "", md_inline(r["summary"]) or "-", ""]
        if r["reason"]:
            lines.append(f"- Reason: {md_inline(r['reason'])}")
        lines.append(f"- Recorded: {md_inline(r['recorded_at'] or 'never')}; verified: {md_inline(r.get('verified_at') or 'never')}; "
                     f"findings: {md_inline(findings_text(ev['findings']))}")
        for part in r.get("records") or []:
            lines.append(f"- Verdict {md_code(part['name'])}: {ICONS[part['status']]} - {md_inline(part['reason'] or part['summary'])}")
        for h in r.get("hosts") or []:
            if h["host"]:
                lines.append(f"- Host {md_code(h['host'])}{md_inline(' (' + h['record'] + ')' if h.get('record') else '')}: "
                             f"{ICONS[h['status']]} - {md_inline(h['reason'] or h['summary'])}")
        for ignored in r.get("ignored") or []:
            lines.append(f"- Ignored {md_code(ignored['source'])}: {md_inline(ignored['reason'])}")
        for m in ev["measurements"]:
            lines.append(f"- Measurement: {md_inline(measurement_text(m))}")
        for a in ev["artifacts"]:
            lines.append(f"- Artifact: {md_code(a.get('path'))} sha256 {md_code(a.get('sha256'))} ({md_inline(a.get('size_bytes', '?'))} bytes)")
        lines.append("")
    return ("\n".join(lines).rstrip() + "\n").encode()


def render_junit(model: Dict[str, Any]) -> bytes:
    """One testcase per item: fail is <failure type="fail">; pending is a <failure type="pending"> with the
    reason too, never passed or skipped, since a CI system shows skipped tests as green."""
    c = model["counts"]
    attrs = {"name": xml_clean(model["title"]), "tests": str(c["total"]), "failures": str(c["fail"] + c["pending"]),
             "errors": "0", "skipped": "0", "timestamp": model["generated_at"]}
    suites = ET.Element("testsuites", {k: attrs[k] for k in ("name", "tests", "failures", "errors", "skipped")})
    suite = ET.SubElement(suites, "testsuite", attrs)
    props = ET.SubElement(suite, "properties")
    for name, value in (("decision", model["decision"]), ("decision_reason", model["decision_reason"]),
                        ("signoff", signoff_line(model["signoff"])), ("run_dir", model["run_dir"])):
        ET.SubElement(props, "property", {"name": name, "value": xml_clean(value)})
    for r in model["items"]:
        case = ET.SubElement(suite, "testcase", {
            "classname": "preflight.checklist." + ("critical" if r["critical"] else "advisory"),
            "name": xml_clean(f"{r['id']} {r['name']}: {r['title']}"), "time": "0"})
        if r["status"] == "fail":
            node = ET.SubElement(case, "failure", {"message": xml_clean(r["summary"]), "type": "fail"})
            node.text = xml_clean(_evidence_text(r))
        elif r["status"] == "pending":
            node = ET.SubElement(case, "failure", {"message": xml_clean("pending (not decided): " + (r["reason"] or r["summary"] or "no verdict")),
                                                   "type": "pending"})
            node.text = xml_clean(_evidence_text(r))
        ET.SubElement(case, "system-out").text = xml_clean(_evidence_text(r))
    ET.indent(suites)
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(suites, encoding="utf-8") + b"\n"


def _evidence_text(r: Dict[str, Any]) -> str:
    ev = r["evidence"]
    lines = [r["summary"], f"findings: {findings_text(ev['findings'])}"]
    lines += [f"measurement: {measurement_text(m)}" for m in ev["measurements"]]
    lines += [f"artifact: {a.get('path')} sha256 {a.get('sha256')}" for a in ev["artifacts"]]
    return "\n".join(lines)
