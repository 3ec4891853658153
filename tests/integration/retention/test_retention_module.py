"""The modules through ansible-playbook: backup_verify writes its record, backup_retention plans in
--check --diff, prunes, audits, and rejects bad input with a clear message."""

from __future__ import annotations

import json
import os
from datetime import datetime, timedelta, timezone

from retention_helpers import daily_timeline


def _play(tasks: str) -> str:
    return f"""
- hosts: localhost
  gather_facts: false
  tasks:
{tasks}
"""


def test_verify_records_then_retention_check_diff_prune_and_audit(tmp_path, ansible_playbook):
    backups = tmp_path / "backups"
    backups.mkdir()
    now = datetime.now(timezone.utc)
    names = daily_timeline(backups, 12, end=now - timedelta(hours=1), unverified=(0,))
    assert not (backups / (names[0] + ".verified.json")).exists()
    out = tmp_path / "out.json"
    tasks = f"""
    - name: Verify the newest backup and record it
      deploysafe.preflight.backup_verify:
        path: "{backups / names[0]}"
        record: true
      register: verified
    - name: Plan retention
      deploysafe.preflight.backup_retention:
        location: "{backups}"
        policy: {{keep_daily: 3, keep_weekly: 2}}
      register: planned
    - ansible.builtin.copy:
        content: "{{{{ {{'verified': verified, 'planned': planned}} | to_json }}}}"
        dest: "{out}"
      check_mode: false
"""
    before = sorted(os.listdir(backups))
    run = ansible_playbook(_play(tasks), "--check", "--diff")
    assert run.returncode == 0, run.stdout + run.stderr
    result = json.loads(out.read_text())
    assert sorted(os.listdir(backups)) == before  # check mode: no record, no deletion
    planned = result["planned"]
    assert planned["changed"] is True and planned["removed"] == [] and planned["would_remove"]
    assert "-" + planned["would_remove"][0] in run.stdout  # the diff shows the files that would go
    assert planned["protected"] == names[1]  # the newest is not verified yet (check mode wrote no record)

    run = ansible_playbook(_play(tasks))
    assert run.returncode == 0, run.stdout + run.stderr
    result = json.loads(out.read_text())
    assert result["verified"]["changed"] is True
    record = json.loads((backups / (names[0] + ".verified.json")).read_text())
    assert record["status"] == "pass" and record["artifact"]["name"] == names[0]
    assert result["planned"]["protected"] == names[0]
    assert sorted(os.listdir(backups)) == sorted(set(before + [names[0] + ".verified.json"])
                                                 - set(result["planned"]["removed"]))

    audit = f"""
    - deploysafe.preflight.backup_retention:
        location: "{backups}"
        mode: audit
        audit_days: 3
      register: audited
    - ansible.builtin.copy:
        content: "{{{{ audited | to_json }}}}"
        dest: "{out}"
"""
    run = ansible_playbook(_play(audit))
    assert run.returncode == 0, run.stdout + run.stderr
    audited = json.loads(out.read_text())
    assert audited["changed"] is False and audited["verdict"]["status"] == "pass", audited["verdict"]


def test_audit_failure_fails_the_task_and_bad_policy_is_a_clear_error(tmp_path, ansible_playbook):
    backups = tmp_path / "backups"
    backups.mkdir()
    daily_timeline(backups, 3, end=datetime.now(timezone.utc) - timedelta(hours=40))
    run = ansible_playbook(_play(f"""
    - deploysafe.preflight.backup_retention:
        location: "{backups}"
        mode: audit
"""))
    assert run.returncode != 0 and "h old (max_age 26.0 h)" in run.stdout
    run = ansible_playbook(_play(f"""
    - deploysafe.preflight.backup_retention:
        location: "{backups}"
        policy: {{keep_daily: -2}}
"""))
    assert run.returncode != 0 and "policy.keep_daily: negative values are not allowed" in run.stdout
    assert "Traceback" not in run.stdout + run.stderr
    run = ansible_playbook(_play(f"""
    - deploysafe.preflight.backup_retention:
        location: "{backups}"
        policy: {{keep_dayly: 2}}
"""))
    assert run.returncode != 0 and "keep_dayly" in run.stdout
    assert len(os.listdir(backups)) == 9
