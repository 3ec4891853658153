"""The shipped load profiles against the real sample service: its profile endpoints, each Locust user
class through the Locust engine (the `load` shape, time-scaled), tag selection, the search budgets
failing a planted slow search, result checks failing a planted wrong ranking, and the k6 script."""

from __future__ import annotations

import json
import os
import subprocess
import urllib.error
import urllib.request

import pytest

from ansible_collections.deploysafe.preflight.plugins.module_utils.load.k6 import k6_executable
from ansible_collections.deploysafe.preflight.plugins.module_utils.load.runner import run_load_test

FILES = os.path.abspath(os.path.join(os.path.dirname(__file__), "../../../roles/load_test/files"))
LOCUSTFILE = os.path.join(FILES, "locustfile.py")
K6_SCRIPT = os.path.join(FILES, "k6_script.js")
CLASSES = {
    "PlatformUser": {"healthz", "workspaces", "create_workspace", "workflows", "create_workflow",
                     "trigger_execution", "search", "kb_search", "add_knowledge"},
    "AdminUser": {"system_metrics", "audit_logs", "users", "create_user", "costs"},
    "HeavyUser": {"generate_project", "dataset_search", "analyse_codebase", "complex_search"},
}
# The `load` profile (20 min, up to 100 users) played in 6 s with up to 5 users.
SHAPE = {"profile": "load", "time_scale": 0.005, "target_scale": 0.05, "max_duration": 60,
         "threshold_scopes": ["overall", "endpoint"]}


