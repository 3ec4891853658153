"""prometheus_gate must not pass on no data: a real Prometheus with no scrape target and no alert rule
(planted) makes the same checks pending that pass against the harness Prometheus (clean)."""

from __future__ import annotations

import secrets

import pytest

from ansible_collections.deploysafe.preflight.plugins.module_utils.monitoring.gate import run_gate
from ansible_collections.deploysafe.preflight.plugins.module_utils.monitoring.prometheus import Api, MonitoringError
from tests.integration.module_runner import run_module_raw


def test_zero_active_targets_is_pending(bare_prometheus, prometheus):
    clean = run_gate(Api(url=prometheus["url"]), no_firing_alerts=False, targets_up=True)
    assert clean["verdict"]["status"] == "pass", clean["verdict"]["summary"]
    planted = run_gate(Api(url=bare_prometheus), no_firing_alerts=False, targets_up=True)
    assert planted["verdict"]["status"] == "pending", planted["verdict"]["summary"]
    assert "no active scrape targets (no data)" in planted["verdict"]["summary"]
    assert planted["verdict"]["evidence"]["findings"]["checks_undecided"] == 1


def test_named_job_without_targets_is_pending_not_pass(bare_prometheus):
    res = run_gate(Api(url=bare_prometheus), no_firing_alerts=False, targets_up=True, target_jobs=["sample-app"])
    assert res["verdict"]["status"] == "pending" and "job sample-app: no scrape targets" in res["verdict"]["summary"]


def test_zero_alert_rules_makes_no_firing_alerts_pending(bare_prometheus, prometheus):
    clean = run_gate(Api(url=prometheus["url"]), no_firing_alerts=True, alert_label_filters={"service": "payments"})
    assert clean["verdict"]["status"] == "pass", clean["verdict"]["summary"]
    planted = run_gate(Api(url=bare_prometheus), no_firing_alerts=True)
    assert planted["verdict"]["status"] == "pending", planted["verdict"]["summary"]
    assert "no alert rules loaded" in planted["verdict"]["summary"]
    # Same with Alertmanager as the source: Prometheus, which would raise the alerts, has no rule.
    via_am = run_gate(Api(url=bare_prometheus, alertmanager_url=prometheus["alertmanager_url"]),
                      no_firing_alerts=True, alert_source="alertmanager", alert_label_filters={"service": "payments"})
    assert via_am["verdict"]["status"] == "pending", via_am["verdict"]["summary"]


def test_required_rules_with_no_rule_loaded_is_pending(bare_prometheus):
    res = run_gate(Api(url=bare_prometheus), no_firing_alerts=False, required_rules=["SampleAppHighErrorRate"])
    assert res["verdict"]["status"] == "pending"
    assert "Prometheus has no alert rules loaded (no data)" in res["verdict"]["summary"]


def test_every_pass_carries_a_measurement_per_check(prometheus):
    res = run_gate(Api(url=prometheus["url"]), required_rules=["SampleAppHighErrorRate"],
                   required_series=['up{job="sample-app"}'], targets_up=True, target_jobs=["sample-app"],
                   alert_label_filters={"service": "payments"})
    assert res["verdict"]["status"] == "pass", res["verdict"]["summary"]
    names = {m["name"]: m for m in res["verdict"]["evidence"]["measurements"]}
    assert names["rule SampleAppHighErrorRate"]["value"] == 1
    assert names['series up{job="sample-app"}']["value"] == 1
    assert names["targets sample-app"]["value"] >= 1 and names["no firing alerts"]["value"] == 0


def test_auth_token_and_authorization_header_together_are_refused(prometheus):
    api = Api(url=prometheus["url"], headers={"authorization": "x"}, auth_token="y")
    with pytest.raises(MonitoringError, match="either auth_token or an Authorization header"):
        run_gate(api, no_firing_alerts=True)


def test_module_gates_pending_and_never_shows_token_or_header_values(bare_prometheus, prometheus):
    token, tenant = secrets.token_hex(12), secrets.token_hex(12)
    raw, res = run_module_raw("prometheus_gate", {"url": bare_prometheus, "targets_up": True, "fail_on": "pending",
                                              "auth_token": token, "headers": {"X-Scope-OrgID": tenant}})
    assert res.get("failed") and res["verdict"]["status"] == "pending", res
    assert "no active scrape targets" in res["msg"]
    assert token not in raw and tenant not in raw
    raw, res = run_module_raw("prometheus_gate", {"url": prometheus["url"], "targets_up": True, "fail_on": "pending",
                                              "auth_token": token, "alert_label_filters": {"service": "payments"}})
    assert not res.get("failed") and res["verdict"]["status"] == "pass", res.get("msg")
    assert token not in raw
    # Default fail_on=never: a pending gate is returned for the checklist, the task does not fail.
    _raw, res = run_module_raw("prometheus_gate", {"url": bare_prometheus, "targets_up": True})
    assert not res.get("failed") and res["verdict"]["status"] == "pending"
