"""Every "no data" or "not the planned load" path of load_test is pending (or fail), never pass (pure logic).

Each test plants the case the verdict must not pass: a run cut short by a bound, a plan longer than
max_duration, a saturated open-model generator, k6 exiting 99, resource limits without samples, and a
pending result rendered as JUnit.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from ansible_collections.deploysafe.preflight.plugins.module_utils.load import k6, report, thresholds
from ansible_collections.deploysafe.preflight.plugins.module_utils.load.decision import (
    ACHIEVED_RATE_MIN, LATE_SENDS_MIN, LATE_SHARE_MAX, cut_short, decide, discount_for_generator, generator_saturation)
from ansible_collections.deploysafe.preflight.plugins.module_utils.load.plan import LoadTestError
from ansible_collections.deploysafe.preflight.plugins.module_utils.load.runner import DEFAULTS, build_plan
from ansible_collections.deploysafe.preflight.plugins.module_utils.load.stats import Recorder

STAGES = [{"name": "ramp", "duration": 2.0, "start": 0, "target": 50},
          {"name": "sustain", "duration": 4.0, "start": 50, "target": 50},
          {"name": "ramp-down", "duration": 2.0, "start": 50, "target": 0}]


def _result(run=None, model="closed", latency_s=0.01, limits=None, res=None, enabled=False, explicit=()):
    """A finished run of 200 healthy requests evaluated like runner.evaluate does."""
    rec = Recorder(window_s=0.5)
    for i in range(200):
        rec.record("sustain", "ep", 2 + i * 0.02, latency_s, True)
    stats = {"overall": rec.scope_stats(seconds=8), "stages": {"sustain": rec.scope_stats(stage="sustain", seconds=4)},
             "endpoints": {"ep": rec.scope_stats(endpoint="ep", seconds=8)}}
    checks = thresholds.evaluate(stats, thresholds.resolve_limits(limits or {}), resources=res,
                                 resources_enabled=enabled, explicit=explicit)
    base_run = {"duration": 8.0, "sent": 200, "aborted": "", "first_errors": {}, "error_kinds": {},
                "reached_s": 8.0, "schedule_done": True}
    base_run.update(run or {})
    checks = discount_for_generator(checks, generator_saturation(base_run, model)[0])
    result = {"engine": "builtin", "model": model, "run": base_run, "stats": stats, "resources": res or {},
              "checks": [c.as_dict() for c in checks], "timeline": report.timeline(rec),
              "plan": {"stages": STAGES, "requests": ["ep"]}}
    result["verdict"] = decide(result, checks)
    return result


def test_complete_healthy_run_passes():
    verdict = _result()["verdict"]
    assert verdict["status"] == "pass", verdict["summary"]


@pytest.mark.parametrize("aborted,reached,unfinished,never", [
    ("request bound reached (200)", 3.0, "sustain", "ramp-down"),
    ("time bound reached (2s)", 2.0, None, "sustain, ramp-down"),
])
def test_run_cut_short_by_a_bound_is_pending_naming_the_stages(aborted, reached, unfinished, never):
    result = _result({"aborted": aborted, "reached_s": reached, "schedule_done": False})
    verdict = result["verdict"]
    assert verdict["status"] == "pending", verdict["summary"]
    assert aborted in verdict["summary"] and f"stages never reached: {never}" in verdict["summary"]
    assert (f"stage {unfinished} not finished" in verdict["summary"]) == bool(unfinished)
    assert verdict["evidence"]["findings"]["run_cut_short"] == 1


def test_bound_hit_only_while_draining_after_the_last_stage_is_not_cut_short():
    assert cut_short({"aborted": "time bound reached (8s)", "schedule_done": True, "reached_s": 8.0}, STAGES) == ""


def test_abort_on_fail_with_a_failing_limit_stays_fail():
    result = _result({"aborted": "abort_on_fail: p95_ms = 900", "reached_s": 3.0, "schedule_done": False},
                     latency_s=0.9)
    assert result["verdict"]["status"] == "fail" and "stages never reached" in result["verdict"]["summary"]


@pytest.mark.parametrize("profile,stages,time_scale,max_duration,planned", [
    ("endurance", [], 1.0, 3600, 7200),
    ("load", [], 1.0, 600, 1200),
    ("smoke", [{"duration": 30, "target": 1}, {"duration": 40, "target": 1}], 1.0, 60, 70),
    ("endurance", [], 0.1, 600, 720),
])
def test_plan_longer_than_max_duration_is_refused_naming_both(profile, stages, time_scale, max_duration, planned):
    opts = dict(DEFAULTS, requests=["http://127.0.0.1:1/"], profile=profile, stages=stages, time_scale=time_scale,
                max_duration=max_duration)
    with pytest.raises(LoadTestError) as err:
        build_plan(opts)
    message = str(err.value)
    assert f"lasts {planned:g} s" in message and f"max_duration {max_duration:g} s" in message
    assert "raise max_duration" in message


def test_plan_that_fits_max_duration_is_accepted():
    opts = dict(DEFAULTS, requests=["http://127.0.0.1:1/"], profile="endurance", max_duration=7200)
    assert build_plan(opts).duration == 7200
    opts.update(max_duration=3600, time_scale=0.5)
    assert build_plan(opts).duration == 3600


def _open_run(sent, late, last_intended, last_send, lag_s=0.0):
    return {"sent": sent, "late_sends": late, "last_intended_s": last_intended, "last_send_s": last_send,
            "generator_lag_s": lag_s}


def test_saturated_generator_is_pending_with_its_measurements():
    # The case measured on this project's machine: a 10k req/s target, 8.0k achieved, 99 % of sends late,
    # the backlog showing up as 1.27 s p99 latency, and a verdict of pass.
    run = _open_run(100_000, 99_000, 10.0, 12.5, lag_s=99_000 * 1.2)
    result = _result(run, model="open", latency_s=1.27)
    verdict = result["verdict"]
    assert verdict["status"] == "pending", verdict["summary"]
    assert "load generator saturated" in verdict["summary"] and "99.0% of 100000 sends started late" in verdict["summary"]
    values = {m["name"]: m["value"] for m in verdict["evidence"]["measurements"]}
    assert values["generator_late_sends_pct"] == 99.0
    assert values["generator_target_rps"] == 10000.0 and values["generator_achieved_rps"] == 8000.0
    assert values["generator_lag_mean_ms"] == pytest.approx(1200.0)
    # the latency limits that failed can be the generator's own slowness: undecided, not charged
    p99 = next(c for c in result["checks"] if c["name"] == "p99_ms")
    assert p99["ok"] is None and "saturated" in p99["note"]
    assert verdict["evidence"]["findings"]["generator_saturated"] == 1


def test_saturated_generator_keeps_error_rate_failures():
    run = _open_run(1000, 500, 10.0, 12.5)
    checks = [thresholds.Check("error_rate", "overall", "error_rate", 0.2, 0.001, "<", False),
              thresholds.Check("p95_ms", "overall", "p95_ms", 900.0, 500.0, "<", False)]
    kept = discount_for_generator(checks, generator_saturation(run, "open")[0])
    assert [c.ok for c in kept] == [False, None]


@pytest.mark.parametrize("late,last_send,saturated", [
    (0, 10.0, False),
    (int(1000 * LATE_SHARE_MAX), 10.0, False),            # exactly at the limit
    (int(1000 * LATE_SHARE_MAX) + 1, 10.0, True),         # one more late send
    (0, 10.0 / ACHIEVED_RATE_MIN - 0.01, False),          # just above 95 % of the rate
    (0, 10.0 / ACHIEVED_RATE_MIN + 0.05, True),           # just below
])
def test_saturation_thresholds(late, last_send, saturated):
    reason, found = generator_saturation(_open_run(1000, late, 10.0, last_send), "open")
    assert bool(reason) == saturated, reason
    assert {m["name"] for m in found} == {"generator_late_sends_pct", "generator_target_rps",
                                          "generator_achieved_rps", "generator_lag_mean_ms"}


def test_a_few_late_sends_in_a_short_run_are_not_saturation():
    assert generator_saturation(_open_run(20, LATE_SENDS_MIN - 1, 1.0, 1.0), "open")[0] == ""
    assert generator_saturation(_open_run(20, LATE_SENDS_MIN, 1.0, 1.0), "open")[0] != ""


def test_saturation_is_not_judged_for_closed_model_or_external_engines():
    assert generator_saturation(_open_run(1000, 900, 10.0, 20.0), "closed") == ("", [])
    assert generator_saturation({"sent": 1000, "late_sends": 0}, "open") == ("", [])


def test_k6_exit_codes():
    assert k6.thresholds_crossed(0, "") == ""
    out = "level=error msg=\"thresholds on metrics 'http_req_duration' have been crossed\"\n"
    assert "thresholds of the k6 script were crossed (on http_req_duration)" in k6.thresholds_crossed(99, out)
    assert "exited 99" in k6.thresholds_crossed(99, "")
    with pytest.raises(LoadTestError, match="k6 exited with code 107"):
        k6.thresholds_crossed(107, "script exception")
    with pytest.raises(LoadTestError, match="code -9"):
        k6.thresholds_crossed(-9, "")


def test_k6_thresholds_crossed_is_fail_even_when_our_limits_pass():
    crossed = "k6 exited 99: thresholds of the k6 script were crossed (on http_req_duration)"
    verdict = _result({"engine_thresholds_failed": crossed, "exit_code": 99})["verdict"]
    assert verdict["status"] == "fail" and crossed in verdict["summary"]
    assert verdict["evidence"]["findings"]["engine_thresholds_failed"] == 1


def test_resource_limits_with_no_samples_are_pending_not_fail():
    res = {"samples": 0, "cpu_percent_mean": None, "memory_growth_mb_per_10min": None,
           "errors": ["t=0.0s: HTTPError: HTTP Error 404: Not Found"]}
    result = _result(res=res, enabled=True)
    verdict = result["verdict"]
    assert verdict["status"] == "pending", verdict["summary"]
    cpu = next(m for m in verdict["evidence"]["measurements"] if m["name"] == "cpu_percent")
    assert "ok" not in cpu and "404" in cpu["note"]


def test_explicit_resource_limit_without_a_sampler_is_pending_not_skipped():
    result = _result(limits={"cpu_percent": 50}, explicit=["cpu_percent"])
    assert result["verdict"]["status"] == "pending"
    cpu = next(c for c in result["checks"] if c["limit_name"] == "cpu_percent")
    assert cpu["ok"] is None and "target_metrics_url" in cpu["note"]
    # the defaults alone, with nothing to sample, are not asked for: no resource check at all
    assert not [c for c in _result()["checks"] if c["limit_name"] in thresholds.RESOURCE_LIMITS]


def test_memory_slope_under_the_noise_floor_keeps_its_ok_in_the_evidence():
    res = {"samples": 20, "cpu_percent_mean": 10.0, "memory_growth_mb_per_10min": 300.0,
           "memory_growth_mb_in_window": 1.0, "errors": []}
    verdict = _result(res=res, enabled=True)["verdict"]
    assert verdict["status"] == "pass", verdict["summary"]


def _cases(result):
    suite = ET.fromstring(report.junit(result))
    assert suite.get("skipped") == "0" and suite.find(".//skipped") is None
    return suite, {tc.get("name"): tc.find("failure") for tc in suite.iter("testcase")}


def test_junit_renders_pending_check_and_pending_verdict_as_failures():
    res = {"samples": 0, "errors": ["refused"]}
    suite, cases = _cases(_result(res=res, enabled=True))
    assert cases["cpu_percent"] is not None and cases["cpu_percent"].get("message").startswith("pending: cpu_percent")
    assert cases["verdict"].get("message").startswith("pending:")
    # cut short with every limit met: the verdict case still fails, with the reason
    suite, cases = _cases(_result({"aborted": "request bound reached (200)", "reached_s": 3.0, "schedule_done": False}))
    assert suite.get("failures") == "1" and "stages never reached" in cases["verdict"].get("message")
    suite, cases = _cases(_result())
    assert suite.get("failures") == "0" and cases["verdict"] is None


@pytest.mark.parametrize("max_lag,waited,busy_host", [
    (0.180, 0.170, True),     # the host kept the generator off the CPU for the gap: a busy host
    (0.427, 0.366, True),     # measured with a nice -20 spinner on the generator's CPU
    (0.427, 0.200, False),    # less than half of it: not the host's doing
    (0.600, 0.002, False),    # the loop itself was blocked (or too slow): the generator's own lateness
    (0.180, -1.0, False),     # no schedstat (not Linux): no claim about the host
])
def test_late_sends_name_a_busy_host_only_when_the_run_queue_wait_explains_them(max_lag, waited, busy_host):
    run = dict(_open_run(1000, 100, 10.0, 10.0), max_lag_s=max_lag, max_lag_host_wait_s=waited, host_wait_s=0.4)
    reason, found = generator_saturation(run, "open")
    assert reason.startswith("load generator saturated")
    assert ("a busy host" in reason) == busy_host and ("use more workers" in reason) != busy_host
    assert {m["name"]: m["value"] for m in found}["generator_host_wait_ms"] == 400.0
