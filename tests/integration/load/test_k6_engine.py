"""k6 (built from its Go module by `make k6`) gives the same verdicts as the built-in engine."""

from __future__ import annotations

import os

import pytest

from ansible_collections.deploysafe.preflight.plugins.module_utils.load.k6 import k6_executable
from ansible_collections.deploysafe.preflight.plugins.module_utils.load.plan import LoadTestError
from ansible_collections.deploysafe.preflight.plugins.module_utils.load.runner import run_load_test

try:
    K6 = k6_executable({})
except LoadTestError:
    K6 = None

pytestmark = pytest.mark.skipif(K6 is None, reason="k6 not built (make k6)")

MIX = [{"url": "/api/workspaces", "name": "workspaces", "weight": 2},
       {"url": "/api/search?q=backup", "name": "search", "weight": 1}]


def failed(result):
    return sorted(c["name"] for c in result["checks"] if c["ok"] is False)


@pytest.mark.parametrize("model,target", [("closed", 6), ("open", 80)])
def test_k6_matches_builtin_verdicts_under_errors(app, faults, model, target):
    faults(error_rate=0.5, error_paths=["/api/search"])
    base = {"base_url": app["url"], "requests": MIX, "model": model, "max_duration": 60,
            # The ramp starts at half the target: a ramp from zero gives the open model so few requests
            # in 1.5 s on a loaded machine that its stage can see no injected error at all.
            "stages": [{"name": "ramp", "duration": 1.5, "target": target, "start": target // 2},
                       {"name": "sustain", "duration": 3, "target": target}],
            "thresholds": {"p95_ms": 400, "p99_ms": None, "error_rate": 0.05}}
    builtin = run_load_test(dict(base, engine="builtin"))
    k6 = run_load_test(dict(base, engine="k6"))
    assert k6["stats"]["overall"]["requests"] > 20 and set(k6["stats"]["endpoints"]) == {"workspaces", "search"}
    expected = ["error_rate", "error_rate[endpoint=search]", "error_rate[stage=ramp]", "error_rate[stage=sustain]"]
    assert failed(builtin) == failed(k6) == expected, (builtin["verdict"]["summary"], k6["verdict"]["summary"])


def test_k6_shipped_script_runs(app):
    script = os.path.join(os.path.dirname(__file__), "../../../roles/load_test/files/k6_script.js")
    result = run_load_test({"engine": "k6", "base_url": app["url"], "requests": ["/healthz"],
                            "k6": {"script": os.path.abspath(script), "scenario": "spike"}, "time_scale": 0.03,
                            "target_scale": 0.1,
                            "stages": [{"duration": 6, "target": 1}], "thresholds": {"p95_ms": 2000}})
    assert result["stats"]["overall"]["requests"] > 10
    # the script's own mix (the three user classes), not the plan's request list
    assert set(result["stats"]["endpoints"]) <= {
        "healthz", "workspaces", "create_workspace", "workflows", "create_workflow", "trigger_execution", "search",
        "kb_search", "add_knowledge", "system_metrics", "audit_logs", "users", "create_user", "costs",
        "generate_project", "dataset_search", "analyse_codebase", "complex_search"}
