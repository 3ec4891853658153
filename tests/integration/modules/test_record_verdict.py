"""record_verdict through ansible-playbook: check mode writes nothing, second run is unchanged."""

from __future__ import annotations

import json
from pathlib import Path

PLAY = """
- hosts: localhost
  connection: local
  gather_facts: false
  tasks:
    - deploysafe.preflight.record_verdict:
        run_dir: "{run_dir}"
        name: demo
        verdict: {verdict}
      register: out
    - ansible.builtin.copy:
        content: "{{{{ out | to_json }}}}"
        dest: "{run_dir}.result.json"
      check_mode: false
      diff: false
"""


def run_play(ansible_playbook, tmp_path, verdict, *args):
    run_dir = tmp_path / "run"
    proc = ansible_playbook(PLAY.format(run_dir=run_dir, verdict=json.dumps(verdict)), *args)
    result = json.loads(Path(f"{run_dir}.result.json").read_text()) if proc.returncode == 0 else None
    return proc, result, run_dir / "demo.json"


GOOD = {"status": "pending", "summary": "no data", "evidence": {"artifacts": [], "findings": {}, "measurements": []}}


def test_check_mode_then_write_then_idempotent(ansible_playbook, tmp_path):
    proc, result, path = run_play(ansible_playbook, tmp_path, GOOD, "--check", "--diff")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert result["changed"] is True and not path.exists()
    assert '"status": "pending"' in proc.stdout  # the diff shows what would be written
    proc, result, path = run_play(ansible_playbook, tmp_path, GOOD)
    assert result["changed"] is True and json.loads(path.read_text())["verdict"] == GOOD
    proc, result, path = run_play(ansible_playbook, tmp_path, GOOD)
    assert result["changed"] is False


def test_malformed_verdict_is_a_clear_error(ansible_playbook, tmp_path):
    proc, _, path = run_play(ansible_playbook, tmp_path, {"status": "green"})
    assert proc.returncode != 0
    assert "does not follow the evidence contract" in proc.stdout
    assert "Traceback" not in proc.stdout + proc.stderr
    assert not path.exists()
