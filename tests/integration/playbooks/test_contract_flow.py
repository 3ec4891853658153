"""The evidence contract through real ansible-playbook runs: runs, hosts, tags, manual and earned verdicts."""

from __future__ import annotations

import json
from pathlib import Path

from test_predeploy import items, run_predeploy

PASS = {"status": "pass", "summary": "checked", "evidence": {
    "artifacts": [], "findings": {}, "measurements": [{"name": "checked", "value": 1, "unit": "items"}]},
    "producer": {"collection": "deploysafe.preflight", "version": "0.1.0", "modules": ["test"]}}


def inventory(tmp_path: Path, verdicts: dict) -> Path:
    """Hosts that run locally, each with its own verdict to record (JSON is YAML)."""
    path = tmp_path / "hosts.yml"
    path.write_text("all:\n  hosts:\n" + "".join(
        f"    {h}:\n      ansible_connection: local\n      ansible_python_interpreter: '{{{{ ansible_playbook_python }}}}'\n"
        f"      host_verdict: {json.dumps(v)}\n" for h, v in verdicts.items()))
    return path


def test_hosts_record_on_the_controller_and_one_failing_host_fails_the_item(ansible_playbook, tmp_path):
    run_dir = tmp_path / "run"
    play = f"""
- hosts: db1,db2
  gather_facts: false
  vars:
    preflight_run_dir: {run_dir}
  tasks:
    - name: Record and gate (db2 fails)
      ansible.builtin.import_role:
        name: deploysafe.preflight.verdict_gate
      vars:
        verdict_gate_name: pg_backup
        verdict_gate_verdict: "{{{{ host_verdict }}}}"
        verdict_gate_fail_on: fail
- hosts: localhost
  gather_facts: false
  tasks:
    - name: Checklist
      ansible.builtin.import_role:
        name: deploysafe.preflight.checklist
      vars:
        preflight_run_dir: {run_dir}
        checklist_fail_on: never
"""
    hosts = inventory(tmp_path, {"db1": PASS, "db2": dict(PASS, status="fail", summary="restore differs")})
    proc = ansible_playbook(play, "-i", str(hosts))  # localhost stays implicit (local), as for most users
    assert "pg_backup is fail (fail_on fail): restore differs" in proc.stdout, proc.stdout[-3000:]
    assert sorted(p.name for p in run_dir.glob("pg_backup*.json")) == ["pg_backup@db1.json", "pg_backup@db2.json"]
    status, report = items(run_dir)
    assert status["pg_backup"] == "fail"
    pg = report["items"][3]
    assert {h["host"]: h["status"] for h in pg["hosts"]} == {"db1": "pass", "db2": "fail"}


def test_reused_run_dir_turns_the_old_pass_pending_and_tags_still_write_the_report(tmp_path):
    run_dir = tmp_path / "run"
    first = run_predeploy(run_dir, {}, "-e", "preflight_fail_on=never")
    assert first.returncode == 0, first.stdout[-3000:]
    old_run = json.loads((run_dir / "run.json").read_text())["run_id"]
    record = json.loads((run_dir / "report" / "checklist.json").read_text())
    assert record["run_id"] == old_run
    # an earlier run's pass left in the directory
    stale = {"format": 2, "name": "pg_backup", "host": None, "run_id": old_run, "release": {}, "producer": PASS["producer"],
             "manual": False, "recorded_by": None, "recorded_at": record["generated_at"],
             "verified_at": record["generated_at"], "verdict": PASS, "details": {}}
    (run_dir / "pg_backup.json").write_text(json.dumps(stale))
    before = (run_dir / "report" / "checklist.json").read_text()
    tagged = run_predeploy(run_dir, {}, "--tags", "backup")  # a new run: only the backup steps selected
    assert tagged.returncode != 0  # pending, never green
    status, report = items(run_dir)
    assert report["run_id"] != old_run and (run_dir / "report" / "checklist.json").read_text() != before
    pg = report["items"][3]
    assert status["pg_backup"] == "pending" and "recorded by another run" in pg["reason"], pg
    assert "(was pass)" in pg["reason"]


def test_a_pass_without_evidence_is_refused_and_a_manual_verdict_is_marked(ansible_playbook, tmp_path):
    run_dir = tmp_path / "run"
    play = f"""
- hosts: localhost
  gather_facts: false
  tasks:
    - name: A hand-written pass with no evidence
      deploysafe.preflight.record_verdict:
        run_dir: {run_dir}
        name: load_test
        verdict: {{status: pass, summary: "trust me", evidence: {{artifacts: [], findings: {{}}, measurements: []}}}}
      register: refused
      ignore_errors: true
    - name: A hand-written pass whose measurement says not ok
      deploysafe.preflight.record_verdict:
        run_dir: {run_dir}
        name: health_check
        recorded_by: carol
        verdict:
          status: pass
          summary: "fine"
          evidence: {{artifacts: [], findings: {{}}, measurements: [{{name: p95, value: 900, unit: ms, ok: false}}]}}
      register: downgraded
    - name: Show
      ansible.builtin.debug:
        msg: "REFUSED={{{{ refused.msg }}}} STATUS={{{{ downgraded.record.verdict.status }}}} MANUAL={{{{ downgraded.record.manual }}}}"
"""
    proc = ansible_playbook(play)
    assert "REFUSED=verdict for 'load_test' does not follow the evidence contract: a pass must be earned" in proc.stdout, proc.stdout
    assert "STATUS=fail MANUAL=True" in proc.stdout
    assert not (run_dir / "load_test.json").exists()
    recorded = json.loads((run_dir / "health_check.json").read_text())
    assert recorded["recorded_by"] == "carol" and recorded["run_id"]


def test_merge_verdicts_filter_makes_a_missing_required_proof_pending(ansible_playbook):
    play = f"""
- hosts: localhost
  gather_facts: false
  vars:
    good: {json.dumps(PASS)}
  tasks:
    - name: Merge
      ansible.builtin.debug:
        msg: "{{{{ ({{'backup': good, 'restore': none}} | deploysafe.preflight.merge_verdicts(required=['restore'])).status }}}}
              {{{{ ([good, good] | deploysafe.preflight.merge_verdicts).status }}}}
              {{{{ ([] | deploysafe.preflight.merge_verdicts).status }}}}"
"""
    proc = ansible_playbook(play)
    assert '"msg": "pending pass pending"' in proc.stdout, proc.stdout
