# Copyright: (c) 2026, deploysafe.preflight contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Self-contained HTML renderer of the report model: inline CSS, no scripts, no external assets.

Every value from the model goes through html.escape, including summaries and paths that came from
verdict files (a summary is data, never markup).
"""

from __future__ import annotations

import html
from typing import Any, Dict, List

from ansible_collections.deploysafe.preflight.plugins.module_utils.checklist.render import (
    ICONS, findings_text, release_text, signoff_line,
)

_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;margin:2rem auto;max-width:72rem;padding:0 1rem;color:#1b1f24;line-height:1.45}
h1{font-size:1.6rem;margin-bottom:.3rem}
.banner{padding:1rem 1.2rem;border-radius:.4rem;font-size:1.15rem;margin:1rem 0}
.banner b{font-size:1.4rem;margin-right:.6rem}
.go,.pass{background:#dafbe1;border:2px solid #1a7f37}.no-go,.fail{background:#ffebe9;border:2px solid #cf222e}
.pending{background:#fff8c5;border:2px solid #9a6700}
.override{background:#ffebe9;border:2px dashed #cf222e;padding:.6rem 1rem;margin:1rem 0}
table{border-collapse:collapse;width:100%;margin:1rem 0}
th,td{border:1px solid #d0d7de;padding:.4rem .6rem;text-align:left;vertical-align:top}
th{background:#f6f8fa}
.st{font-weight:bold;border-radius:.3rem;padding:.1rem .5rem;white-space:nowrap}
.st-pass{background:#1a7f37;color:#fff}.st-fail{background:#cf222e;color:#fff}.st-pending{background:#bf8700;color:#fff}
.item{border:1px solid #d0d7de;border-radius:.4rem;padding:.6rem 1rem;margin:.8rem 0}
.item h3{margin:.2rem 0}
code{font-family:ui-monospace,monospace;font-size:.9em;word-break:break-all}
.muted{color:#57606a}
"""


def _e(value: Any) -> str:
    return html.escape(str(value), quote=True)


def _status(status: str, manual: bool = False) -> str:
    return f'<span class="st st-{_e(status)}">{ICONS.get(status, _e(status))}{" (MANUAL)" if manual else ""}</span>'


def _item(r: Dict[str, Any]) -> str:
    ev = r["evidence"]
    out: List[str] = [f'<div class="item" id="item-{_e(r["name"])}">',
                      f'<h3>{_e(r["id"])}. {_e(r["title"])} {_status(r["status"], r.get("manual", False))}</h3>',
                      f'<p>{_e(r["summary"]) or "-"}</p>',
                      f'<p class="muted"><code>{_e(r["name"])}</code> - {"critical" if r["critical"] else "not critical"}'
                      f' - recorded {_e(r["recorded_at"] or "never")} - verified {_e(r.get("verified_at") or "never")}'
                      f' - findings: {_e(findings_text(ev["findings"]))}</p>']
    if r["reason"]:
        out.append(f"<p><b>Reason:</b> {_e(r['reason'])}</p>")
    parts = r.get("records") or []
    if parts:
        out.append("<ul>" + "".join(f"<li>verdict <code>{_e(p['name'])}</code>: {_status(p['status'], False)} "
                                    f"{_e(p['reason'] or p['summary'])}</li>" for p in parts) + "</ul>")
    hosts = [h for h in r.get("hosts") or [] if h["host"]]
    if hosts:
        out.append("<ul>" + "".join(f"<li>host <code>{_e(h['host'])}</code>: {_status(h['status'], h['manual'])} "
                                    f"{_e(h['reason'] or h['summary'])}</li>" for h in hosts) + "</ul>")
    for ignored in r.get("ignored") or []:
        out.append(f'<p class="muted">Ignored <code>{_e(ignored["source"])}</code>: {_e(ignored["reason"])}</p>')
    if ev["measurements"]:
        out.append("<table><tr><th>Measurement</th><th>Value</th><th>Unit</th><th>Threshold</th><th>Met</th></tr>")
        for m in ev["measurements"]:
            threshold = f"{m.get('comparison')} {m.get('threshold')}" if m.get("comparison") else "-"
            met = "-" if not m.get("comparison") else ("yes" if m.get("ok") else "NO")
            out.append(f"<tr><td>{_e(m.get('name'))}</td><td>{_e(m.get('value'))}</td><td>{_e(m.get('unit'))}</td>"
                       f"<td>{_e(threshold)}</td><td>{_e(met)}</td></tr>")
        out.append("</table>")
    if ev["artifacts"]:
        out.append("<table><tr><th>Artifact</th><th>sha256</th><th>Bytes</th></tr>")
        for a in ev["artifacts"]:
            out.append(f"<tr><td><code>{_e(a.get('path'))}</code></td><td><code>{_e(a.get('sha256'))}</code></td>"
                       f"<td>{_e(a.get('size_bytes', '?'))}</td></tr>")
        out.append("</table>")
    out.append("</div>")
    return "\n".join(out)


def render_html(model: Dict[str, Any]) -> bytes:
    c, s = model["counts"], model["signoff"]
    rows = "\n".join(
        f'<tr><td>{_e(r["id"])}</td><td><a href="#item-{_e(r["name"])}">{_e(r["title"])}</a><br><code>{_e(r["name"])}</code></td>'
        f'<td>{"yes" if r["critical"] else "no"}</td><td>{_status(r["status"], r.get("manual", False))}</td><td>{_e(r["summary"])}</td></tr>'
        for r in model["items"])
    parts = [
        "<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{_e(model['title'])}: {_e(model['decision'].upper())}</title>", f"<style>{_CSS}</style></head><body>",
        f"<h1>{_e(model['title'])}</h1>",
        f'<p class="muted">Run <code>{_e(model.get("run_id") or "none")}</code> - release {_e(release_text(model.get("release") or {}))}'
        f' - run directory <code>{_e(model["run_dir"])}</code> - generated {_e(model["generated_at"])}</p>',
        f'<div class="banner {_e(model["decision"])}"><b>{_e(model["decision"].upper())}</b>{_e(model["decision_reason"])}</div>',
        f"<p>{c['pass']} pass, {c['fail']} fail, {c['pending']} pending of {c['total']} items "
        f"(critical failed {c['critical_failed']}, critical open {c['critical_open']}).</p>",
        f"<p><b>Sign-off:</b> {_e(signoff_line(s))}</p>",
    ]
    if s["override"]:
        parts.append(f'<div class="override"><b>OVERRIDE:</b> {_e(s["override_reason"])}</div>')
    if model["warnings"]:
        parts.append("<h2>Warnings</h2><ul>" + "".join(f"<li>{_e(w)}</li>" for w in model["warnings"]) + "</ul>")
    parts += ["<h2>Checklist</h2>",
              "<table><tr><th>#</th><th>Item</th><th>Critical</th><th>Status</th><th>Summary</th></tr>", rows, "</table>",
              "<h2>Evidence</h2>"] + [_item(r) for r in model["items"]] + ["</body></html>"]
    return ("\n".join(parts) + "\n").encode()
