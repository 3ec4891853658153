# Copyright: (c) 2026, deploysafe.preflight contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Renderers of one load-test result: JSON, Markdown, HTML (inline SVG latency plot) and JUnit."""

from __future__ import annotations

import html
import json
import os
from typing import Any, Dict, List

from ..markup import xml_attr, xml_text
from ..verdict import atomic_write_bytes
from .stats import Recorder

COLUMNS = ("requests", "rps", "error_rate", "p50_ms", "p95_ms", "p99_ms", "max_ms")


def timeline(recorder: Recorder) -> List[Dict[str, Any]]:
    return [{"t": round(w.start, 3), "count": w.count, "errors": w.errors, "p50_ms": w.percentile(50),
             "p95_ms": w.percentile(95), "max_ms": w.max_us / 1000.0 if w.count else None}
            for w in recorder.windows]


def _fmt(value: Any, col: str) -> str:
    if value is None:
        return "–"
    if col == "error_rate":
        return f"{100 * value:.2f}%"
    if col == "requests":
        return str(value)
    return f"{value:.1f}" if col == "rps" else f"{value:.2f}"


def _rows(result: Dict[str, Any]) -> List[List[str]]:
    rows = [["overall"] + [_fmt(result["stats"]["overall"].get(c), c) for c in COLUMNS]]
    rows += [[f"stage {n}"] + [_fmt(s.get(c), c) for c in COLUMNS] for n, s in result["stats"]["stages"].items()]
    rows += [[f"endpoint {n}"] + [_fmt(s.get(c), c) for c in COLUMNS] for n, s in result["stats"]["endpoints"].items()]
    return rows


def markdown(result: Dict[str, Any]) -> str:
    v = result["verdict"]
    out = [f"# Load test: {v['status'].upper()}", "", v["summary"], "",
           f"Engine {result['engine']}, {result['model']} model, {result['run']['duration']:.1f} s.", "",
           "| scope | " + " | ".join(COLUMNS) + " |", "|---" * (len(COLUMNS) + 1) + "|"]
    out += ["| " + " | ".join(r) + " |" for r in _rows(result)]
    out += ["", "## Thresholds", "", "| check | value | limit | result |", "|---|---|---|---|"]
    for c in result["checks"]:
        state = {True: "pass", False: "**FAIL**", None: "**pending** (no data)"}[c["ok"]]
        val = "–" if c["value"] is None else f"{c['value']:.4g}"
        out.append(f"| {c['name']} | {val} | {c['comparison']} {c['limit']:g} | {state} |")
    res = result["resources"]
    if res.get("samples"):
        out += ["", "## Target resources", ""]
        out += [f"- {k}: {v:.2f}" if isinstance(v, float) else f"- {k}: {v}" for k, v in res.items() if k != "errors"]
    return "\n".join(out) + "\n"


def svg_plot(result: Dict[str, Any], width: int = 760, height: int = 260) -> str:
    """Latency over time (p50, p95, max per window) with stage boundaries."""
    points = [p for p in result["timeline"] if p["count"]]
    pad_l, pad_b, pad_t = 56, 30, 12
    w, h = width - pad_l - 10, height - pad_b - pad_t
    t_end = max(result["run"]["duration"], max((p["t"] for p in points), default=0), 0.001)
    y_max = max([p["p95_ms"] or 0 for p in points] + [p["max_ms"] or 0 for p in points] + [1.0]) * 1.1

    def sx(t: float) -> float:
        return pad_l + w * t / t_end

    def sy(v: float) -> float:
        return pad_t + h - h * v / y_max
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
             f'font-family="sans-serif" font-size="11">',
             f'<rect x="{pad_l}" y="{pad_t}" width="{w}" height="{h}" fill="#fafafa" stroke="#999"/>']
    for i in range(5):
        v = y_max * i / 4
        parts.append(f'<text x="{pad_l - 4}" y="{sy(v) + 4:.1f}" text-anchor="end">{v:.0f}</text>')
    parts.append(f'<text x="12" y="{pad_t + h / 2}" transform="rotate(-90 12 {pad_t + h / 2})" '
                 'text-anchor="middle">latency ms</text>')
    t = 0.0
    for stage in result["plan"]["stages"]:
        parts.append(f'<line x1="{sx(t):.1f}" y1="{pad_t}" x2="{sx(t):.1f}" y2="{pad_t + h}" stroke="#ccc"/>'
                     f'<text x="{sx(t) + 3:.1f}" y="{pad_t + 11}" fill="#666">{html.escape(stage["name"])}</text>')
        t += stage["duration"]
    # max last and dashed: in windows with few requests it equals p95 and would be hidden under it
    for key, colour, dash in (("p50_ms", "#1f77b4", ""), ("p95_ms", "#ff7f0e", ""), ("max_ms", "#d62728", "4 3")):
        coords = " ".join(f"{sx(p['t']):.1f},{sy(p[key]):.1f}" for p in points if p[key] is not None)
        if coords:
            parts.append(f'<polyline fill="none" stroke="{colour}" stroke-width="1.5" stroke-dasharray="{dash}" '
                         f'points="{coords}"/>')
    parts.append(f'<text x="{pad_l + w}" y="{height - 8}" text-anchor="end">time s (0–{t_end:.1f})</text>'
                 f'<text x="{pad_l}" y="{height - 8}" fill="#1f77b4">p50</text>'
                 f'<text x="{pad_l + 30}" y="{height - 8}" fill="#ff7f0e">p95</text>'
                 f'<text x="{pad_l + 60}" y="{height - 8}" fill="#d62728">max</text></svg>')
    return "".join(parts)


