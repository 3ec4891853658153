"""Every decision path of the checklist evaluation."""

from __future__ import annotations

import os

import pytest

from ansible_collections.deploysafe.preflight.plugins.module_utils.checklist.evaluate import evaluate
from ansible_collections.deploysafe.preflight.plugins.module_utils.checklist.items import (
    DEFAULT_ITEMS, ChecklistError, build_items, parse_max_age,
)
from ansible_collections.deploysafe.preflight.plugins.module_utils.checklist.signoff import plan_signoff, store_signoff

from checklist_helpers import NOW, put


def sign(run_dir, decision="approve", by="alice", **kwargs):
    _, record, _ = plan_signoff(str(run_dir), build_items(), decision, by, now=NOW, **kwargs)
    store_signoff(str(run_dir), record)
    return record


def status_of(model, name):
    return next(r for r in model["items"] if r["name"] == name)


def test_default_items_are_the_twelve_steps():
    items = build_items()
    assert [i.name for i in items] == [entry[0] for entry in DEFAULT_ITEMS] and len(items) == 12
    assert [i.id for i in items] == list(range(1, 13))
    assert {i.name for i in items if not i.critical} == {"backup_schedule", "monitoring_gate"}


def test_all_pass_and_signoff_is_go(all_pass):
    sign(all_pass, change_ticket="CHG-1")
    model = evaluate(str(all_pass), build_items(), now=NOW)
    assert model["decision"] == "go", model["decision_reason"]
    assert model["counts"]["pass"] == 12 and model["signoff"]["by"] == "alice"
    assert "approved by alice" in model["decision_reason"]


def test_all_pass_without_signoff_is_pending(all_pass):
    model = evaluate(str(all_pass), build_items(), now=NOW)
    assert model["decision"] == "pending"
    assert status_of(model, "signoff")["reason"] == "no sign-off recorded"


def test_critical_fail_is_no_go_even_when_signed(all_pass):
    sign(all_pass)
    put(all_pass, "load_test", "fail", "p95 900 ms over 500 ms")
    model = evaluate(str(all_pass), build_items(), now=NOW)
    assert model["decision"] == "no-go"
    assert "critical items failed: load_test" in model["decision_reason"]


def test_rejected_signoff_is_no_go(all_pass):
    sign(all_pass, decision="reject", comment="wait for the freeze to end")
    model = evaluate(str(all_pass), build_items(), now=NOW)
    assert model["decision"] == "no-go" and "rejected by alice" in model["decision_reason"]


def test_missing_item_is_pending(all_pass):
    os.unlink(all_pass / "s3_backup.json")
    sign(all_pass, override_reason="s3 not used here")
    model = evaluate(str(all_pass), build_items(), now=NOW)
    assert model["decision"] == "pending"
    assert status_of(model, "s3_backup")["status"] == "pending"
    assert status_of(model, "s3_backup")["reason"] == "no verdict recorded"


def test_stale_verdict_is_pending_not_pass(all_pass):
    put(all_pass, "pg_backup", "pass", at=NOW - 2 * 86400)
    model = evaluate(str(all_pass), build_items(), max_age=parse_max_age("24h"), now=NOW)
    item = status_of(model, "pg_backup")
    assert item["status"] == "pending" and item["reason"].startswith("stale:") and "(was pass)" in item["reason"]
    assert evaluate(str(all_pass), build_items(), now=NOW)["items"][3]["status"] == "pass"  # no max_age: not stale


@pytest.mark.parametrize("content, reason", [
    (b"{not json", "malformed verdict file"),
    (b"[]", "malformed verdict file"),
    (b'{"name": "pg_backup", "recorded_at": "2026-11-25T14:00:00Z", "verdict": {"status": "green"}}', "verdict.status"),
    (b'{"name": "other", "recorded_at": "2026-11-25T14:00:00Z", "verdict": {"status": "fail", "summary": "",'
     b' "evidence": {"artifacts": [], "findings": {}, "measurements": []}}}', "it names 'other'"),
    (b'{"name": "pg_backup", "recorded_at": "yesterday", "verdict": {"status": "fail", "summary": "",'
     b' "evidence": {"artifacts": [], "findings": {}, "measurements": []}}}', "recorded_at"),
])
def test_malformed_file_is_pending_with_reason(all_pass, content, reason):
    (all_pass / "pg_backup.json").write_bytes(content)
    item = status_of(evaluate(str(all_pass), build_items(), now=NOW), "pg_backup")
    assert item["status"] == "pending" and reason in item["reason"], item["reason"]


def test_unreadable_file_is_pending_with_reason(all_pass):
    (all_pass / "pg_backup.json").unlink()
    (all_pass / "pg_backup.json").mkdir()  # a directory where the file should be: open() fails
    item = status_of(evaluate(str(all_pass), build_items(), now=NOW), "pg_backup")
    assert item["status"] == "pending" and item["reason"].startswith("cannot read verdict file")


def test_noncritical_fail_is_a_warning_not_a_blocker(all_pass):
    put(all_pass, "backup_schedule", "fail", "no timer")
    sign(all_pass)
    model = evaluate(str(all_pass), build_items(), now=NOW)
    assert model["decision"] == "go"
    assert model["warnings"] == ["backup_schedule (not critical) failed: no timer"]


def test_critical_override_changes_the_decision(all_pass):
    put(all_pass, "backup_schedule", "fail", "no timer")
    items = build_items(critical={"backup_schedule": True})
    assert evaluate(str(all_pass), items, now=NOW)["decision"] == "no-go"


def test_evidence_changed_after_signoff_makes_it_pending(all_pass):
    sign(all_pass)
    put(all_pass, "health_check", "pass", "re-run: different latency")
    model = evaluate(str(all_pass), build_items(), now=NOW)
    assert model["decision"] == "pending"
    assert "health_check.json changed after the sign-off" in model["signoff"]["reason"]


def test_user_items_replace_defaults(run_dir):
    items = build_items([{"name": "pg_backup"}, {"name": "custom_check", "title": "Custom"}, {"name": "signoff"}])
    assert [(i.id, i.name, i.critical) for i in items] == [(1, "pg_backup", True), (2, "custom_check", True),
                                                           (3, "signoff", True)]
    put(run_dir, "pg_backup")
    put(run_dir, "custom_check")
    _, record, _ = plan_signoff(str(run_dir), items, "approve", "bob", now=NOW)
    store_signoff(str(run_dir), record)
    assert evaluate(str(run_dir), items, now=NOW)["decision"] == "go"


@pytest.mark.parametrize("items, message", [
    ([{"name": "../etc/passwd"}], "plain file name"),
    ([{"name": "a"}, {"name": "a"}], "repeated: a"),
    ([{"name": "a", "critical": "yes"}], "true or false"),
    ([{"name": "a", "colour": "red"}], "unknown keys"),
    (["a"], "must be a dict"),
])
def test_bad_item_lists_are_clear_errors(items, message):
    with pytest.raises(ChecklistError, match=message.replace(".", r"\.")):
        build_items(items)


@pytest.mark.parametrize("value, seconds", [("", None), (None, None), (3600, 3600), ("90m", 5400), ("7d", 604800)])
def test_max_age_parsing(value, seconds):
    assert parse_max_age(value) == seconds


def test_bad_max_age_is_an_error():
    with pytest.raises(ChecklistError, match="max_age"):
        parse_max_age("a week")
