"""Locust (headless master + 2 local worker processes) gives the same verdicts as the built-in engine."""

from __future__ import annotations

import pytest

from ansible_collections.deploysafe.preflight.plugins.module_utils.load.plan import LoadTestError
from ansible_collections.deploysafe.preflight.plugins.module_utils.load.runner import run_load_test

MIX = [{"url": "/api/workspaces", "name": "workspaces", "weight": 2},
       {"url": "/api/search?q=backup", "name": "search", "weight": 1}]
# The ramp starts at 2 users: on a loaded machine Locust needs a moment to spawn the first ones.
STAGES = [{"name": "ramp", "duration": 2.5, "start": 2, "target": 6}, {"name": "sustain", "duration": 3, "target": 6}]


def both(app, **opts):
    base = {"base_url": app["url"], "requests": MIX, "stages": STAGES, "model": "closed", "max_duration": 60,
            "thresholds": {"p95_ms": 400, "p99_ms": None, "error_rate": 0.05}}
    base.update(opts)
    builtin = run_load_test(dict(base, engine="builtin"))
    locust = run_load_test(dict(base, engine="locust", locust={"workers": 2}))
    return builtin, locust


def failed(result):
    return sorted(c["name"] for c in result["checks"] if c["ok"] is False)


@pytest.mark.parametrize("fault,expect_failed", [
    ({}, []),
    ({"error_rate": 0.5, "error_paths": ["/api/search"]},
     ["error_rate", "error_rate[endpoint=search]", "error_rate[stage=ramp]", "error_rate[stage=sustain]"]),
    ({"latency_ms": 600, "latency_paths": ["/api/search"]},
     ["p95_ms", "p95_ms[endpoint=search]", "p95_ms[stage=ramp]", "p95_ms[stage=sustain]"]),
], ids=["healthy", "errors-on-search", "latency-on-search"])
def test_locust_distributed_matches_builtin_verdicts(app, faults, fault, expect_failed):
    if fault:
        faults(**fault)
    builtin, locust = both(app)
    assert locust["run"]["workers"] == 2 and locust["stats"]["overall"]["requests"] > 20
    assert set(locust["stats"]["endpoints"]) == {"workspaces", "search"}
    assert builtin["verdict"]["status"] == locust["verdict"]["status"] == ("fail" if expect_failed else "pass")
    assert failed(builtin) == failed(locust) == expect_failed, (builtin["verdict"]["summary"],
                                                                  locust["verdict"]["summary"])


def test_locust_refuses_the_open_model(app):
    with pytest.raises(LoadTestError, match="virtual users only"):
        run_load_test({"engine": "locust", "base_url": app["url"], "requests": MIX, "stages": STAGES, "model": "open"})


def test_locust_missing_locustfile_is_named(app):
    with pytest.raises(LoadTestError, match="does not exist"):
        run_load_test({"engine": "locust", "base_url": app["url"], "requests": MIX, "stages": STAGES,
                       "locust": {"locustfile": "/nonexistent/locustfile.py"}})
