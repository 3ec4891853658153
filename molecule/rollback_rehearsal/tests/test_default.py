"""The clean rollback rehearsal recorded per-phase timings and an estimate within the SLA; the pruned
history recorded "previous version unavailable"; no rehearsal namespace is left Active."""

import json

RUN = "/tmp/molecule-rollback_rehearsal"


def record(host, name):
    return json.loads(host.file(f"{RUN}/{name}/rollback_rehearsal.json").content_string)


def test_rollback_within_the_sla_with_phase_timings(host):
    rec = record(host, "clean")
    assert rec["verdict"]["status"] == "pass", rec["verdict"]["summary"]
    assert set(rec["details"]["phases"]) == {"deploy_current", "deploy_candidate", "rollback"}
    assert 0 < rec["details"]["rollback_estimate_seconds"] <= 600


def test_pruned_history_fails(host):
    rec = record(host, "defect")
    assert rec["verdict"]["status"] == "fail"
    assert "previous version unavailable" in rec["verdict"]["summary"]


def test_no_rehearsal_namespace_is_left_active(host):
    phases = host.check_output("kubectl get namespaces -l deploysafe.io/rehearsal=rollback "
                               "-o jsonpath='{.items[*].status.phase}'")
    assert "Active" not in phases
