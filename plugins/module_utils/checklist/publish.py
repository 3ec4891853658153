# Copyright: (c) 2026, deploysafe.preflight contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Write the rendered reports atomically into <run_dir>/report/, only the files whose content changed."""

from __future__ import annotations

import json
import os
from typing import Any, Callable, Dict, Iterable, Tuple

from ansible_collections.deploysafe.preflight.plugins.module_utils.checklist.items import ChecklistError
from ansible_collections.deploysafe.preflight.plugins.module_utils.checklist.render import (
    render_json, render_junit, render_markdown,
)
from ansible_collections.deploysafe.preflight.plugins.module_utils.checklist.render_html import render_html
from ansible_collections.deploysafe.preflight.plugins.module_utils.verdict import atomic_write_bytes

# <basename>.json, the model itself, is always written: it carries the generation time reused below.
FORMATS: Dict[str, Tuple[str, Callable[[Dict[str, Any]], bytes]]] = {
    "json": (".json", render_json),
    "markdown": (".md", render_markdown),
    "html": (".html", render_html),
    "junit": (".junit.xml", render_junit),
}


# Where a run's report goes unless report_dir says otherwise, and the checklist's file names.
REPORT_SUBDIR = "report"
CHECKLIST_BASENAME = "checklist"


def default_report_dir(run_dir: str) -> str:
    """<run_dir>/report: the checklist's (and the drill's) report directory by default."""
    return os.path.join(run_dir, REPORT_SUBDIR)


def report_path(report_dir: str, fmt: str = "json", basename: str = CHECKLIST_BASENAME) -> str:
    """<report_dir>/<basename><suffix of fmt>, e.g. report/checklist.json."""
    return os.path.join(report_dir, basename + FORMATS[fmt][0])


def report_argument_spec(title: str) -> Dict[str, Any]:
    """report_dir, formats and title: the options of every module that publishes a report model (documented
    by the doc fragment deploysafe.preflight.report; each module documents its title)."""
    return dict(report_dir=dict(type="path"),
                formats=dict(type="list", elements="str", choices=list(FORMATS), default=list(FORMATS)),
                title=dict(type="str", default=title))


def _without_time(model: Dict[str, Any]) -> Dict[str, Any]:
    """The model less its clocks: generation time, and each item's verified_at (refreshed by every run)."""
    out = {k: v for k, v in model.items() if k != "generated_at"}
    out["items"] = [{k: v for k, v in item.items() if k != "verified_at"} for item in model.get("items") or []]
    return out


def publish(model: Dict[str, Any], report_dir: str, formats: Iterable[str], check_mode: bool = False,
            basename: str = CHECKLIST_BASENAME) -> Tuple[bool, Dict[str, str]]:
    """(changed, {format: path}). A model equal to the stored one except for its generation time keeps
    the stored time, so unchanged evidence renders to identical bytes and nothing is rewritten. One that
    differs only in verification times (the checks ran again and said the same) is rewritten, so the
    report shows when the evidence was last verified, but is not a change, as in record_verdict.
    Files are named <basename><suffix> (checklist.json...; the DR drill writes drill.json...)."""
    wanted = ["json"] + [f for f in formats if f != "json"]
    unknown = [f for f in wanted if f not in FORMATS]
    if unknown:
        raise ChecklistError(f"unknown report formats {unknown}; use {sorted(FORMATS)}")
    json_path = report_path(report_dir, "json", basename)
    refreshed_only = False
    try:
        with open(json_path, encoding="utf-8") as handle:
            previous = json.load(handle)
        canonical = json.loads(render_json(model))
        if isinstance(previous, dict) and _without_time(previous) == _without_time(canonical):
            model = dict(model, generated_at=previous["generated_at"])
            refreshed_only = True
    except (OSError, ValueError, KeyError, AttributeError, TypeError):
        pass
    changed, paths = False, {}
    for fmt in wanted:
        render = FORMATS[fmt][1]
        path = paths[fmt] = report_path(report_dir, fmt, basename)
        data = render(model)
        try:
            with open(path, "rb") as handle:
                if handle.read() == data:
                    continue
        except OSError:
            pass
        changed = True
        if not check_mode:
            try:
                os.makedirs(report_dir, mode=0o755, exist_ok=True)
                atomic_write_bytes(path, data, mode=0o644)
            except OSError as exc:
                raise ChecklistError(f"cannot write report {path}: {exc.strerror or exc}") from exc
    return changed and not refreshed_only, paths
