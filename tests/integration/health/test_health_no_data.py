"""health_check must not pass when the body reports no dependency (planted: the sample service's
/livez, which by design checks nothing behind it) unless the user says none are expected."""

from __future__ import annotations

import secrets

from ansible_collections.deploysafe.preflight.plugins.module_utils.health.http import HealthOptions, check_health
from tests.integration.module_runner import run_module_raw


def check(url, **kw):
    return check_health(HealthOptions(url=url, backoff=0.05, retries=0, **kw))


def test_body_without_dependencies_is_pending(app):
    clean = check(app["url"] + "/healthz")
    assert clean["verdict"]["status"] == "pass", clean["verdict"]["summary"]
    planted = check(app["url"] + "/livez")
    assert planted["verdict"]["status"] == "pending", planted["verdict"]["summary"]
    assert "reports no dependency" in planted["verdict"]["summary"]
    assert planted["dependencies"] == {}


def test_no_dependency_expected_passes_with_evidence(app):
    res = check(app["url"] + "/livez", expect_dependencies=False)
    assert res["verdict"]["status"] == "pass", res["verdict"]["summary"]
    names = {m["name"]: m["value"] for m in res["verdict"]["evidence"]["measurements"]}
    assert names["http_status"] == 200 and names["dependencies_reported"] == 0


def test_all_dependencies_ignored_is_pending(app):
    res = check(app["url"] + "/healthz", ignore_dependencies=["postgres:connection", "search:index"])
    assert res["verdict"]["status"] == "pending" and "no dependency that counts" in res["verdict"]["summary"]


def test_auth_token_is_sent_and_conflicts_are_refused(app):
    # The sample service ignores the header; the request must still work with it.
    assert check(app["url"] + "/healthz", auth_token=secrets.token_hex(8))["verdict"]["status"] == "pass"


def test_module_gates_pending_and_never_shows_token_or_header_values(app):
    token, api_key = secrets.token_hex(12), secrets.token_hex(12)
    raw, res = run_module_raw("health_check", {"url": app["url"] + "/livez", "retries": 0, "fail_on": "pending",
                                           "auth_token": token, "headers": {"X-Api-Key": api_key}})
    assert res.get("failed") and res["verdict"]["status"] == "pending", res
    assert "reports no dependency" in res["msg"]
    assert token not in raw and api_key not in raw
    raw, res = run_module_raw("health_check", {"url": app["url"] + "/livez", "retries": 0, "fail_on": "pending",
                                           "expect_dependencies": False, "auth_token": token})
    assert not res.get("failed") and res["verdict"]["status"] == "pass", res.get("msg")
    assert token not in raw
    _raw, res = run_module_raw("health_check", {"url": app["url"] + "/livez", "retries": 0,
                                            "auth_token": token, "headers": {"authorization": "Basic x"}})
    assert res.get("failed") and "either auth_token or an Authorization header" in res["msg"]
