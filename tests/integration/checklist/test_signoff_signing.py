"""Signed sign-off end to end through ansible-playbook: the signoff role signs (SSH key, HMAC secret from
extra vars as an AWX credential injects it), the checklist role and the signoff role's verify mode catch a
changed backup byte, a changed verdict and a wrong key; the secret is never printed or stored."""

from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess

import pytest
from role_play import role_play

from ansible_collections.deploysafe.preflight.plugins.module_utils.verdict import (
    artifact, atomic_write_bytes, make_verdict, measurement, produced_by, verdict_record,
)

CHECKS = ["image_validate", "manifest_validate", "security_scan", "pg_backup", "s3_backup", "backup_schedule",
          "deploy_rehearsal", "rollback_rehearsal", "load_test", "health_check", "monitoring_gate",
          "runtime_security", "production_dry_run"]



@pytest.fixture
def run(tmp_path):
    """A run directory where every check passed; pg_backup names a real backup file."""
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    backup = tmp_path / "backups" / "app.dump.zst"
    backup.parent.mkdir()
    backup.write_bytes(os.urandom(8192))
    run = {"format": 1, "run_id": "run-" + secrets.token_hex(4), "release": {}, "started_at": "2026-12-03T07:00:00Z"}
    (run_dir / "run.json").write_text(json.dumps(run))
    for name in CHECKS:
        arts = [artifact(str(backup), kind="backup")] if name == "pg_backup" else []
        verdict = produced_by(make_verdict("pass", f"{name} ok", artifacts=arts,
                                           measurements=[measurement("duration", 1.0, "s", 5, "<=")]), "test_check")
        atomic_write_bytes(str(run_dir / f"{name}.json"), json.dumps(verdict_record(name, verdict, run=run)).encode())
    return run_dir, backup


def play(ansible_playbook, tmp_path, run_dir, role, extra_vars, register=None, *args):
    """Run one role with extra vars given in a file (as AWX passes them); (proc, registered result or None)."""
    out = tmp_path / f"{role}-{secrets.token_hex(3)}.json"
    vars_file = tmp_path / f"vars-{secrets.token_hex(3)}.json"
    vars_file.write_text(json.dumps({"checklist_fail_on": "never", **extra_vars}))
    proc = ansible_playbook(role_play(run_dir, role, out, register), "-e", f"@{vars_file}", *args)
    result = json.loads(out.read_text()) if out.exists() else None
    vars_file.unlink()
    return proc, result


def ssh_key(tmp_path, name):
    if not shutil.which("ssh-keygen"):
        pytest.skip("ssh-keygen not installed")
    path = tmp_path / name
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", name, "-f", str(path)], check=True)
    return str(path), (tmp_path / f"{name}.pub").read_text().strip()


def flip_byte(path, offset=10):
    data = bytearray(path.read_bytes())
    data[offset] ^= 0x80
    path.write_bytes(bytes(data))


