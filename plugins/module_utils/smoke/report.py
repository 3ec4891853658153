# Copyright: (c) 2026, deploysafe.preflight contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Renderers of one smoke run: JSON, Markdown and JUnit (one test case per check), written atomically."""

from __future__ import annotations

import json
import os
from typing import Any, Dict, List

from ..markup import md_code, md_inline, xml_attr, xml_text
from ..verdict import atomic_write_bytes

EXTENSIONS = {"json": "json", "markdown": "md", "junit": "junit.xml"}


def _latency(r: Dict[str, Any]) -> str:
    if r["latency_ms"] is None:
        return "–"
    return f"{r['latency_ms']:.0f}" + (f" / {r['max_ms']:g}" if r["max_ms"] is not None else "")


def markdown(result: Dict[str, Any]) -> str:
    v = result["verdict"]
    out: List[str] = [f"# Smoke checks: {v['status'].upper()}", "", md_inline(v["summary"]), ""]
    if not result["checks"]:
        return "\n".join(out + ["No smoke check configured."]) + "\n"
    out += ["| check | request | HTTP | latency ms / budget | result |", "|---|---|---|---|---|"]
    for r in result["checks"]:
        state = {"passed": "pass", "failed": "**FAIL**", "skipped": "skipped (check mode)"}[r["outcome"]]
        out.append(f"| {md_inline(r['name'])} | {md_code(str(r['method']) + ' ' + str(r['url']))} | {r['http_status'] or '–'} "
                   f"| {_latency(r)} | {state} |")
    failing = [r for r in result["checks"] if r["reasons"]]
    if failing:
        out += ["", "## Why", ""]
        out += [f"- **{md_inline(r['name'])}**: {md_inline(reason)}" for r in failing for reason in r["reasons"]]
    return "\n".join(out) + "\n"


def junit(result: Dict[str, Any]) -> str:
    """One test case per check; a failed check is a <failure> listing every reason. A verdict that is not
    decided (no check, or checks skipped) adds a failing `verdict` case: CI never shows it green."""
    verdict = result["verdict"]
    cases, failures = [], 0
    for r in result["checks"]:
        body = ""
        if r["outcome"] != "passed":
            failures += 1
            kind = "fail" if r["outcome"] == "failed" else "pending"
            body = f"<failure message={xml_attr(r['reasons'][0])} type={xml_attr(kind)}>" \
                   f"{xml_text(chr(10).join(r['reasons']))}</failure>"
        seconds = (r["latency_ms"] or 0) / 1000.0
        cases.append(f'  <testcase classname="smoke_check" name={xml_attr(r["name"])} time="{seconds:.3f}">'
                     f"{body}</testcase>")
    if verdict["status"] == "pending":
        failures += 1
        cases.append(f'  <testcase classname="smoke_check" name="verdict"><failure '
                     f'message={xml_attr("pending: " + verdict["summary"])} type="pending"/></testcase>')
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n<testsuite name="smoke_check" tests="{len(cases)}" '
            f'failures="{failures}" skipped="0" errors="0">\n' + "\n".join(cases) + "\n</testsuite>\n")


def write_reports(result: Dict[str, Any], directory: str, name: str) -> Dict[str, str]:
    """<directory>/<name>.json, .md and .junit.xml, each written atomically; returns format -> path."""
    os.makedirs(directory, exist_ok=True)
    paths = {fmt: os.path.join(directory, f"{name}.{ext}") for fmt, ext in EXTENSIONS.items()}
    body = {k: v for k, v in result.items() if k != "reports"}
    atomic_write_bytes(paths["json"], (json.dumps(body, indent=2, default=str) + "\n").encode(), mode=0o644)
    atomic_write_bytes(paths["markdown"], markdown(result).encode(), mode=0o644)
    atomic_write_bytes(paths["junit"], junit(result).encode(), mode=0o644)
    return paths
