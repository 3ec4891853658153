"""A play that includes one role of the collection on localhost and saves a registered result as JSON; recording
verdicts for the checklist items through record_verdict."""

import json

ROLE_PLAY = """
- hosts: localhost
  connection: local
  gather_facts: false
  vars:
    preflight_run_dir: "{run_dir}"
  tasks:
    - ansible.builtin.include_role:
        name: deploysafe.preflight.{role}
    - ansible.builtin.copy:
        content: "{{{{ ({register} | default({{}})) | to_json }}}}"
        dest: "{out}"
      check_mode: false
"""


def role_play(run_dir, role, out, register=None):
    """The play text; `register` defaults to the role's `<role>_result`."""
    return ROLE_PLAY.format(run_dir=run_dir, role=role, register=register or f"{role}_result", out=out)


ITEMS = ["image_validate", "manifest_validate", "security_scan", "pg_backup", "s3_backup", "backup_schedule",
         "deploy_rehearsal", "rollback_rehearsal", "load_test", "health_check", "monitoring_gate",
          "runtime_security", "production_dry_run"]

RECORD = """
- hosts: localhost
  connection: local
  gather_facts: false
  tasks:
    - deploysafe.preflight.record_verdict:
        run_dir: "{run_dir}"
        name: "{{{{ item.0 }}}}"
        verdict: "{{{{ item.1 }}}}"
      loop: {pairs}
"""


def checked(name, status):
    """A verdict as a check module returns it, earned by one measurement."""
    return {"status": status, "summary": f"{name} {status}",
            "producer": {"collection": "deploysafe.preflight", "version": "0.1.0", "modules": ["test_check"]},
            "evidence": {"artifacts": [], "findings": {"high": 0},
                         "measurements": [{"name": "checked", "value": 1, "unit": "items"}]}}


def record(ansible_playbook, run_dir, statuses, verdicts=None):
    """Record every item of ITEMS with its status in statuses (default pass; "missing" skips it), or the whole
    verdict given in verdicts."""
    verdicts = verdicts or {}
    pairs = json.dumps([[name, verdicts.get(name) or checked(name, statuses.get(name, "pass"))]
                        for name in ITEMS if statuses.get(name) != "missing"])
    proc = ansible_playbook(RECORD.format(run_dir=run_dir, pairs=pairs))
    assert proc.returncode == 0, proc.stdout + proc.stderr


def role(ansible_playbook, run_dir, name, *args):
    result_file = run_dir.parent / f"{run_dir.name}.{name}.json"
    proc = ansible_playbook(role_play(run_dir, name, result_file), *args)
    result = json.loads(result_file.read_text()) if result_file.exists() and proc.returncode == 0 else None
    return proc, result
