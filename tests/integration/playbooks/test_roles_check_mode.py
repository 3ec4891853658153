"""Every role in --check on a fresh host: it runs to the end, writes nothing, records nothing and does
not gate (a plan is not a verdict). Real services where a role talks to one."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]

PLAY = """
- hosts: localhost
  connection: local
  gather_facts: false
  vars_files: [{vars_file}]
  tasks:
    - name: The role under test
      ansible.builtin.include_role:
        name: deploysafe.preflight.{role}
"""


def role_vars(role: str, tmp: Path, request) -> dict:
    """The variables a first run of the role needs, pointing at fresh paths and real services."""
    if role == "image_validate":
        image = subprocess.run([sys.executable, str(REPO / "tests/sample_app/build_image.py"), str(tmp / "image")],
                               capture_output=True, text=True, check=True).stdout.strip()
        return {"image_validate_path": image, "image_validate_report_dir": str(tmp / "fresh/reports")}
    if role == "manifest_validate":
        return {"manifest_validate_paths": [str(REPO / "tests/sample_app/k8s")],
                "manifest_validate_report_dir": str(tmp / "fresh/reports")}
    if role == "security_scan":
        (tmp / "repo").mkdir()
        (tmp / "repo/app.py").write_text("print('hello')\n")
        return {"security_scan_path": str(tmp / "repo"), "security_scan_tracked_only": False,
                "security_scan_report_dir": str(tmp / "fresh/reports")}
    if role == "pg_backup":
        pg = request.getfixturevalue("pg")
        return {"pg_backup_host": pg["host"], "pg_backup_port": pg["port"], "pg_backup_user": pg["user"],
                "pg_backup_password": pg["password"], "pg_backup_dbname": pg["dbname"],
                "pg_backup_dest": str(tmp / "fresh/backups")}
    if role == "s3_backup":
        s3 = request.getfixturevalue("s3")
        return {"s3_backup_endpoint_url": s3["endpoint_url"], "s3_backup_access_key": s3["access_key"],
                "s3_backup_secret_key": s3["secret_key"], "s3_backup_region": s3.get("region", "us-east-1"),
                "s3_backup_bucket": s3["bucket"], "s3_backup_dest": str(tmp / "fresh/backups")}
    if role == "load_test":
        app = request.getfixturevalue("app")
        return {"load_test_base_url": app["url"], "load_test_requests": [{"url": "/healthz"}],
                "load_test_report_dir": str(tmp / "fresh/load")}
    if role == "health_check":
        return {"health_check_url": request.getfixturevalue("app")["url"] + "/healthz"}
    if role == "monitoring_gate":
        prom = request.getfixturevalue("prometheus")
        return {"monitoring_gate_url": prom["url"], "monitoring_gate_alertmanager_url": prom["alertmanager_url"]}
    if role == "smoke_check":
        return {"smoke_check_base_url": request.getfixturevalue("app")["url"],
                "smoke_check_checks": [{"name": "read", "url": "/api/workspaces"},
                                       {"name": "write", "url": "/api/workspaces", "method": "POST", "json": {"name": "x"}}]}
    if role == "checklist":
        return {}
    raise AssertionError(role)


@pytest.mark.parametrize("role", ["image_validate", "manifest_validate", "security_scan", "pg_backup", "s3_backup",
                                  "load_test", "health_check", "monitoring_gate", "smoke_check", "checklist"])
def test_role_check_mode_on_a_fresh_host_changes_nothing(role, ansible_playbook, tmp_path, request):
    run_dir = tmp_path / "fresh" / "run"
    variables = {"preflight_run_dir": str(run_dir), **role_vars(role, tmp_path, request)}
    vars_file = tmp_path / "vars.json"
    vars_file.write_text(json.dumps(variables))
    proc = ansible_playbook(PLAY.format(vars_file=vars_file, role=role), "--check", "--diff")
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    assert "Traceback" not in proc.stdout + proc.stderr
    assert not (tmp_path / "fresh").exists(), sorted(str(p) for p in (tmp_path / "fresh").rglob("*"))
