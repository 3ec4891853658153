# Copyright: (c) 2026, deploysafe.preflight contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Readiness metrics: the checklist's decision, each item's status and the load-test results of a report
model, as gauges for node_exporter's textfile collector (<dir>/deploysafe_preflight_<title>.prom).

Statuses are one-hot (one series per possible value, 1 for the current one), so a dashboard can show the
current value and its history without string values. Only the decision series carry run_id and release: the
file is replaced on every run, so a run's series go stale when the next run writes, and the item series keep
one identity across runs (title, item, critical, status). The load-test gauges come from the JSON report the
load_test verdict names as its artifact, only when that file is still the one the verdict hashed; a missing
value is left out, never written as 0. The Grafana dashboard uses exactly the names in METRICS (a unit test).
"""

from __future__ import annotations

import json
import os
import re
from typing import Any, Dict, List, Mapping, Optional, Tuple

from ansible_collections.deploysafe.preflight.plugins.module_utils.checklist.evaluate import GO, NO_GO, utc_epoch
from ansible_collections.deploysafe.preflight.plugins.module_utils.checklist.items import ChecklistError
from ansible_collections.deploysafe.preflight.plugins.module_utils.textfile import (
    TextfileError, prom_file_name, render_gauges, replace_textfile,
)
from ansible_collections.deploysafe.preflight.plugins.module_utils.verdict import FAIL, PASS, PENDING, sha256_file

PREFIX = "deploysafe_preflight_"
DECISIONS = (GO, NO_GO, PENDING)
STATUSES = (PASS, FAIL, PENDING)
LOAD_TEST_ITEM = "load_test"
# name -> HELP text, in the order they are written
METRICS: Dict[str, str] = {
    "deploysafe_preflight_decision": "Checklist decision, one-hot: 1 for the current decision (go, no-go, pending).",
    "deploysafe_preflight_item_status": "Checklist item status, one-hot: 1 for the item's current status.",
    "deploysafe_preflight_items": "Checklist items per status.",
    "deploysafe_preflight_report_timestamp_seconds": "Unix time the checklist report was generated.",
    "deploysafe_preflight_load_test_latency_p95_seconds": "95th percentile latency of the load test.",
    "deploysafe_preflight_load_test_latency_p99_seconds": "99th percentile latency of the load test.",
    "deploysafe_preflight_load_test_error_ratio": "Failed requests of the load test divided by all its requests.",
    "deploysafe_preflight_load_test_throughput_requests_per_second": "Requests per second of the load test.",
    "deploysafe_preflight_load_test_requests": "Requests sent by the load test.",
}
# metric -> (key of the load report's stats.overall, factor)
_LOAD_STATS = {
    "deploysafe_preflight_load_test_latency_p95_seconds": ("p95_ms", 0.001),
    "deploysafe_preflight_load_test_latency_p99_seconds": ("p99_ms", 0.001),
    "deploysafe_preflight_load_test_error_ratio": ("error_rate", 1.0),
    "deploysafe_preflight_load_test_throughput_requests_per_second": ("rps", 1.0),
    "deploysafe_preflight_load_test_requests": ("requests", 1.0),
}


def textfile_name(title: str) -> str:
    """deploysafe_preflight_<title as letters, digits, _ and ->.prom: one file per checklist title."""
    slug = re.sub(r"[^a-z0-9_-]+", "_", (title or "").lower()).strip("_-") or "checklist"
    return prom_file_name(PREFIX, slug, "checklist title")


def load_test_reports(model: Mapping[str, Any]) -> List[Tuple[str, Dict[str, Any]]]:
    """(report name, stats.overall) of each JSON load report the load_test item's evidence names, when the
    file still has the hash the verdict recorded (a report rewritten since is another run's numbers)."""
    out = []
    for item in model.get("items") or []:
        if item.get("name") != LOAD_TEST_ITEM:
            continue
        for entry in (item.get("evidence") or {}).get("artifacts") or []:
            path = entry.get("path") or ""
            if entry.get("kind") != "json" or not path.endswith(".json"):
                continue
            try:
                if entry.get("sha256") and sha256_file(path) != entry["sha256"]:
                    continue
                with open(path, encoding="utf-8") as handle:
                    overall = json.load(handle)["stats"]["overall"]
            except (OSError, ValueError, KeyError, TypeError):
                continue
            if isinstance(overall, dict):
                out.append((os.path.basename(path)[:-len(".json")], overall))
    return out


def readiness_families(model: Mapping[str, Any], generated_at: Optional[str] = None):
    """(name, help, samples) of every metric of METRICS for a report model (evaluate's)."""
    title = model.get("title") or ""
    release = model.get("release") or {}
    decision = model.get("decision")
    if decision not in DECISIONS:
        raise ChecklistError(f"report model has decision {decision!r}, not one of {', '.join(DECISIONS)}")
    samples: Dict[str, List[Tuple[Dict[str, Any], float]]] = {name: [] for name in METRICS}
    for value in DECISIONS:
        samples["deploysafe_preflight_decision"].append((
            {"title": title, "run_id": model.get("run_id") or "", "release": release.get("version") or "",
             "decision": value}, 1.0 if value == decision else 0.0))
    counts = dict.fromkeys(STATUSES, 0)
    for item in model.get("items") or []:
        status = item.get("status") if item.get("status") in STATUSES else PENDING
        counts[status] += 1
        for value in STATUSES:
            samples["deploysafe_preflight_item_status"].append((
                {"title": title, "item": item.get("name") or "",
                 "critical": "true" if item.get("critical") else "false", "status": value}, 1.0 if value == status else 0.0))
    samples["deploysafe_preflight_items"] = [({"title": title, "status": s}, float(n)) for s, n in counts.items()]
    stamp = utc_epoch(generated_at or model.get("generated_at"))
    if stamp is not None:
        samples["deploysafe_preflight_report_timestamp_seconds"] = [({"title": title}, stamp)]
    for report, overall in load_test_reports(model):
        for name, (key, factor) in _LOAD_STATS.items():
            value = overall.get(key)
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                samples[name].append(({"title": title, "report": report}, value * factor))
    return [(name, help_text, samples[name]) for name, help_text in METRICS.items()]


def readiness_textfile(model: Mapping[str, Any], generated_at: Optional[str] = None) -> str:
    return render_gauges(readiness_families(model, generated_at))


def export_readiness(model: Mapping[str, Any], textfile_dir: str, check_mode: bool = False,
                     generated_at: Optional[str] = None) -> Tuple[bool, str]:
    """Write the model's metrics to <textfile_dir>/deploysafe_preflight_<title>.prom (unless check_mode).
    (changed, path). generated_at: the report's stored generation time, so an unchanged report keeps the
    same file."""
    try:
        path = os.path.join(textfile_dir, textfile_name(model.get("title") or ""))
        changed, _diff = replace_textfile(path, readiness_textfile(model, generated_at), check_mode=check_mode,
                                          hint="node_exporter's --collector.textfile.directory; create it first")
    except TextfileError as exc:
        raise ChecklistError(str(exc)) from None
    return changed, path
