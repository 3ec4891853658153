"""The shipped backup alert rules and Grafana dashboard: promtool accepts the rules and their unit tests pass,
and every PromQL expression in either names only metrics that backup_metrics writes (no typo can slip in)."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from ansible_collections.deploysafe.preflight.plugins.module_utils.retention.metrics import METRICS

from promql_names import dashboard_expressions, metric_names

ROOT = Path(__file__).resolve().parents[3]
RULES = ROOT / "files" / "prometheus" / "backup-alerts.yml"
RULE_TESTS = Path(__file__).with_name("backup-alerts.promtest.yml")
DASHBOARD = ROOT / "files" / "grafana" / "backup-dashboard.json"

needs_promtool = pytest.mark.skipif(shutil.which("promtool") is None,
                                    reason="promtool (Debian package prometheus) not installed")

def rule_expressions():
    doc = yaml.safe_load(RULES.read_text())
    return {rule["alert"]: rule["expr"] for group in doc["groups"] for rule in group["rules"]}


def test_the_name_extractor_finds_metrics_and_skips_the_rest():
    assert metric_names('time() - foo_seconds{a="b{c}",d=~"$x"} > on(a, b) group_left(c) bar') == {
        "foo_seconds", "bar"}
    assert metric_names("sum by (job) (rate(x_total[5m] offset 1h)) / ignoring(le) y unless z") == {
        "x_total", "y", "z"}
    assert metric_names('label_values(up{instance=~"$instance"}, schedule)') == {"up"}
    assert metric_names("deploysafe_backup_last_sucess_timestamp_seconds == 0") == {
        "deploysafe_backup_last_sucess_timestamp_seconds"}


def test_alert_rules_use_only_metrics_the_wrapper_writes():
    rules = rule_expressions()
    assert set(rules) == {"BackupTooOld", "BackupUnverified", "BackupFailed"}
    for alert, expr in rules.items():
        names = metric_names(expr)
        assert names and names <= set(METRICS), f"{alert}: {sorted(names - set(METRICS))} are not written"


def test_dashboard_queries_use_only_metrics_the_wrapper_writes():
    exprs = dashboard_expressions(DASHBOARD)
    used = set()
    for where, expr in exprs:
        names = metric_names(expr)
        assert names and names <= set(METRICS), f"{where}: {sorted(names - set(METRICS))} are not written"
        used |= names
    # every metric the issue asks for has a panel (max_age joins the age panel)
    assert used == set(METRICS), sorted(set(METRICS) - used)


def test_dashboard_panels_and_variables():
    doc = json.loads(DASHBOARD.read_text())
    titles = {panel["title"] for panel in doc["panels"]}
    assert {"Age of last success", "Age of last verified backup", "Last run", "Run duration", "Backup size",
            "Backups kept"} <= titles
    assert len({panel["id"] for panel in doc["panels"]}) == len(doc["panels"])
    variables = {var["name"] for var in doc["templating"]["list"]}
    assert variables == {"datasource", "instance", "schedule"}
    for panel in doc["panels"]:
        assert panel["datasource"]["uid"] == "${datasource}"  # no data source uid of some Grafana baked in


@needs_promtool
def test_promtool_checks_the_rules():
    check = subprocess.run(["promtool", "check", "rules", str(RULES)], capture_output=True, text=True)
    assert check.returncode == 0 and "SUCCESS: 3 rules found" in check.stdout, check.stdout + check.stderr


@needs_promtool
def test_promtool_rule_unit_tests_pass():
    run = subprocess.run(["promtool", "test", "rules", RULE_TESTS.name], capture_output=True, text=True,
                         cwd=RULE_TESTS.parent)
    assert run.returncode == 0 and "SUCCESS" in run.stdout, run.stdout + run.stderr


@needs_promtool
def test_promtool_rule_unit_tests_can_fail(tmp_path):
    """The rule tests are not vacuous: BackupFailed expected 2 m after the failure (before for: 5m) fails."""
    text = RULE_TESTS.read_text().replace("../../../files/prometheus/backup-alerts.yml", str(RULES))
    broken = tmp_path / "broken.promtest.yml"
    broken.write_text(text.replace("eval_time: 62m", "eval_time: 66m"))
    run = subprocess.run(["promtool", "test", "rules", str(broken)], capture_output=True, text=True)
    assert run.returncode != 0 and "alertname: BackupFailed" in run.stdout + run.stderr, run.stdout