def html_report(result: Dict[str, Any]) -> str:
    v = result["verdict"]
    colour = {"pass": "#2ca02c", "fail": "#d62728", "pending": "#ff7f0e"}[v["status"]]
    head = "".join(f"<th>{c}</th>" for c in ("scope",) + COLUMNS)
    rows = "".join("<tr>" + "".join(f"<td>{html.escape(x)}</td>" for x in r) + "</tr>" for r in _rows(result))
    checks = "".join(
        f"<tr><td>{html.escape(c['name'])}</td><td>{'–' if c['value'] is None else format(c['value'], '.4g')}</td>"
        f"<td>{html.escape(c['comparison'])} {c['limit']:g}</td>"
        f"<td>{ {True: 'pass', False: '<b>FAIL</b>', None: '<b>pending</b> (no data)'}[c['ok']] }</td></tr>" for c in result["checks"])
    return (f"<!doctype html><html><head><meta charset='utf-8'><title>Load test {v['status']}</title>"
            "<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}"
            "td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}td:first-child{text-align:left}</style>"
            f"</head><body><h1 style='color:{colour}'>Load test: {v['status'].upper()}</h1>"
            f"<p>{html.escape(v['summary'])}</p><p>Engine {html.escape(result['engine'])}, {result['model']} model, "
            f"{result['run']['duration']:.1f} s.</p>{svg_plot(result)}<h2>Percentiles per stage and endpoint</h2>"
            f"<table><tr>{head}</tr>{rows}</table><h2>Thresholds</h2><table><tr><th>check</th><th>value</th>"
            f"<th>limit</th><th>result</th></tr>{checks}</table></body></html>\n")


def junit(result: Dict[str, Any]) -> str:
    """One test case per threshold check, one for 'requests completed' and one for the verdict itself.

    `pending` is never shown as passed or skipped (CI would read either as green): an undecided check
    and a verdict that is not pass (run cut short, generator saturated...) are failures with the reason.
    """
    verdict = result["verdict"]
    cases = []
    completed = result["stats"]["overall"]["ok"]
    cases.append(("requests_completed", None if completed else f"no request completed: {verdict['summary']}"))
    for c in result["checks"]:
        msg = None if c["ok"] else (f"{c['name']}: {c['value']} not {c['comparison']} {c['limit']}" if c["ok"] is False
                                    else f"pending: {c['name']}: no data ({c['note']})")
        cases.append((c["name"], msg))
    cases.append(("verdict", None if verdict["status"] == "pass" else f"{verdict['status']}: {verdict['summary']}"))
    failures = sum(1 for case in cases if case[1])
    body = []
    for name, msg in cases:
        inner = f"<failure message={xml_attr(msg)}>{xml_text(msg)}</failure>" if msg else ""
        body.append(f'  <testcase classname="load_test" name={xml_attr(name)}>{inner}</testcase>')
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n<testsuite name="load_test" tests="{len(cases)}" '
            f'failures="{failures}" skipped="0" errors="0">\n' + "\n".join(body) + "\n</testsuite>\n")


def write_all(result: Dict[str, Any], directory: str, name: str) -> Dict[str, str]:
    os.makedirs(directory, exist_ok=True)
    paths = {k: os.path.join(directory, f"{name}.{ext}")
             for k, ext in (("json", "json"), ("markdown", "md"), ("html", "html"), ("junit", "junit.xml"))}
    body = {k: v for k, v in result.items() if k != "reports"}
    atomic_write_bytes(paths["json"], json.dumps(body, indent=2, default=str).encode(), mode=0o644)
    atomic_write_bytes(paths["markdown"], markdown(result).encode(), mode=0o644)
    atomic_write_bytes(paths["html"], html_report(result).encode(), mode=0o644)
    atomic_write_bytes(paths["junit"], junit(result).encode(), mode=0o644)
    return paths
