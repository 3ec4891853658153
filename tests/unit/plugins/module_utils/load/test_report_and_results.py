"""Renderers and result-file handling (pure logic, real files in tmp_path)."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from ansible_collections.deploysafe.preflight.plugins.module_utils.load import external, promtext, report
from ansible_collections.deploysafe.preflight.plugins.module_utils.load.plan import LoadTestError
from ansible_collections.deploysafe.preflight.plugins.module_utils.load.runner import decide
from ansible_collections.deploysafe.preflight.plugins.module_utils.load.stats import Recorder
from ansible_collections.deploysafe.preflight.plugins.module_utils.load.thresholds import Check


def _result(ok=True):
    rec = Recorder(window_s=0.5)
    for i in range(100):
        rec.record("s1", "ep", i * 0.02, 0.01 if ok else 0.9, True)
    stats = {"overall": rec.scope_stats(seconds=2), "stages": {"s1": rec.scope_stats(stage="s1", seconds=2)},
             "endpoints": {"ep": rec.scope_stats(endpoint="ep", seconds=2)}}
    checks = [Check("p95_ms", "overall", "p95_ms", stats["overall"]["p95_ms"], 500.0, "<",
                    stats["overall"]["p95_ms"] < 500)]
    result = {"engine": "builtin", "model": "open", "run": {"duration": 2.0, "first_errors": {}, "error_kinds": {}},
              "stats": stats, "resources": {}, "checks": [c.as_dict() for c in checks], "timeline": report.timeline(rec),
              "plan": {"stages": [{"name": "s1", "duration": 2.0, "start": 1, "target": 1}], "requests": ["ep"]}}
    result["verdict"] = decide(result, checks)
    return result


def test_html_has_inline_svg_plot_and_tables():
    html = report.html_report(_result())
    assert "<svg" in html and "<polyline" in html and "p95_ms" in html


def test_junit_one_case_per_threshold_plus_completion_and_verdict():
    suite = ET.fromstring(report.junit(_result(ok=False)))
    assert suite.get("tests") == "3" and suite.get("failures") == "2"
    assert suite.find("testcase[@name='p95_ms']/failure") is not None
    assert suite.find("testcase[@name='verdict']/failure").get("message").startswith("fail:")


def test_zero_completed_requests_fail():
    rec = Recorder()
    rec.record("s1", "ep", 0.1, 0.001, False, "connect")
    stats = {"overall": rec.scope_stats(seconds=1), "stages": {}, "endpoints": {}}
    result = {"run": {"first_errors": {"connect": "refused"}, "error_kinds": {"connect": 1}}, "stats": stats}
    verdict = decide(result, [])
    assert verdict["status"] == "fail" and "no request completed" in verdict["summary"]


def test_histograms_merge_across_workers():
    a, b = Recorder(), Recorder()
    for i in range(1, 101):
        a.record("s", "e", 0, i / 1000, True)
        b.record("s", "e", 0, (i + 100) / 1000, True)
    a.merge_encoded(*b.encoded())
    merged = a.scope_stats()
    assert merged["requests"] == 200 and merged["p50_ms"] == pytest.approx(100, rel=0.01)


def test_locust_stats_missing_or_truncated(tmp_path):
    with pytest.raises(LoadTestError, match="missing"):
        external._cross_check(str(tmp_path / "stats_stats.csv"), 10, "")
    path = tmp_path / "stats_stats.csv"
    path.write_text("Type,Name,Request Count\nGET,/a,10\n")
    with pytest.raises(LoadTestError, match="truncated"):
        external._cross_check(str(path), 10, "")
    path.write_text("Type,Name,Request Count\nGET,/a,500\n,Aggregated,500\n")
    with pytest.raises(LoadTestError, match="incomplete"):
        external._cross_check(str(path), 100, "")
    external._cross_check(str(path), 500, "")


def test_promtext_parse():
    samples = promtext.parse('# HELP x\nx_total{a="1",b="q\\"uote"} 3\nx_total{a="2"} 4\ny +Inf\n')
    assert promtext.value(samples, "x_total") == 7 and promtext.value(samples, "x_total", a="2") == 4
    assert promtext.value(samples, "missing") is None
    with pytest.raises(promtext.PromTextError):
        promtext.parse("not a metric line at all {")


def test_k6_result_files_missing_or_truncated(tmp_path):
    from ansible_collections.deploysafe.preflight.plugins.module_utils.load import k6
    from ansible_collections.deploysafe.preflight.plugins.module_utils.load.plan import build_stages, Plan, build_requests
    plan = Plan(requests=build_requests(["http://127.0.0.1/"]), stages=build_stages(None, [{"duration": 1, "target": 1}]))
    with pytest.raises(LoadTestError, match="samples.json missing"):
        k6._load_samples(str(tmp_path / "samples.json"), plan, Recorder())
    with pytest.raises(LoadTestError, match="missing"):
        k6._cross_check(str(tmp_path / "summary.json"), 0)
    (tmp_path / "summary.json").write_text('{"metrics": {"http_reqs": {"cou')
    with pytest.raises(LoadTestError, match="truncated"):
        k6._cross_check(str(tmp_path / "summary.json"), 0)
    # one whole sample line and one cut off: the cut one is skipped, the count check then fails
    (tmp_path / "samples.json").write_text(
        '{"type":"Point","metric":"http_req_duration","data":{"time":"2026-11-25T14:00:00.123456789Z","value":5,'
        '"tags":{"name":"a","status":"200","expected_response":"true"}}}\n{"type":"Point","metric":"http_req_dur')
    rec = Recorder()
    assert k6._load_samples(str(tmp_path / "samples.json"), plan, rec) == 1 and rec.total == 1
    (tmp_path / "summary.json").write_text('{"metrics": {"http_reqs": {"count": 100}}}')
    with pytest.raises(LoadTestError, match="output truncated"):
        k6._cross_check(str(tmp_path / "summary.json"), 1)


def test_k6_stages_jump_where_a_stage_starts_elsewhere():
    from ansible_collections.deploysafe.preflight.plugins.module_utils.load import k6
    from ansible_collections.deploysafe.preflight.plugins.module_utils.load.plan import build_stages, Plan, build_requests
    plan = Plan(requests=build_requests(["http://127.0.0.1/"]), stages=build_stages("spike", None, time_scale=0.01))
    assert k6._k6_stages(plan) == [{"duration": "600ms", "target": 20}, {"duration": "1ms", "target": 200},
                                   {"duration": "600ms", "target": 200}, {"duration": "1ms", "target": 20},
                                   {"duration": "600ms", "target": 20}]
    assert k6.scenario(plan)["executor"] == "ramping-vus"
