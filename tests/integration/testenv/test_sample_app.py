"""The sample service against the real harness PostgreSQL: health, metrics, API, search, faults."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
import uuid

import pytest

from ansible_collections.deploysafe.preflight.plugins.module_utils.load import promtext
from deploysafe_testenv import TestEnv
import socket

from deploysafe_testenv.process import pid_alive


def call(url: str, method: str = "GET", body=None, timeout: float = 10):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return resp.status, resp.headers.get("Content-Type", ""), resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers.get("Content-Type", ""), exc.read()


@pytest.fixture
def faults(app):
    """Reset the app's faults before and after a test that changes them."""
    call(app["url"] + "/admin/faults", "DELETE")
    yield lambda **kw: call(app["url"] + "/admin/faults", "POST", kw)
    call(app["url"] + "/admin/faults", "DELETE")


def test_healthz_reports_postgres_pass(app):
    status, ctype, body = call(app["url"] + "/healthz")
    health = json.loads(body)
    assert status == 200 and ctype.startswith("application/health+json")
    assert health["status"] == "pass"
    assert health["checks"]["postgres:connection"][0]["status"] == "pass"


def test_metrics_parse_and_count_requests(app):
    call(app["url"] + "/api/workspaces")
    status, _, body = call(app["url"] + "/metrics")
    samples = promtext.parse(body.decode())
    assert status == 200
    assert promtext.value(samples, "http_requests_total", endpoint="/api/workspaces", status="200") >= 1
    assert promtext.value(samples, "http_request_duration_seconds_count", endpoint="/api/workspaces") >= 1
    assert promtext.value(samples, "http_request_duration_seconds_bucket", endpoint="/api/workspaces", le="+Inf") >= 1
    assert promtext.value(samples, "process_cpu_seconds_total") > 0
    assert promtext.value(samples, "process_resident_memory_bytes") > 10 * 1024 * 1024


def test_workspaces_create_then_list(app):
    name = f"ws-{uuid.uuid4().hex[:8]}"
    status, _, body = call(app["url"] + "/api/workspaces", "POST", {"name": name})
    assert status == 201 and json.loads(body)["name"] == name
    assert call(app["url"] + "/api/workspaces", "POST", {"name": name})[0] == 409
    assert call(app["url"] + "/api/workspaces", "POST", {"nom": name})[0] == 400
    _, _, body = call(app["url"] + "/api/workspaces?limit=1000")
    assert name in [w["name"] for w in json.loads(body)["items"]]


def test_workflows_list_and_create(app):
    status, _, body = call(app["url"] + "/api/workflows?workspace_id=1")
    assert status == 200 and json.loads(body)["count"] == 5
    status, _, body = call(app["url"] + "/api/workflows", "POST", {"workspace_id": 1, "name": "wf", "steps": ["a"]})
    assert status == 201 and json.loads(body)["steps"] == ["a"]
    assert call(app["url"] + "/api/workflows", "POST", {"workspace_id": 999999, "name": "x"})[0] == 404


def test_search_with_and_without_index(app, faults):
    _, _, body = call(app["url"] + "/api/search?q=backup+postgres&limit=100")
    indexed = json.loads(body)
    assert indexed["source"] == "index" and indexed["count"] > 0
    faults(search_index=False)
    _, _, body = call(app["url"] + "/api/search?q=backup+postgres&limit=100")
    scanned = json.loads(body)
    assert scanned["source"] == "scan"
    assert [i["id"] for i in scanned["items"]] == [i["id"] for i in indexed["items"]]
    # The index being down degrades health (warn) without failing it.
    _, _, body = call(app["url"] + "/healthz")
    assert json.loads(body)["status"] == "warn"


def test_fault_injection_errors_only_on_chosen_path(app, faults):
    assert faults(error_rate=1.0, error_paths=["/api/search"])[0] == 200
    assert call(app["url"] + "/api/search?q=backup")[0] == 500
    assert call(app["url"] + "/api/workspaces")[0] == 200
    assert faults(error_rate=2)[0] == 400
    assert faults(bogus=1)[0] == 400


def test_fault_injection_latency(app, faults):
    faults(latency_ms=300, latency_paths=["/api/workflows"])
    started = time.perf_counter()
    call(app["url"] + "/api/workflows")
    slow = time.perf_counter() - started
    assert slow >= 0.3   # the injected delay is a lower bound, not a timing assertion on the machine


def test_fault_injection_leak_grows_rss(app, faults):
    def rss():
        return promtext.value(promtext.parse(call(app["url"] + "/metrics")[2].decode()),
                              "process_resident_memory_bytes")
    before = rss()
    faults(leak_kb_per_s=50_000)
    deadline = time.monotonic() + 10
    while rss() - before < 20 * 1024 * 1024 and time.monotonic() < deadline:
        time.sleep(0.2)
    faults(leak_kb_per_s=0)
    assert rss() - before >= 20 * 1024 * 1024


def test_healthz_503_naming_postgres_when_it_is_down():
    with TestEnv() as env:
        env.start("app")
        url, port, pid = env["app"].data["url"], env["app"].ports[0], env["app"].data["pid"]
        env.stop("postgres")
        status, _, body = call(url + "/healthz")
        health = json.loads(body)
        assert status == 503 and health["status"] == "fail"
        assert health["checks"]["postgres:connection"][0]["status"] == "fail"
        assert call(url + "/api/workspaces")[0] == 503
    # Stopped means nothing answers any more (the port itself may sit in TIME_WAIT for a while).
    assert not pid_alive(pid)
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", port), timeout=2).close()