def test_ssh_signed_signoff_go_then_tampered_backup_and_wrong_key_caught(ansible_playbook, tmp_path, run):
    run_dir, backup = run
    key, public = ssh_key(tmp_path, "alice")
    _, other_public = ssh_key(tmp_path, "mallory")
    proc, result = play(ansible_playbook, tmp_path, run_dir, "signoff",
                        {"signoff_decision": "approve", "preflight_signoff_by": "alice", "preflight_signoff_key_file": key})
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert result["signed"] and result["key_id"].startswith("SHA256:") and "signed with SHA256:" in proc.stdout

    proc, result = play(ansible_playbook, tmp_path, run_dir, "checklist", {"preflight_signoff_public_keys": [public]})
    assert proc.returncode == 0 and result["decision"] == "go", result and result["decision_reason"]
    assert result["signoff"]["signature"] == "verified" and result["signoff"]["sealed_artifacts"] == 1
    proc, _ = play(ansible_playbook, tmp_path, run_dir, "signoff",
                   {"signoff_mode": "verify", "preflight_signoff_public_keys": [public]}, "signoff_verify_result")
    assert proc.returncode == 0, proc.stdout

    proc, result = play(ansible_playbook, tmp_path, run_dir, "checklist", {"preflight_signoff_public_keys": [other_public]})
    assert result["decision"] == "pending" and "not a configured verification key" in result["signoff"]["reason"]

    flip_byte(backup)
    proc, result = play(ansible_playbook, tmp_path, run_dir, "checklist",
                        {"preflight_signoff_public_keys": [public]})
    assert result["decision"] == "pending"
    assert f"artifact {backup} (named by pg_backup.json) changed after the sign-off" in result["decision_reason"]
    proc, result = play(ansible_playbook, tmp_path, run_dir, "signoff",
                        {"signoff_mode": "verify", "preflight_signoff_public_keys": [public]}, "signoff_verify_result")
    assert proc.returncode != 0 and f"{backup} (named by pg_backup.json) changed after the sign-off" in proc.stdout
    assert "Traceback" not in proc.stdout + proc.stderr


def test_hmac_secret_from_extra_vars_signs_verifies_and_is_never_shown(ansible_playbook, tmp_path, run):
    run_dir, _ = run
    secret = "awx-cred-" + secrets.token_urlsafe(24)  # pragma: allowlist secret (made at test time)
    proc, result = play(ansible_playbook, tmp_path, run_dir, "signoff",
                        {"signoff_decision": "approve", "awx_user_name": "awx-approver",
                         "preflight_signoff_hmac_secret": secret}, None, "-vvv")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert result["record"]["details"]["by"] == "awx-approver" and result["key_id"].startswith("hmac:")
    printed = proc.stdout + proc.stderr

    proc, result = play(ansible_playbook, tmp_path, run_dir, "checklist", {"preflight_signoff_hmac_secret": secret},
                        None, "-vvv")
    assert result["decision"] == "go", result["decision_reason"]
    printed += proc.stdout + proc.stderr

    verdict_file = run_dir / "load_test.json"
    verdict_file.write_text(verdict_file.read_text().replace("load_test ok", "load_test OK"))
    proc, result = play(ansible_playbook, tmp_path, run_dir, "checklist", {"preflight_signoff_hmac_secret": secret})
    assert result["decision"] == "pending" and "load_test.json changed after the sign-off" in result["decision_reason"]
    proc, result = play(ansible_playbook, tmp_path, run_dir, "checklist",
                        {"preflight_signoff_hmac_secret": "wrong-" + secrets.token_urlsafe(24)})  # pragma: allowlist secret
    assert "which is not a configured verification key" in result["signoff"]["reason"]
    printed += proc.stdout + proc.stderr

    stored = "".join(p.read_text(errors="replace") for p in run_dir.rglob("*") if p.is_file())
    assert secret not in printed and secret not in stored


def test_unsigned_signoff_is_pending_once_the_checklist_has_a_key(ansible_playbook, tmp_path, run):
    run_dir, _ = run
    _, public = ssh_key(tmp_path, "alice")
    proc, result = play(ansible_playbook, tmp_path, run_dir, "signoff",
                        {"signoff_decision": "approve", "preflight_signoff_by": "bob"})
    assert proc.returncode == 0 and not result["signed"] and "NOT signed" in proc.stdout
    proc, result = play(ansible_playbook, tmp_path, run_dir, "checklist", {"preflight_signoff_public_keys": [public]})
    assert result["decision"] == "pending" and "not signed, but a verification key is configured" in result["decision_reason"]


def test_the_signoff_role_never_prompts():
    role = os.path.join(os.path.dirname(__file__), "..", "..", "..", "roles", "signoff")
    text = "".join(open(os.path.join(d, f)).read() for d, _, fs in os.walk(role) for f in fs if f.endswith(".yml"))
    assert "ansible.builtin.pause" not in text and "vars_prompt" not in text
