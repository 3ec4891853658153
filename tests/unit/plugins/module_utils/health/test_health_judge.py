"""Judging health bodies: health+json, Spring shape, degraded, missing dependencies (pure logic)."""

from __future__ import annotations

import json

from ansible_collections.deploysafe.preflight.plugins.module_utils.health.http import (
    Attempt, HealthOptions, dependencies, judge)


def att(body, status=200):
    return Attempt(status=status, latency_ms=5.0, body=json.dumps(body).encode())


def test_health_json_dependencies():
    doc = {"status": "pass", "checks": {"db:connection": [{"status": "pass"}, {"status": "warn"}],
                                        "cache:ping": [{"status": "fail", "output": "timeout"}]}}
    assert dependencies(doc) == {"db:connection": "warn", "cache:ping": "fail"}
    problems = judge(HealthOptions(url="http://x"), att(doc))
    assert "dependency cache:ping is failing: timeout" in problems and "dependency db:connection is degraded" in problems


def test_spring_components():
    doc = {"status": "UP", "components": {"db": {"status": "UP"}, "disk": {"status": "DOWN"}}}
    assert judge(HealthOptions(url="http://x"), att(doc)) == ["dependency disk is failing"]


def test_degraded_top_level_and_allow_degraded():
    assert judge(HealthOptions(url="http://x"), att({"status": "warn"})) == ["service is degraded (status warn)"]
    assert judge(HealthOptions(url="http://x", allow_degraded=True), att({"status": "warn"})) == []


def test_status_body_and_required_dependencies():
    opts = HealthOptions(url="http://x", required_dependencies=["db"])
    problems = judge(opts, att({"status": "pass"}, status=503))
    assert problems == ["HTTP 503, expected 200", "required dependency db is not reported"]
    assert judge(HealthOptions(url="http://x"), Attempt(200, 1.0, b"<html>")) == ["body is not JSON"]
    assert judge(HealthOptions(url="http://x", check_body=False), Attempt(200, 1.0, b"<html>")) == []
