"""run_smoke against a real loopback HTTP server: pass, wrong result, latency budget, no answer,
retries, empty list, check mode, reports, and secrets kept out of everything it returns and writes."""

from __future__ import annotations

import json
import secrets
import time
import xml.etree.ElementTree as ET

import pytest

from ansible_collections.deploysafe.preflight.plugins.module_utils.smoke.checks import SmokeError
from ansible_collections.deploysafe.preflight.plugins.module_utils.smoke.runner import SmokeOptions, run_smoke
from ansible_collections.deploysafe.preflight.plugins.module_utils.verdict import validate

SEARCH = {"query": "backup", "source": "index", "count": 1, "items": [{"id": 26, "title": "How to rotate backup for secret"}]}


@pytest.fixture
def service(loopback_http):
    """/search answers SEARCH, /slow the same after 150 ms, /flaky fails twice then answers; records headers."""
    state = {"flaky": 0, "headers": []}

    def respond(request):
        state["headers"].append(dict(request.headers))
        if request.path.startswith("/slow"):
            time.sleep(0.15)
        if request.path.startswith("/flaky"):
            state["flaky"] += 1
            if state["flaky"] <= 2:
                return 503, "application/json", b'{"error": "warming up"}'
        if request.path.startswith("/text"):
            return 200, "text/plain", b"hello smoke"
        return 200, "application/json", json.dumps(SEARCH).encode()

    return loopback_http(respond), state


def test_clean_checks_pass_with_latency_measured(service, tmp_path):
    url, _ = service
    result = run_smoke(SmokeOptions(base_url=url, report_dir=str(tmp_path), checks=[
        {"name": "search", "url": "/search?q=backup", "expect": {"json": [
            {"path": "$.items[0].title", "equals": "How to rotate backup for secret"},
            {"path": "$.items", "min_items": 1}], "max_ms": 5000}},
        {"name": "text", "url": "/text", "expect": {"body_contains": "smoke"}},
    ]))
    verdict = result["verdict"]
    assert verdict["status"] == "pass", verdict
    validate(verdict)
    assert result["counts"] == {"passed": 2, "failed": 0, "skipped": 0}
    latency = next(m for m in verdict["evidence"]["measurements"] if m["name"] == "search.latency_ms")
    assert latency["unit"] == "ms" and latency["threshold"] == 5000 and latency["ok"] and latency["value"] > 0
    assert {a["kind"] for a in verdict["evidence"]["artifacts"]} == {"json", "markdown", "junit"}
    suite = ET.parse(tmp_path / "smoke_check.junit.xml").getroot()
    assert [c.get("name") for c in suite.iter("testcase")] == ["search", "text"]
    assert suite.get("failures") == "0"
    assert json.loads((tmp_path / "smoke_check.json").read_text())["verdict"]["status"] == "pass"
    assert "# Smoke checks: PASS" in (tmp_path / "smoke_check.md").read_text()


def test_wrong_result_fails_naming_the_check_expected_and_actual(service, tmp_path):
    url, _ = service
    result = run_smoke(SmokeOptions(base_url=url, report_dir=str(tmp_path), checks=[
        {"name": "search", "url": "/search?q=backup",
         "expect": {"json": [{"path": "$.items[0].title", "equals": "How to restore postgres"}]}},
        {"name": "ok", "url": "/search"},
    ]))
    verdict = result["verdict"]
    assert verdict["status"] == "fail"
    assert verdict["summary"].startswith("1 of 2 smoke check(s) failed: search: $.items[0].title: "
                                         'expected "How to restore postgres", got "How to rotate backup for secret"')
    assert verdict["evidence"]["findings"] == {"checks_failed": 1, "assertions_failed": 1}
    cases = {c.get("name"): c for c in ET.parse(tmp_path / "smoke_check.junit.xml").getroot().iter("testcase")}
    assert "How to restore postgres" in cases["search"].find("failure").get("message")
    assert cases["ok"].find("failure") is None
    assert "**FAIL**" in (tmp_path / "smoke_check.md").read_text()


def test_latency_budget_exceeded_fails_with_the_measured_ms(service):
    url, _ = service
    result = run_smoke(SmokeOptions(base_url=url, checks=[{"name": "slow", "url": "/slow", "expect": {"max_ms": 20}}]))
    verdict = result["verdict"]
    assert verdict["status"] == "fail"
    measured = result["checks"][0]["latency_ms"]
    assert measured >= 150
    assert f"latency {measured:.0f} ms over budget 20 ms" in verdict["summary"]
    latency = next(m for m in verdict["evidence"]["measurements"] if m["name"] == "slow.latency_ms")
    assert latency["ok"] is False and latency["value"] == measured


