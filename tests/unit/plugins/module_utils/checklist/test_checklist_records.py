"""Items that read several verdicts: the security item (scan + runtime snapshot), the deployment item
(rehearsal + production dry-run); each verdict missing is pending, the worst one decides."""

from __future__ import annotations

import pytest
from checklist_helpers import NOW, put

from ansible_collections.deploysafe.preflight.plugins.module_utils.checklist.evaluate import evaluate
from ansible_collections.deploysafe.preflight.plugins.module_utils.checklist.items import ChecklistError, build_items
from ansible_collections.deploysafe.preflight.plugins.module_utils.checklist.render import render_markdown


def item(model, name):
    return next(r for r in model["items"] if r["name"] == name)


def test_default_items_read_the_runtime_snapshot_and_the_production_dry_run():
    sources = {i.name: i.sources for i in build_items()}
    assert sources["security_scan"] == ("security_scan", "runtime_security")
    assert sources["deploy_rehearsal"] == ("deploy_rehearsal", "production_dry_run")
    assert sources["pg_backup"] == ("pg_backup",)


def test_a_missing_second_verdict_keeps_the_item_pending(all_pass):
    (all_pass / "runtime_security.json").unlink()
    model = evaluate(str(all_pass), build_items(), now=NOW)
    security = item(model, "security_scan")
    assert security["status"] == "pending"
    assert "runtime_security: no verdict recorded" in security["reason"]
    assert [p["status"] for p in security["records"]] == ["pass", "pending"]
    assert "security_scan" in model["decision_reason"]


def test_a_failed_production_dry_run_fails_the_deployment_item(all_pass):
    put(all_pass, "production_dry_run", "fail", "Deployment/web: field is immutable")
    model = evaluate(str(all_pass), build_items(), now=NOW)
    deploy = item(model, "deploy_rehearsal")
    assert deploy["status"] == "fail" and model["decision"] == "no-go"
    assert "production_dry_run: fail - Deployment/web: field is immutable" in deploy["summary"]
    text = render_markdown(model).decode()
    assert "Verdict `production_dry_run`" in text


def test_both_pass_and_their_evidence_is_merged(all_pass):
    deploy = item(evaluate(str(all_pass), build_items(), now=NOW), "deploy_rehearsal")
    assert deploy["status"] == "pass"
    assert len(deploy["evidence"]["measurements"]) == 2 and deploy["verified_at"]


def test_user_items_may_name_their_records(all_pass):
    items = build_items([{"name": "pg_backup", "records": ["pg_backup", "s3_backup"]}, {"name": "signoff"}])
    model = evaluate(str(all_pass), items, now=NOW)
    assert item(model, "pg_backup")["status"] == "pass" and len(item(model, "pg_backup")["records"]) == 2


@pytest.mark.parametrize("entries, message", [
    ([{"name": "security_scan"}, {"name": "runtime_security"}], "read by several: runtime_security"),
    ([{"name": "signoff", "records": ["signoff", "pg_backup"]}], "reads only its own record"),
    ([{"name": "x", "records": "pg_backup"}], "records must be a list"),
    ([{"name": "x", "records": ["a", "a"]}], "records repeat a name"),
    ([{"name": "x", "records": ["../etc"]}], "plain file name"),
])
def test_bad_records_are_refused_with_the_item_named(entries, message):
    with pytest.raises(ChecklistError, match=message):
        build_items(entries)
