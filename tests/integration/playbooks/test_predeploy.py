"""playbooks/predeploy.yml end to end against the harness: verdicts recorded, checklist decided,
and a step whose server is down recorded as `fail` (the flow goes on, the checklist says no-go)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from deploysafe_testenv.process import free_port

REPO = Path(__file__).resolve().parents[3]
CLEARED = ("PGHOST", "PGPORT", "PGUSER", "PGPASSWORD", "PGDATABASE", "DEPLOYSAFE_PG_SUPERUSER",
           "DEPLOYSAFE_PG_SUPERPASSWORD", "S3_ENDPOINT_URL", "DEPLOYSAFE_S3_BUCKET", "DEPLOYSAFE_APP_URL",
           "DEPLOYSAFE_PROMETHEUS_URL", "KUBECONFIG", "PREFLIGHT_IMAGE", "PREFLIGHT_MANIFESTS", "PREFLIGHT_REPO",
           "PREFLIGHT_AGE_RECIPIENT", "PREFLIGHT_AGE_IDENTITY_FILE")


def run_predeploy(run_dir: Path, env: dict, *args: str) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items() if k not in CLEARED}
    base.update(PREFLIGHT_RUN_DIR=str(run_dir), ANSIBLE_COLLECTIONS_PATH=str(REPO / ".collection"),
                ANSIBLE_NOCOLOR="1", **env)
    return subprocess.run([str(Path(sys.executable).parent / "ansible-playbook"), "playbooks/predeploy.yml",
                           "-i", "examples/testenv/inventory.yml", *args],
                          cwd=REPO, env=base, capture_output=True, text=True, timeout=900, check=False)


def pg_env(pg: dict, **override) -> dict:
    env = {"PGHOST": pg["host"], "PGPORT": str(pg["port"]), "PGUSER": pg["user"], "PGPASSWORD": pg["password"],
           "PGDATABASE": pg["dbname"], "DEPLOYSAFE_PG_SUPERUSER": pg["superuser"],
           "DEPLOYSAFE_PG_SUPERPASSWORD": pg["superpassword"]}
    env.update(override)
    return env


def items(run_dir: Path) -> dict:
    report = json.loads((run_dir / "report" / "checklist.json").read_text())
    return {item["name"]: item["status"] for item in report["items"]}, report


def test_backup_step_passes_and_unconfigured_steps_stay_pending(pg, tmp_path):
    run_dir = tmp_path / "run"
    proc = run_predeploy(run_dir, pg_env(pg))
    assert proc.returncode != 0, proc.stdout[-3000:]  # pending is never green: the play fails unless go
    assert "Pre-deployment checklist is PENDING" in proc.stdout
    status, report = items(run_dir)
    assert status["pg_backup"] == "pass", report["items"][3]
    measurements = {m["name"] for m in report["items"][3]["evidence"]["measurements"]}
    assert any("restore" in m for m in measurements), measurements  # restore-verify ran by default
    record = json.loads((run_dir / "pg_backup.json").read_text())
    assert not record["manual"] and record["run_id"] == report["run_id"]
    assert {"pg_backup", "backup_verify", "pg_restore_verify"} <= set(record["producer"]["modules"]), record["producer"]
    assert status["load_test"] == status["s3_backup"] == status["signoff"] == "pending"
    assert report["decision"] == "pending" and report["run_id"]
    assert pg["password"] not in (run_dir / "report" / "checklist.html").read_text()
    accepted = run_predeploy(run_dir, pg_env(pg), "-e", "preflight_fail_on=fail")  # accepting pending is explicit
    assert accepted.returncode == 0, accepted.stdout[-3000:]


def test_dead_server_is_recorded_as_fail_and_the_checklist_says_no_go(pg, tmp_path):
    run_dir = tmp_path / "run"
    dead = str(free_port())  # nothing listens there
    proc = run_predeploy(run_dir, pg_env(pg, PGPORT=dead))
    assert proc.returncode != 0  # no-go fails the play by default
    recorded = json.loads((run_dir / "pg_backup.json").read_text())["verdict"]
    assert recorded["status"] == "fail"
    assert dead in recorded["summary"]
    status, report = items(run_dir)
    assert status["pg_backup"] == "fail" and report["decision"] == "no-go"
    assert "Traceback" not in proc.stdout
