# Copyright: (c) 2026, deploysafe.preflight contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The production dry-run's evidence files in report_dir, each written atomically: a unified diff of
every object (what a reviewer reads) and the same result as JSON (what tools read). Secret values are
already redacted in the result (object_diff); nothing is written in check mode."""

from __future__ import annotations

import json
import os
import time
from typing import Any, Dict

from ..verdict import artifact, atomic_write_bytes, utc_iso
from . import K8sError

DIFF_FILE = "production-dry-run.diff"
JSON_FILE = "production-dry-run.json"
REPORT_FORMAT = 1


def render_diff(result: Dict[str, Any], verdict: Dict[str, Any]) -> str:
    """One text: a header per object (action, or the API's refusal) followed by its unified diff."""
    lines = [f"# production dry-run against namespace {result['namespace']}: {verdict['status']}",
             f"# {verdict['summary']}", ""]
    for obj in result["objects"]:
        if obj["error"]:
            lines.append(f"# {obj['ref']}: REFUSED: {obj['error']}")
        else:
            lines.append(f"# {obj['ref']}: {obj['action']}")
        if obj["diff"]:
            lines.append(obj["diff"].rstrip("\n"))
        lines.append("")
    for orphan in result["orphaned"]:
        lines.append(f"# {orphan}: orphaned (live, carries the release's app label, not in the manifests; left alone)")
    return "\n".join(lines).rstrip("\n") + "\n"


def render_json(result: Dict[str, Any], verdict: Dict[str, Any], now: float) -> str:
    keys = ("namespace", "objects", "orphaned", "orphans_unchecked", "skipped", "app_label_selector")
    model = {"format": REPORT_FORMAT, "generated_at": utc_iso(now), "status": verdict["status"],
             "summary": verdict["summary"], **{k: result[k] for k in keys}}
    return json.dumps(model, indent=2, sort_keys=True, default=str) + "\n"


def write_report(report_dir: str, result: Dict[str, Any], verdict: Dict[str, Any], check_mode: bool,
                 now: float = 0.0) -> Dict[str, Any]:
    """{paths: {diff, json}, artifacts: [...]} with the files written (planned only, no artifact, in check
    mode; nothing without a report_dir). Raises K8sError when report_dir cannot be written."""
    if not report_dir:
        return {"paths": {}, "artifacts": []}
    paths = {"diff": os.path.join(report_dir, DIFF_FILE), "json": os.path.join(report_dir, JSON_FILE)}
    if check_mode:
        return {"paths": paths, "artifacts": []}
    texts = {"diff": render_diff(result, verdict), "json": render_json(result, verdict, now or time.time())}
    try:
        os.makedirs(report_dir, mode=0o755, exist_ok=True)
        for kind, path in paths.items():
            atomic_write_bytes(path, texts[kind].encode(), mode=0o644)
    except OSError as exc:
        raise K8sError(f"cannot write the dry-run report into {report_dir}: {exc.strerror or exc}") from None
    return {"paths": paths, "artifacts": [artifact(paths["diff"], kind="diff"), artifact(paths["json"], kind="report")]}