def call(url, method="GET", body=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def locust(app, classes, tags=(), **opts):
    options = dict(SHAPE, engine="locust", base_url=app["url"], requests=["/healthz"],
                   locust={"locustfile": LOCUSTFILE, "user_classes": list(classes), "tags": list(tags)})
    options.update(opts)
    return run_load_test(options)


def checks(result):
    return {c["name"]: c for c in result["checks"]}


def failed(result):
    return sorted(name for name, c in checks(result).items() if c["ok"] is False)


@pytest.fixture
def small_jobs(monkeypatch):
    monkeypatch.setenv("DEPLOYSAFE_HEAVY_SIZE", "4")   # heavy jobs of 4 files / 4,000 rows


def test_profile_endpoints_do_real_work_and_check_input(app):
    url = app["url"]
    status, body = call(url + "/api/knowledge/search?q=article+417&limit=3")
    assert status == 200 and body["items"][0]["id"] == 417 and body["size"] >= 1000
    status, added = call(url + "/api/knowledge", "POST", {"title": "Profile test note", "body": "zebracorn"})
    assert status == 201 and added["id"] > 1000
    assert call(url + "/api/knowledge/search?q=zebracorn")[1]["items"][0]["id"] == added["id"]
    status, body = call(url + "/api/search/complex", "POST", {"all": ["backup"], "none": ["canary"], "limit": 50})
    assert status == 200 and body["items"] and all(
        "backup" in (i["title"] + i["body"]).lower() and "canary" not in (i["title"] + i["body"]).lower()
        for i in body["items"])
    workflow = call(url + "/api/workflows")[1]["items"][0]["id"]
    status, body = call(url + f"/api/workflows/{workflow}/executions", "POST", {})
    assert status == 201 and body["status"] == "succeeded"
    assert call(url + "/api/workflows/987654321/executions", "POST", {})[0] == 404
    status, body = call(url + "/api/projects/generate", "POST", {"size": 3, "seed": 5})
    assert status == 201 and body["files"] == 3 and body["bytes"] > 0
    assert call(url + "/api/projects/generate", "POST", {"size": 5000})[0] == 400
    status, body = call(url + "/api/analysis/codebase", "POST", {"size": 3})
    assert status == 200 and body["functions"] >= 9
    status, body = call(url + "/api/datasets/search?q=backup&rows=2000")
    assert status == 200 and body["rows"] == 2000 and 0 < body["matches"] < 2000
    assert call(url + "/api/datasets/search?q=backup&rows=10000000")[0] == 400
    assert call(url + "/admin/system/metrics")[1]["rss_kb"] > 0
    assert call(url + "/admin/users", "POST", {"name": "profile-admin", "role": "root"})[0] == 400
    assert call(url + "/admin/costs")[1]["items"]
    assert any(e["action"] == "execution.trigger" for e in call(url + "/admin/audit-logs")[1]["items"])


@pytest.mark.parametrize("user_class", list(CLASSES))
def test_each_user_class_runs_through_locust(app, small_jobs, user_class):
    result = locust(app, [user_class], thresholds={"p95_ms": 2000, "p99_ms": None, "error_rate": 0.01})
    assert set(result["stats"]["endpoints"]) <= CLASSES[user_class]
    assert len(result["stats"]["endpoints"]) >= 3, result["stats"]["endpoints"]
    assert [s["name"] for s in result["plan"]["stages"]] == ["ramp-up-50", "ramp-up-100", "sustain", "ramp-down"]
    assert result["stats"]["overall"]["error_rate"] == 0, result["run"]["error_kinds"]
    assert result["verdict"]["status"] == "pass", result["verdict"]["summary"]
    budgets = {"search": 200, "kb_search": 300, "complex_search": 500}
    for name in set(budgets) & set(result["stats"]["endpoints"]):
        assert checks(result)[f"p95_ms[endpoint={name}]"]["limit"] == budgets[name]


def test_tags_select_tasks(app):
    result = locust(app, ["PlatformUser", "AdminUser"], tags=["search"])
    # create_workspace: each PlatformUser's own workspace, made in on_start whatever the tags
    assert set(result["stats"]["endpoints"]) == {"search", "kb_search", "create_workspace"}


def test_planted_slow_search_fails_its_budget_only(app, faults):
    # 350 ms is inside the overall p95 limit (500 ms) but over the single-search budget (200 ms).
    faults(latency_ms=350, latency_paths=["/api/search"])
    result = locust(app, ["PlatformUser"], tags=["search"], thresholds={"p99_ms": None})
    assert failed(result) == ["p95_ms[endpoint=search]"], result["verdict"]["summary"]
    assert checks(result)["p95_ms[endpoint=kb_search]"]["ok"] is True
    assert result["verdict"]["status"] == "fail"


def test_planted_wrong_top_hit_fails_the_result_check(app, faults):
    faults(wrong_results=True)
    result = locust(app, ["PlatformUser"], tags=["knowledge"])
    assert result["stats"]["endpoints"]["kb_search"]["error_rate"] == 1.0
    assert "wrong_result" in result["run"]["error_kinds"]
    assert "error_rate[endpoint=kb_search]" in failed(result) and result["verdict"]["status"] == "fail"


def test_k6_script_has_the_load_shape_and_thresholds():
    out = subprocess.run([k6_executable({}), "inspect", "--execution-requirements", K6_SCRIPT], capture_output=True,
                         text=True, timeout=60, check=True, env=dict(os.environ, K6_NO_USAGE_REPORT="true"))
    options = json.loads(out.stdout)
    load = options["scenarios"]["load"]
    assert [(s["duration"], s["target"]) for s in load["stages"]] == [
        ("2m0s", 50), ("5m0s", 100), ("10m0s", 100), ("3m0s", 0)]
    limits = options["thresholds"]
    assert limits["http_req_duration"] == ["p(95)<500", "p(99)<1000"]
    assert limits["http_req_failed"] == ["rate<0.01"] and limits["errors"] == ["rate<0.001"]
    assert limits["http_req_duration{name:search}"] == ["p(95)<200"]
    assert limits["http_req_duration{name:kb_search}"] == ["p(95)<300"]
    assert limits["http_req_duration{name:complex_search}"] == ["p(95)<500"]


def test_k6_script_runs_the_load_shape_time_scaled(app, small_jobs):
    result = run_load_test(dict(SHAPE, engine="k6", base_url=app["url"], requests=["/healthz"],
                                k6={"script": K6_SCRIPT, "scenario": "load"},
                                thresholds={"p95_ms": 2000, "p99_ms": None, "error_rate": 0.01}))
    names = set().union(*CLASSES.values())
    assert result["stats"]["overall"]["requests"] > 20
    assert set(result["stats"]["endpoints"]) <= names and len(result["stats"]["endpoints"]) >= 3
    assert result["stats"]["overall"]["error_rate"] == 0
    assert result["run"]["exit_code"] == 0, result["run"].get("engine_thresholds_failed")
