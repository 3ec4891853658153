"""Readiness metrics of a real evaluated run directory: one-hot decision and item statuses, counts, load-test
numbers from the load_test verdict's JSON report, promtool's check, atomic and idempotent writes."""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess

import pytest

from ansible_collections.deploysafe.preflight.plugins.module_utils.checklist.evaluate import evaluate
from ansible_collections.deploysafe.preflight.plugins.module_utils.checklist.items import build_items
from ansible_collections.deploysafe.preflight.plugins.module_utils.checklist.metrics import (
    METRICS, readiness_textfile, textfile_name,
)
from ansible_collections.deploysafe.preflight.plugins.module_utils.checklist.module_support import run_report
from ansible_collections.deploysafe.preflight.plugins.module_utils.load.promtext import parse
from ansible_collections.deploysafe.preflight.plugins.module_utils.verdict import artifact, measurement

from checklist_helpers import NOW, RUN_ID, put

needs_promtool = pytest.mark.skipif(shutil.which("promtool") is None,
                                    reason="promtool (Debian package prometheus) not installed")
OVERALL = {"requests": 12000, "ok": 11988, "errors": 12, "error_rate": 0.001, "rps": 200.0, "p95_ms": 180.5,
           "p99_ms": 420.0}


def load_report(run_dir, overall=None):
    """A load-test JSON report (the layout load.report.write_all writes) and a load_test verdict naming it."""
    path = run_dir / "load-report" / "load.json"
    path.parent.mkdir(exist_ok=True)
    path.write_text(json.dumps({"stats": {"overall": dict(overall or OVERALL)}, "run": {}}))
    put(run_dir, "load_test", artifacts=[artifact(str(path), kind="json")],
        measurements=[measurement("p95_ms", 180.5, "ms", 500, "<")])
    return path


def samples(text):
    return {(name, tuple(sorted(labels.items()))): value for name, labels, value in parse(text)}


def value(text, name, **labels):
    return samples(text)[(name, tuple(sorted(labels.items())))]


def model(run_dir):
    return evaluate(str(run_dir), build_items(), now=NOW, title="Pre-deployment checklist")


def test_pending_decision_and_item_statuses_are_one_hot(all_pass):
    put(all_pass, "pg_backup", "fail", "no backup")
    text = readiness_textfile(model(all_pass))
    title = "Pre-deployment checklist"
    decision = {"title": title, "run_id": RUN_ID, "release": "1.2.3"}
    assert value(text, "deploysafe_preflight_decision", decision="no-go", **decision) == 1
    assert value(text, "deploysafe_preflight_decision", decision="go", **decision) == 0
    assert value(text, "deploysafe_preflight_decision", decision="pending", **decision) == 0
    item = {"title": title, "item": "pg_backup", "critical": "true"}
    assert [value(text, "deploysafe_preflight_item_status", status=s, **item) for s in ("pass", "fail", "pending")] \
        == [0, 1, 0]
    signoff = {"title": title, "item": "signoff", "critical": "true"}
    assert value(text, "deploysafe_preflight_item_status", status="pending", **signoff) == 1
    statuses = [(n, dict(l)) for (n, l) in samples(text) if n == "deploysafe_preflight_item_status"]
    assert len(statuses) == 3 * len(build_items())
    assert value(text, "deploysafe_preflight_items", title=title, status="pass") == len(build_items()) - 2
    assert value(text, "deploysafe_preflight_items", title=title, status="fail") == 1
    assert value(text, "deploysafe_preflight_report_timestamp_seconds", title=title) == NOW
    assert not any(n.startswith("deploysafe_preflight_load_test") for n, _ in samples(text))  # no report: absent


def test_load_test_numbers_come_from_its_json_report(run_dir):
    load_report(run_dir)
    text = readiness_textfile(model(run_dir))
    labels = {"title": "Pre-deployment checklist", "report": "load"}
    assert value(text, "deploysafe_preflight_load_test_latency_p95_seconds", **labels) == pytest.approx(0.1805)
    assert value(text, "deploysafe_preflight_load_test_latency_p99_seconds", **labels) == pytest.approx(0.42)
    assert value(text, "deploysafe_preflight_load_test_error_ratio", **labels) == 0.001
    assert value(text, "deploysafe_preflight_load_test_throughput_requests_per_second", **labels) == 200
    assert value(text, "deploysafe_preflight_load_test_requests", **labels) == 12000
    assert {n for n, _ in samples(text)} == set(METRICS)


