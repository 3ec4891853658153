"""checklist_report, signoff and the two roles end to end through ansible-playbook."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

from role_play import record, role, role_play

def test_pending_then_signed_go_with_idempotence(ansible_playbook, tmp_path):
    run_dir = tmp_path / "run"
    record(ansible_playbook, run_dir, {"backup_schedule": "fail"})
    proc, result = role(ansible_playbook, run_dir, "checklist", "--check")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert result["decision"] == "pending" and not (run_dir / "report").exists()  # check mode writes nothing

    proc, _ = role(ansible_playbook, run_dir, "checklist")  # pending is never green: the role fails by default
    assert proc.returncode != 0 and "Pre-deployment checklist is PENDING" in proc.stdout
    proc, result = role(ansible_playbook, run_dir, "checklist", "-e", "checklist_fail_on=fail")
    assert result["decision"] == "pending"
    assert result["warnings_list"] == ["backup_schedule (not critical) failed: backup_schedule fail"]
    for name in ("checklist.json", "checklist.md", "checklist.html", "checklist.junit.xml"):
        assert (run_dir / "report" / name).is_file()
    proc, result = role(ansible_playbook, run_dir, "checklist", "-e", "checklist_fail_on=fail")
    assert result["changed"] is False  # only the generation time would differ

    proc, result = role(ansible_playbook, run_dir, "signoff", "-e", "signoff_decision=approve",
                        "-e", "preflight_signoff_by=alice", "-e", "signoff_change_ticket=CHG-7")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert result["changed"] and result["record"]["details"]["by"] == "alice"
    proc, result = role(ansible_playbook, run_dir, "signoff", "-e", "signoff_decision=approve",
                        "-e", "preflight_signoff_by=alice", "-e", "signoff_change_ticket=CHG-7")
    assert result["changed"] is False

    proc, result = role(ansible_playbook, run_dir, "checklist")
    assert result["changed"] and result["decision"] == "go", result["decision_reason"]
    suite = ET.parse(run_dir / "report" / "checklist.junit.xml").getroot()
    assert suite.get("tests") == "12" and suite.get("failures") == "1" and suite.get("skipped") == "0"
    assert (run_dir / "report" / "checklist.json").read_text().count('"manual": true') == 0


def test_signoff_refused_without_override_and_recorded_with_one(ansible_playbook, tmp_path):
    run_dir = tmp_path / "run"
    record(ansible_playbook, run_dir, {"load_test": "fail", "s3_backup": "missing"})
    args = ("-e", "signoff_decision=approve", "-e", "preflight_signoff_by=bob")
    proc, _ = role(ansible_playbook, run_dir, "signoff", *args, "--check")
    assert proc.returncode != 0 and "sign-off refused: 2 critical item(s)" in proc.stdout
    assert "Traceback" not in proc.stdout + proc.stderr and not (run_dir / "signoff.json").exists()

    proc, result = role(ansible_playbook, run_dir, "signoff", *args, "-e", "signoff_override_reason='owner accepts'")
    assert proc.returncode == 0, proc.stdout
    assert result["override"] is True
    proc, result = role(ansible_playbook, run_dir, "checklist", "-e", "checklist_fail_on=fail")
    assert proc.returncode != 0 and "Pre-deployment checklist is NO-GO" in proc.stdout
    model = json.loads((run_dir / "report" / "checklist.json").read_text())
    assert model["decision"] == "no-go" and model["signoff"]["override"] is True
    assert "OVERRIDE" in (run_dir / "report" / "checklist.html").read_text()


def test_signoff_without_identity_is_a_clear_error(ansible_playbook, tmp_path):
    run_dir = tmp_path / "run"
    proc, _ = role(ansible_playbook, run_dir, "signoff", "-e", "signoff_decision=approve")
    assert proc.returncode != 0 and "preflight_signoff_by" in proc.stdout


def test_set_stats_summary_is_emitted(ansible_playbook, tmp_path):
    run_dir = tmp_path / "run"
    record(ansible_playbook, run_dir, {})
    proc = ansible_playbook(role_play(run_dir, "checklist", f"{run_dir}.checklist.json"), "-e", "checklist_fail_on=never",
                            extra_env={"ANSIBLE_SHOW_CUSTOM_STATS": "1"})
    assert proc.returncode == 0, proc.stdout
    stats = proc.stdout[proc.stdout.index("CUSTOM STATS"):]
    assert "preflight_checklist" in stats and '"decision": "pending"' in stats and "checklist.html" in stats
