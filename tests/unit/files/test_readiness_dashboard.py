"""The shipped readiness dashboard: every PromQL query names only metrics that checklist_report writes, every
metric written has a panel, and the panels the issue asks for are there."""

from __future__ import annotations

import json
from pathlib import Path

from ansible_collections.deploysafe.preflight.plugins.module_utils.checklist.metrics import METRICS

from promql_names import dashboard_expressions, metric_names

DASHBOARD = Path(__file__).resolve().parents[3] / "files" / "grafana" / "readiness-dashboard.json"


def test_dashboard_queries_use_only_metrics_the_checklist_writes():
    used = set()
    for where, expr in dashboard_expressions(DASHBOARD):
        names = metric_names(expr)
        assert names and names <= set(METRICS), f"{where}: {sorted(names - set(METRICS))} are not written"
        used |= names
    assert used == set(METRICS), sorted(set(METRICS) - used)


def test_a_misspelt_metric_would_be_caught():
    assert metric_names('max by (decision) (deploysafe_preflight_descision{title=~"$title"}) == 1') == {
        "deploysafe_preflight_descision"}


def test_dashboard_panels_and_variables():
    doc = json.loads(DASHBOARD.read_text())
    panels = {panel["title"]: panel for panel in doc["panels"]}
    assert {"Decision", "Checklist items", "Decision history", "Load test latency p95 / p99", "Load test error ratio",
            "Load test throughput"} <= set(panels)
    assert panels["Decision"]["type"] == "stat" and panels["Checklist items"]["type"] == "table"
    assert panels["Decision history"]["type"] == "state-timeline"
    assert len({panel["id"] for panel in doc["panels"]}) == len(doc["panels"])
    assert {var["name"] for var in doc["templating"]["list"]} == {"datasource", "instance", "title"}
    for panel in doc["panels"]:
        assert panel["datasource"]["uid"] == "${datasource}"  # no data source uid of some Grafana baked in
        for target in panel["targets"]:
            assert target["datasource"]["uid"] == "${datasource}"