def test_status_and_non_json_body(service):
    url, _ = service
    result = run_smoke(SmokeOptions(base_url=url, checks=[
        {"name": "status", "url": "/search", "expect": {"status": [201]}},
        {"name": "not json", "url": "/text", "expect": {"json": [{"path": "$.a", "exists": True}]}},
    ]))
    reasons = {c["name"]: c["reasons"] for c in result["checks"]}
    assert reasons["status"][0].startswith("HTTP 200, expected 201 (body: ")
    assert reasons["not json"] == ['body is not JSON (text/plain): "hello smoke"']


def test_no_answer_fails_with_the_reason():
    from deploysafe_testenv.process import free_port
    port = free_port()  # nothing listens there
    result = run_smoke(SmokeOptions(checks=[{"name": "down", "url": f"http://127.0.0.1:{port}/x"}]))
    assert result["verdict"]["status"] == "fail"
    assert "down: no answer: connection failed" in result["verdict"]["summary"]
    assert result["checks"][0]["latency_ms"] is None and result["checks"][0]["http_status"] is None


def test_retries_until_the_check_passes(service):
    url, state = service
    pauses = []
    result = run_smoke(SmokeOptions(base_url=url, retries=3, retry_delay=0.5, checks=[{"name": "flaky", "url": "/flaky"}]),
                       sleep=pauses.append)
    assert result["verdict"]["status"] == "pass"
    assert result["checks"][0]["attempts"] == 3 and pauses == [0.5, 0.5]
    state["flaky"] = 0
    once = run_smoke(SmokeOptions(base_url=url, retries=3, checks=[{"name": "flaky", "url": "/flaky", "retries": 0}]),
                     sleep=pauses.append)
    assert once["verdict"]["status"] == "fail" and once["checks"][0]["attempts"] == 1


def test_no_check_is_pending():
    result = run_smoke(SmokeOptions(checks=[]))
    assert result["verdict"]["status"] == "pending"
    assert "no smoke check configured" in result["verdict"]["summary"]


def test_check_mode_runs_only_read_only_checks(service, tmp_path):
    url, state = service
    checks = [{"name": "read", "url": "/search"}, {"name": "write", "url": "/search", "method": "POST", "json": {}}]
    result = run_smoke(SmokeOptions(base_url=url, checks=checks, report_dir=str(tmp_path / "r")), check_mode=True)
    assert [c["outcome"] for c in result["checks"]] == ["passed", "skipped"]
    assert result["verdict"]["status"] == "pending"
    assert "not read-only, skipped (write)" in result["verdict"]["summary"]
    assert len(state["headers"]) == 1 and not (tmp_path / "r").exists()   # POST never sent, no report
    nothing = run_smoke(SmokeOptions(base_url=url, checks=checks[1:]), check_mode=True)
    assert nothing["verdict"]["status"] == "pending" and "0 ran" in nothing["verdict"]["summary"]


def test_secrets_are_sent_but_never_returned_or_written(service, tmp_path):
    url, state = service
    token, header, query = secrets.token_hex(12), secrets.token_hex(12), secrets.token_hex(12)
    result = run_smoke(SmokeOptions(base_url=url, auth_token=token, report_dir=str(tmp_path), checks=[
        {"name": "auth", "url": f"/search?api_key={query}&q=x", "headers": {"X-Api-Key": header},
         "expect": {"status": [500]}}]))
    sent = state["headers"][-1]
    assert sent["Authorization"] == f"Bearer {token}" and sent["X-Api-Key"] == header
    assert result["checks"][0]["url"].endswith("/search?api_key=***&q=x")
    everything = json.dumps(result) + "".join(p.read_text() for p in tmp_path.iterdir())
    for secret in (token, header, query):
        assert secret not in everything


def test_token_and_authorization_header_are_refused_before_sending(service):
    url, state = service
    with pytest.raises(SmokeError, match="not both"):
        run_smoke(SmokeOptions(base_url=url, auth_token="a", headers={"Authorization": "b"},
                               checks=[{"name": "x", "url": "/"}]))
    assert state["headers"] == []
