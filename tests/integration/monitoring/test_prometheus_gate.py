"""prometheus_gate against the harness Prometheus + Alertmanager scraping the real sample service."""

from __future__ import annotations

import json
import threading
import time
import urllib.request
from datetime import datetime, timedelta, timezone

import pytest

from ansible_collections.deploysafe.preflight.plugins.module_utils.monitoring.gate import run_gate
from ansible_collections.deploysafe.preflight.plugins.module_utils.monitoring.prometheus import Api, MonitoringError


def post(url, body, method="POST"):
    req = urllib.request.Request(url, method=method, data=json.dumps(body).encode() if body is not None else None,
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as resp:
        raw = resp.read()
        return json.loads(raw) if raw else None


@pytest.fixture
def api(prometheus):
    return Api(url=prometheus["url"], alertmanager_url=prometheus["alertmanager_url"])


def gate(api, **kw):
    kw.setdefault("no_firing_alerts", False)
    return run_gate(api, **kw)


def test_query_with_data_passes_and_planted_threshold_fails(api):
    good = gate(api, queries=[{"name": "app up", "query": 'up{job="sample-app"}', "comparison": "==", "threshold": 1}])
    assert good["verdict"]["status"] == "pass", good["verdict"]["summary"]
    bad = gate(api, queries=[{"name": "rss tiny", "query": 'process_resident_memory_bytes{job="sample-app"}',
                              "comparison": "<", "threshold": 1024}])
    assert bad["verdict"]["status"] == "fail" and "rss tiny: 1 of 1 series not < 1024" in bad["verdict"]["summary"]


def test_range_check_aggregates_over_the_window(api):
    time.sleep(3)   # a few scrapes in the window
    ok = gate(api, queries=[{"name": "rss bounded", "query": 'process_resident_memory_bytes{job="sample-app"}',
                             "range_seconds": 30, "aggregate": "max", "threshold": 4 * 2**30}])
    assert ok["verdict"]["status"] == "pass", ok["verdict"]["summary"]
    bad = gate(api, queries=[{"name": "rss min", "query": 'process_resident_memory_bytes{job="sample-app"}',
                              "range_seconds": 30, "aggregate": "min", "comparison": ">", "threshold": 2**40}])
    assert bad["verdict"]["status"] == "fail"


def test_no_series_is_no_data_fail_unless_allowed(api):
    q = {"name": "ghost", "query": 'http_requests_total{endpoint="/does-not-exist"}', "threshold": 1}
    res = gate(api, queries=[q])
    assert res["verdict"]["status"] == "fail" and "no data" in res["verdict"]["summary"]
    assert gate(api, queries=[dict(q, allow_empty=True)])["verdict"]["status"] == "pass"


def test_required_series_absent_fails(api):
    assert gate(api, required_series=['up{job="sample-app"}'])["verdict"]["status"] == "pass"
    res = gate(api, required_series=['up{job="payments"}'])
    assert res["verdict"]["status"] == "fail" and "missing (absent)" in res["verdict"]["summary"]


def test_required_rules_and_targets(api):
    assert gate(api, required_rules=["SampleAppHighErrorRate"], targets_up=True,
                target_jobs=["sample-app"])["verdict"]["status"] == "pass"
    res = gate(api, required_rules=["NoSuchRule"], targets_up=True, target_jobs=["payments"])
    assert res["verdict"]["status"] == "fail"
    assert "alert rule NoSuchRule is missing" in res["verdict"]["summary"]
    assert "job payments: no scrape targets" in res["verdict"]["summary"]


def test_bad_promql_and_unreachable_are_clear_errors(api):
    with pytest.raises(MonitoringError, match="HTTP 400"):
        gate(api, queries=[{"query": "rate(up[", "threshold": 1}])
    with pytest.raises(MonitoringError, match="cannot reach"):
        run_gate(Api(url="http://127.0.0.1:1"), no_firing_alerts=True)


def test_no_checks_is_pending(api):
    assert run_gate(api, no_firing_alerts=False)["verdict"]["status"] == "pending"


def test_firing_alert_fails_with_labels_and_silence_makes_it_pass(api, app, prometheus):
    """Errors injected on the sample service raise SampleAppHighErrorRate; Alertmanager gets it; a silence
    on it makes the Alertmanager-sourced gate pass while Prometheus still sees it firing."""
    post(app["url"] + "/admin/faults", {"error_rate": 1.0, "error_paths": ["/api/search"]})
    stop = threading.Event()

    def traffic():
        while not stop.is_set():
            try:
                urllib.request.urlopen(app["url"] + "/api/search?q=backup", timeout=2).close()
            except Exception:
                pass
            time.sleep(0.02)
    thread = threading.Thread(target=traffic, daemon=True)
    thread.start()
    silence_id = None
    try:
        filters = {"service": "sample-app"}
        deadline = time.monotonic() + 60
        res = None
        while time.monotonic() < deadline:
            res = gate(api, no_firing_alerts=True, alert_source="alertmanager", alert_label_filters=filters)
            if res["verdict"]["status"] == "fail":
                break
            time.sleep(1)
        assert res["verdict"]["status"] == "fail", "alert never reached Alertmanager"
        assert "SampleAppHighErrorRate" in res["verdict"]["summary"]
        assert 'severity="critical"' in res["verdict"]["summary"]
        assert res["firing_alerts"][0]["service"] == "sample-app"
        # Filters that do not match the alert's labels leave it out.
        assert gate(api, no_firing_alerts=True, alert_source="alertmanager",
                    alert_label_filters={"service": "payments"})["verdict"]["status"] == "pass"
        now = datetime.now(timezone.utc)
        silence_id = post(prometheus["alertmanager_url"] + "/api/v2/silences", {
            "matchers": [{"name": "alertname", "value": "SampleAppHighErrorRate", "isRegex": False, "isEqual": True}],
            "startsAt": now.isoformat(), "endsAt": (now + timedelta(minutes=10)).isoformat(),
            "createdBy": "pytest", "comment": "planned maintenance"})["silenceID"]
        silenced = gate(api, no_firing_alerts=True, alert_source="alertmanager", alert_label_filters=filters)
        assert silenced["verdict"]["status"] == "pass", silenced["verdict"]["summary"]
        direct = gate(api, no_firing_alerts=True, alert_source="prometheus", alert_label_filters=filters)
        assert direct["verdict"]["status"] == "fail"   # Prometheus itself knows nothing about silences
    finally:
        stop.set()
        thread.join()
        post(app["url"] + "/admin/faults", None, method="DELETE")
        if silence_id:
            urllib.request.urlopen(urllib.request.Request(
                prometheus["alertmanager_url"] + f"/api/v2/silence/{silence_id}", method="DELETE"), timeout=5).close()