def test_a_rewritten_or_missing_load_report_is_left_out(run_dir):
    path = load_report(run_dir)
    path.write_text(json.dumps({"stats": {"overall": dict(OVERALL, p95_ms=1.0)}}))  # not the hashed file
    assert "load_test_latency" not in readiness_textfile(model(run_dir))
    path.unlink()
    assert "load_test_latency" not in readiness_textfile(model(run_dir))


def test_missing_values_are_absent_not_zero(run_dir):
    load_report(run_dir, dict(OVERALL, p99_ms=None, rps=None))
    names = {n for n, _ in samples(readiness_textfile(model(run_dir)))}
    assert "deploysafe_preflight_load_test_latency_p95_seconds" in names
    assert not names & {"deploysafe_preflight_load_test_latency_p99_seconds",
                        "deploysafe_preflight_load_test_throughput_requests_per_second"}


def test_labels_are_escaped_and_the_file_name_is_safe(all_pass):
    m = dict(model(all_pass), title='Release "7"\\prod\nx')
    text = readiness_textfile(m)
    assert 'title="Release \\"7\\"\\\\prod\\nx"' in text
    assert textfile_name('Release "7"\\prod\nx') == "deploysafe_preflight_release_7_prod_x.prom"
    assert textfile_name("../../etc") == "deploysafe_preflight_etc.prom"
    assert textfile_name("") == "deploysafe_preflight_checklist.prom"


@needs_promtool
@pytest.mark.parametrize("with_load", [False, True])
def test_promtool_accepts_what_we_write(all_pass, with_load):
    if with_load:
        load_report(all_pass)
    m = dict(model(all_pass), title='odd "title"\\')
    check = subprocess.run(["promtool", "check", "metrics"], input=readiness_textfile(m), capture_output=True,
                           text=True)
    assert check.returncode == 0, check.stdout + check.stderr
    assert check.stdout.strip() == "" and check.stderr.strip() == ""  # no lint complaint either


def params(run_dir, textfile_dir, **kw):
    return dict(dict(run_dir=str(run_dir), items=[], critical={}, max_age="", report_dir=None,
                     formats=["json"], title="Pre-deployment checklist", textfile_dir=str(textfile_dir)), **kw)


def test_checklist_report_writes_the_file_once_and_check_mode_writes_nothing(all_pass, tmp_path):
    textfile_dir = tmp_path / "textfile"
    textfile_dir.mkdir()
    result, error = run_report(params(all_pass, textfile_dir), check_mode=True, now=NOW)
    assert error is None and result["changed"] and os.listdir(textfile_dir) == []
    result, error = run_report(params(all_pass, textfile_dir), check_mode=False, now=NOW)
    path = textfile_dir / "deploysafe_preflight_pre-deployment_checklist.prom"
    assert error is None and result["changed"] and result["metrics_file"] == str(path)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o644 and os.listdir(textfile_dir) == [path.name]
    assert {"path": str(path), "kind": "prometheus"}.items() <= result["verdict"]["evidence"]["artifacts"][-1].items()
    before = path.read_text()
    # an hour later, same evidence: the report keeps its time, and so does the .prom file
    result, error = run_report(params(all_pass, textfile_dir), check_mode=False, now=NOW + 3600)
    assert error is None and not result["changed"] and path.read_text() == before
    put(all_pass, "pg_backup", "fail", "no backup")
    result, _ = run_report(params(all_pass, textfile_dir), check_mode=False, now=NOW + 3600)
    assert result["changed"] and value(path.read_text(), "deploysafe_preflight_items",
                                       title="Pre-deployment checklist", status="fail") == 1


def test_a_missing_textfile_dir_is_a_clear_error(all_pass, tmp_path):
    result, error = run_report(params(all_pass, tmp_path / "none"), check_mode=False, now=NOW)
    assert result == {} and "textfile directory" in error and "does not exist" in error
