"""Verdicts belong to one run of one release: other runs, the future, stale records, hosts, manual."""

from __future__ import annotations

import json

from ansible_collections.deploysafe.preflight.plugins.module_utils.checklist.evaluate import evaluate
from ansible_collections.deploysafe.preflight.plugins.module_utils.checklist.items import build_items
from ansible_collections.deploysafe.preflight.plugins.module_utils.checklist.render import render_junit, render_markdown

from checklist_helpers import NOW, RUN_ID, put, start


def item(model, name):
    return next(r for r in model["items"] if r["name"] == name)


def test_a_pass_from_an_earlier_run_in_a_reused_directory_is_pending(all_pass):
    start(all_pass, "20270116T080000Z-000000000002")  # a new release run starts in the same directory
    model = evaluate(str(all_pass), build_items(), now=NOW)
    pg = item(model, "pg_backup")
    assert pg["status"] == "pending" and "recorded by another run" in pg["reason"] and "(was pass)" in pg["reason"]
    assert model["counts"]["pass"] == 0 and model["decision"] == "pending"
    assert pg["ignored"] and pg["ignored"][0]["source"].endswith("pg_backup.json")


def test_without_run_json_nothing_is_bound_to_a_run(all_pass):
    (all_pass / "run.json").unlink()
    model = evaluate(str(all_pass), build_items(), now=NOW)
    assert model["counts"]["pass"] == 0 and "run.json missing" in item(model, "load_test")["reason"]


def test_a_record_from_the_future_is_pending(all_pass):
    put(all_pass, "health_check", at=NOW + 3600)
    hc = item(evaluate(str(all_pass), build_items(), now=NOW), "health_check")
    assert hc["status"] == "pending" and "in the future" in hc["reason"]


def test_max_age_applies_to_verified_at(all_pass):
    put(all_pass, "health_check", at=NOW - 2 * 86400)
    model = evaluate(str(all_pass), build_items(), max_age=86400, now=NOW)
    assert item(model, "health_check")["status"] == "pending" and "stale" in item(model, "health_check")["reason"]
    assert item(model, "load_test")["status"] == "pass"


def test_one_failing_host_fails_the_item_and_no_host_hides_another(all_pass):
    (all_pass / "pg_backup.json").unlink()
    put(all_pass, "pg_backup", host="db1")
    put(all_pass, "pg_backup", "fail", "restore differs in 2 tables", host="db2")
    pg = item(evaluate(str(all_pass), build_items(), now=NOW), "pg_backup")
    assert pg["status"] == "fail" and {h["host"]: h["status"] for h in pg["hosts"]} == {"db1": "pass", "db2": "fail"}
    assert "db2: fail - restore differs" in pg["summary"]


def test_an_old_runs_host_record_does_not_stand_for_this_run(all_pass):
    (all_pass / "pg_backup.json").unlink()
    put(all_pass, "pg_backup", host="db1")
    put(all_pass, "pg_backup", host="db-retired", run_id="20260101T000000Z-00000000000f")
    pg = item(evaluate(str(all_pass), build_items(), now=NOW), "pg_backup")
    assert pg["status"] == "pass" and [h["host"] for h in pg["hosts"]] == ["db1"]
    assert "db-retired" in pg["ignored"][0]["source"]


def test_manual_verdict_is_marked_everywhere(all_pass):
    put(all_pass, "backup_schedule", producer=None, summary="timer checked by hand")
    model = evaluate(str(all_pass), build_items(), now=NOW)
    bs = item(model, "backup_schedule")
    assert bs["manual"] and bs["recorded_by"] == "bob" and bs["summary"].startswith("[MANUAL, recorded by bob]")
    assert any("manual" in w for w in model["warnings"]) and model["counts"]["manual"] == 1
    assert "PASS (MANUAL)" in render_markdown(model).decode()


def test_report_names_the_run_and_release(all_pass):
    model = evaluate(str(all_pass), build_items(), now=NOW)
    assert model["run_id"] == RUN_ID and model["release"] == {"version": "1.2.3"}
    text = render_markdown(model).decode()
    assert RUN_ID in text and "version 1.2.3" in text
    assert b"pending" in render_junit(model)


def test_a_given_run_id_that_differs_from_run_json_is_an_error(all_pass):
    import pytest
    from ansible_collections.deploysafe.preflight.plugins.module_utils.checklist.items import ChecklistError
    with pytest.raises(ChecklistError, match="belongs to run"):
        evaluate(str(all_pass), build_items(), now=NOW, run_id="other")


def test_unreadable_run_json_is_a_clear_error(all_pass):
    import pytest
    from ansible_collections.deploysafe.preflight.plugins.module_utils.checklist.items import ChecklistError
    (all_pass / "run.json").write_text(json.dumps({"nothing": 1}))
    with pytest.raises(ChecklistError, match="has no run_id"):
        evaluate(str(all_pass), build_items(), now=NOW)
