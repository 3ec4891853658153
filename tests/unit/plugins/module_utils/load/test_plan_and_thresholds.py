"""Plan parsing, allowlist, threshold evaluation and verdict rules (pure logic)."""

from __future__ import annotations

import pytest

from ansible_collections.deploysafe.preflight.plugins.module_utils.load import thresholds
from ansible_collections.deploysafe.preflight.plugins.module_utils.load.plan import (
    PROFILES, LoadTestError, build_requests, build_stages, check_targets)
from ansible_collections.deploysafe.preflight.plugins.module_utils.load.resources import Sample, slope, summarize


def test_profiles_have_the_documented_shapes():
    load = build_stages("load", None)
    assert [(s.name, s.duration, s.start, s.target) for s in load] == [
        ("ramp-up-50", 120, 0, 50), ("ramp-up-100", 300, 50, 100), ("sustain", 600, 100, 100), ("ramp-down", 180, 100, 0)]
    spike = build_stages("spike", None)
    assert [s.target for s in spike] == [20, 200, 20]
    assert build_stages("endurance", None)[0].duration == 7200
    assert set(PROFILES) == {"smoke", "load", "stress", "spike", "endurance"}


def test_time_scale_and_target_scale():
    stages = build_stages("smoke", None, time_scale=0.01, scale_target=2)
    assert stages[0].duration == pytest.approx(1.2) and stages[0].target == 10


def test_ramp_levels_are_linear():
    stage = build_stages(None, [{"duration": 10, "target": 100}])[0]
    assert stage.level_at(0) == 0 and stage.level_at(5) == 50 and stage.level_at(20) == 100


@pytest.mark.parametrize("stages,message", [
    ([{"duration": 1}], "lacks 'target'"),
    ([{"duration": "x", "target": 1}], "must be numbers"),
    ([{"duration": 0, "target": 1}], "duration must be > 0"),
    ([{"name": "a", "duration": 1, "target": 1}, {"name": "a", "duration": 1, "target": 1}], "used twice"),
    (["nope"], "must be a mapping"),
])
def test_malformed_stages(stages, message):
    with pytest.raises(LoadTestError, match=message):
        build_stages(None, stages)


def test_requests_need_urls_and_base_for_relative():
    assert build_requests(["/a"], "http://127.0.0.1:1")[0].url == "http://127.0.0.1:1/a"
    with pytest.raises(LoadTestError, match="needs base_url"):
        build_requests(["/a"])
    with pytest.raises(LoadTestError, match="empty"):
        build_requests([])


def test_allowlist():
    reqs = build_requests(["http://127.0.0.1/", "http://[::1]/", "http://localhost/"])
    check_targets(reqs, [])
    with pytest.raises(LoadTestError, match="not allowlisted"):
        check_targets(reqs, [], allow_loopback=False)
    check_targets(build_requests(["http://app.internal/"]), ["app.internal"])
    with pytest.raises(LoadTestError, match="not allowlisted"):
        check_targets(build_requests(["http://203.0.113.5/"]), ["app.internal"])
    with pytest.raises(LoadTestError, match="not an http"):
        check_targets(build_requests(["ftp://127.0.0.1/"]), [])


def _stats(p95, errors=0.0, requests=100):
    s = {"requests": requests, "p95_ms": p95, "p99_ms": p95, "error_rate": errors, "rps": 10.0}
    return s


def test_thresholds_per_scope_and_overrides():
    stats = {"overall": _stats(100), "stages": {"a": _stats(50), "b": _stats(900)},
             "endpoints": {"x": _stats(30), "y": _stats(700)}}
    limits = thresholds.resolve_limits({"p99_ms": None})
    checks = thresholds.evaluate(stats, limits, overrides=[{"scope": "endpoint:y", "p95_ms": 800}])
    bad = {c.name for c in checks if c.ok is False}
    assert bad == {"p95_ms[stage=b]"}
    with pytest.raises(LoadTestError, match="unknown scope"):
        thresholds.evaluate(stats, limits, overrides=[{"scope": "stage:zzz", "p95_ms": 1}])
    with pytest.raises(LoadTestError, match="unknown threshold"):
        thresholds.resolve_limits({"p42": 1})


