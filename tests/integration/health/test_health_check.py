"""health_check against the real sample service (and its real PostgreSQL)."""

from __future__ import annotations

import pytest

from ansible_collections.deploysafe.preflight.plugins.module_utils.health.http import (
    HealthCheckError, HealthOptions, check_health)
from deploysafe_testenv import TestEnv


def check(url, **kw):
    return check_health(HealthOptions(url=url, backoff=0.05, **kw))


def test_healthy_service_passes(app):
    result = check(app["url"] + "/healthz", required_dependencies=["postgres:connection"], latency_budget_ms=2000)
    assert result["verdict"]["status"] == "pass", result["verdict"]["summary"]
    assert result["dependencies"]["postgres:connection"] == "pass"


def test_degraded_is_not_pass_unless_allowed(app, faults):
    faults(search_index=False)
    result = check(app["url"] + "/healthz", retries=0)
    assert result["verdict"]["status"] == "fail" and "degraded" in result["verdict"]["summary"]
    assert "search:index" in result["verdict"]["summary"]
    assert check(app["url"] + "/healthz", retries=0, allow_degraded=True)["verdict"]["status"] == "pass"


def test_missing_required_dependency_fails(app):
    result = check(app["url"] + "/healthz", retries=0, required_dependencies=["redis:connection"])
    assert result["verdict"]["status"] == "fail" and "redis:connection is not reported" in result["verdict"]["summary"]


def test_latency_budget(app, faults):
    faults(latency_ms=300, latency_paths=["/healthz"])
    result = check(app["url"] + "/healthz", retries=1, latency_budget_ms=100)
    assert result["verdict"]["status"] == "fail" and "over budget" in result["verdict"]["summary"]
    assert len(result["attempts"]) == 2


def test_dependency_down_fails_naming_it():
    with TestEnv() as env:
        env.start("app")
        env.stop("postgres")
        result = check(env["app"].data["url"] + "/healthz", retries=1)
    assert result["verdict"]["status"] == "fail"
    assert result["status_code"] == 503
    assert "dependency postgres:connection is failing" in result["verdict"]["summary"]
    assert result["dependencies"] == {"postgres:connection": "fail", "search:index": "pass"}


def test_unreachable_and_tls_errors_are_named(app):
    closed = check("http://127.0.0.1:1/healthz", retries=1)
    assert closed["verdict"]["status"] == "fail" and "connection failed" in closed["verdict"]["summary"]
    tls = check(app["url"].replace("http://", "https://") + "/healthz", retries=0)
    assert tls["verdict"]["status"] == "fail" and "TLS error" in tls["verdict"]["summary"]
    dns = check("http://no-such-host.invalid/healthz", retries=0)
    assert dns["verdict"]["status"] == "fail" and "DNS failure" in dns["verdict"]["summary"]


def test_bad_url_is_refused():
    with pytest.raises(HealthCheckError):
        check("ftp://example.test/")
