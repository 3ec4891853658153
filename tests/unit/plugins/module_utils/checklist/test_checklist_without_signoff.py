"""A checklist whose items name no `signoff` (playbooks/postdeploy.yml's) needs no sign-off to be go;
every other rule holds: a critical fail is no-go, an open critical item pending, a rejection no-go."""

from __future__ import annotations

from ansible_collections.deploysafe.preflight.plugins.module_utils.checklist.evaluate import evaluate
from ansible_collections.deploysafe.preflight.plugins.module_utils.checklist.items import build_items
from ansible_collections.deploysafe.preflight.plugins.module_utils.checklist.signoff import plan_signoff, store_signoff

from checklist_helpers import NOW, put

POSTDEPLOY = [{"name": "health_check"}, {"name": "monitoring_gate"}, {"name": "load_test"}, {"name": "smoke_check"}]


def record_all(run_dir, **statuses):
    for item in POSTDEPLOY:
        put(run_dir, item["name"], statuses.get(item["name"], "pass"))


def test_every_critical_item_passing_is_go_without_a_signoff(run_dir):
    record_all(run_dir)
    model = evaluate(str(run_dir), build_items(POSTDEPLOY), now=NOW)
    assert model["decision"] == "go", model["decision_reason"]
    assert model["decision_reason"] == "every critical item passes; no sign-off required (the checklist has no signoff item)"
    assert [r["name"] for r in model["items"]] == [i["name"] for i in POSTDEPLOY]
    assert model["counts"]["total"] == 4


def test_a_non_critical_failure_is_a_warning_not_a_no_go(run_dir):
    record_all(run_dir, monitoring_gate="fail")   # monitoring_gate is not critical by default
    model = evaluate(str(run_dir), build_items(POSTDEPLOY), now=NOW)
    assert model["decision"] == "go" and model["warnings"]


def test_a_critical_failure_is_no_go(run_dir):
    record_all(run_dir, smoke_check="fail")
    model = evaluate(str(run_dir), build_items(POSTDEPLOY), now=NOW)
    assert model["decision"] == "no-go"
    assert model["decision_reason"] == "critical items failed: smoke_check"


def test_an_open_critical_item_is_pending_and_no_signoff_is_asked_for(run_dir):
    for item in POSTDEPLOY[:3]:
        put(run_dir, item["name"])
    model = evaluate(str(run_dir), build_items(POSTDEPLOY), now=NOW)
    assert model["decision"] == "pending"
    assert model["decision_reason"] == "critical items open: smoke_check"


def test_a_recorded_rejection_still_blocks(run_dir):
    record_all(run_dir)
    items = build_items(POSTDEPLOY)
    _, record, _ = plan_signoff(str(run_dir), items, "reject", "carol", now=NOW)
    store_signoff(str(run_dir), record)
    model = evaluate(str(run_dir), items, now=NOW)
    assert model["decision"] == "no-go" and "rejected by carol" in model["decision_reason"]


def test_a_checklist_naming_signoff_still_requires_it(run_dir):
    record_all(run_dir)
    model = evaluate(str(run_dir), build_items(POSTDEPLOY + [{"name": "signoff"}]), now=NOW)
    assert model["decision"] == "pending"
    assert "sign-off: no sign-off recorded" in model["decision_reason"]