def test_scope_without_requests_is_undecided_not_pass():
    stats = {"overall": _stats(10), "stages": {"a": {"requests": 0, "p95_ms": None, "error_rate": None}},
             "endpoints": {}}
    checks = thresholds.evaluate(stats, thresholds.resolve_limits({}))
    assert [c.ok for c in checks if c.scope == "stage:a"] == [None, None, None]


def test_resource_limits_only_when_sampled():
    stats = {"overall": _stats(10), "stages": {}, "endpoints": {}}
    names = {c.limit_name for c in thresholds.evaluate(stats, thresholds.resolve_limits({}))}
    assert "cpu_percent" not in names
    checks = thresholds.evaluate(stats, thresholds.resolve_limits({}), resources={}, resources_enabled=True)
    assert {c.limit_name: c.ok for c in checks}["memory_growth_mb_per_10min"] is None


def test_memory_slope_is_a_regression_not_first_vs_last():
    # flat memory with one spike in the middle and a last sample lower than the first
    samples = [Sample(t, 0.0, (100 + (50 if t == 5 else 0) - (1 if t == 10 else 0)) * 2**20) for t in range(11)]
    res = summarize(samples, [(0, 10)])
    assert abs(res["memory_growth_mb_per_10min"]) < 60
    leaking = [Sample(t, t * 0.5, (100 + t) * 2**20) for t in range(11)]
    res = summarize(leaking, [(0, 10)])
    assert res["memory_growth_mb_per_10min"] == pytest.approx(600)
    assert res["cpu_percent_mean"] == pytest.approx(50)
    assert slope([(0, 1), (1, 2)]) is None


def test_memory_growth_in_a_short_window_below_noise_floor_passes():
    stats = {"overall": _stats(10), "stages": {}, "endpoints": {}}
    res = {"memory_growth_mb_per_10min": 300.0, "memory_growth_mb_in_window": 1.0}
    checks = thresholds.evaluate(stats, thresholds.resolve_limits({}), resources=res, resources_enabled=True)
    mem = next(c for c in checks if c.limit_name == "memory_growth_mb_per_10min")
    assert mem.ok is True and "noise floor" in mem.note
    res["memory_growth_mb_in_window"] = 20.0
    checks = thresholds.evaluate(stats, thresholds.resolve_limits({}), resources=res, resources_enabled=True)
    assert next(c for c in checks if c.limit_name == "memory_growth_mb_per_10min").ok is False


def test_search_scope_budgets_apply_by_endpoint_name():
    stats = {"overall": _stats(150), "stages": {},
             "endpoints": {"search": _stats(250), "kb_search": _stats(250), "complex_search": _stats(450),
                           "other": _stats(450)}}
    by_name = {c.name: c for c in thresholds.evaluate(stats, thresholds.resolve_limits({}))}
    assert by_name["p95_ms[endpoint=search]"].limit == 200 and by_name["p95_ms[endpoint=search]"].ok is False
    assert by_name["p95_ms[endpoint=kb_search]"].limit == 300 and by_name["p95_ms[endpoint=kb_search]"].ok is True
    assert by_name["p95_ms[endpoint=complex_search]"].limit == 500
    assert by_name["p95_ms[endpoint=other]"].limit == 500
    # a stricter overall limit stays; an override for the scope wins
    strict = {c.name: c for c in thresholds.evaluate(stats, thresholds.resolve_limits({"p95_ms": 100}),
                                                     overrides=[{"scope": "endpoint:search", "p95_ms": 800}])}
    assert strict["p95_ms[endpoint=kb_search]"].limit == 100 and strict["p95_ms[endpoint=search]"].limit == 800
