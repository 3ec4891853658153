"""Sign-off: refused while critical items are not pass, overrides recorded, idempotent."""

from __future__ import annotations

import json

import pytest

from ansible_collections.deploysafe.preflight.plugins.module_utils.checklist.evaluate import evaluate
from ansible_collections.deploysafe.preflight.plugins.module_utils.checklist.items import ChecklistError, build_items
from ansible_collections.deploysafe.preflight.plugins.module_utils.checklist.module_support import run_signoff

from checklist_helpers import NOW, put


def params(run_dir, **kw):
    base = dict(run_dir=str(run_dir), decision="approve", by="alice", comment="", change_ticket="",
                override_reason="", context={}, items=[], critical={}, max_age="")
    base.update(kw)
    return base


def test_signoff_refused_when_criticals_not_pass(all_pass):
    put(all_pass, "load_test", "fail", "p95 over threshold")
    (all_pass / "security_scan.json").unlink()
    result, error = run_signoff(params(all_pass), check_mode=False, now=NOW)
    assert error.startswith("sign-off refused: 2 critical item(s)")
    assert "load_test (fail" in error and "security_scan (pending: security_scan: no verdict recorded)" in error
    assert "override_reason" in error
    assert not (all_pass / "signoff.json").exists()


def test_check_mode_refuses_too_and_writes_nothing(all_pass):
    put(all_pass, "load_test", "fail")
    _, error = run_signoff(params(all_pass), check_mode=True, now=NOW)
    assert error and not (all_pass / "signoff.json").exists()
    result, error = run_signoff(params(all_pass, decision="reject"), check_mode=True, now=NOW)
    assert error is None and result["changed"] and not (all_pass / "signoff.json").exists()


def test_override_is_recorded_and_visible(all_pass):
    put(all_pass, "load_test", "fail", "p95 over threshold")
    result, error = run_signoff(params(all_pass, override_reason="accepted by the service owner"), False, now=NOW)
    assert error is None and result["override"] is True
    stored = json.loads((all_pass / "signoff.json").read_text())
    assert stored["details"]["override"] is True and stored["details"]["not_pass_at_signoff"] == ["load_test"]
    assert stored["verdict"]["summary"].startswith("OVERRIDE approved by alice")
    model = evaluate(str(all_pass), build_items(), now=NOW)
    assert model["signoff"]["override"] and model["decision"] == "no-go"  # an override records, it does not pass
    assert "OVERRIDE: accepted by the service owner" in model["decision_reason"]


def test_same_decision_is_idempotent_and_a_new_one_is_recorded(all_pass):
    first, _ = run_signoff(params(all_pass, change_ticket="CHG-1", context={"awx_job_id": 1}), False, now=NOW)
    again, _ = run_signoff(params(all_pass, change_ticket="CHG-1", context={"awx_job_id": 2}), False, now=NOW + 60)
    assert first["changed"] and not again["changed"]
    assert again["record"]["recorded_at"] == first["record"]["recorded_at"]
    changed, _ = run_signoff(params(all_pass, decision="reject", change_ticket="CHG-1"), False, now=NOW + 120)
    assert changed["changed"] and json.loads((all_pass / "signoff.json").read_text())["verdict"]["status"] == "fail"


def test_reject_needs_no_override(all_pass):
    put(all_pass, "load_test", "fail")
    result, error = run_signoff(params(all_pass, decision="reject"), False, now=NOW)
    assert error is None and result["override"] is False


@pytest.mark.parametrize("kw, message", [({"by": "  "}, "identity"), ({"decision": "maybe"}, "approve or reject")])
def test_bad_signoff_parameters(all_pass, kw, message):
    _, error = run_signoff(params(all_pass, **kw), False, now=NOW)
    assert message in error


def test_signoff_record_follows_the_verdict_contract(all_pass):
    run_signoff(params(all_pass, comment="looks good"), False, now=NOW)
    from ansible_collections.deploysafe.preflight.plugins.module_utils.verdict import read_verdict
    record = read_verdict(str(all_pass / "signoff.json"))
    assert record["name"] == "signoff" and record["verdict"]["status"] == "pass"
    assert record["details"]["by"] == "alice" and record["details"]["comment"] == "looks good"
    with pytest.raises(ChecklistError):
        build_items([{"name": "x"}], critical={"y": True})
