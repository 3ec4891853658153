"""The backup_schedule role on this host: --check on a fresh host, the cron path installed and run for real
against the harness PostgreSQL (status file, verified backup, Prometheus metrics, audit pass), idempotence, a
failing job that the audit fails and the metrics show, the systemd units checked with systemd-analyze, and
state: absent."""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest


def _play(base: Path, pg: dict, **overrides) -> str:
    bindir = Path(sys.executable).parent
    repo = Path(__file__).resolve().parents[3]
    role_vars = {
        "backup_schedule_name": "itest",
        "backup_schedule_kind": "pg",
        "backup_schedule_pg_backup": {"host": pg["host"], "port": pg["port"], "user": pg["user"],
                                      "password": pg["password"], "dbname": pg["dbname"], "prefix": "sched"},
        "backup_schedule_location": str(base / "backups"),
        "backup_schedule_scheduler": "cron",
        "backup_schedule_cron_dir": str(base.parent / "cron.d"),
        "backup_schedule_systemd_dir": str(base / "systemd"),
        "backup_schedule_job_dir": str(base / "job"),
        "backup_schedule_status_file": str(base / "status" / "itest.status.json"),
        "backup_schedule_textfile_dir": str(base / "textfile"),
        "backup_schedule_user": os.environ.get("USER") or "root",
        "backup_schedule_ansible_playbook": str(bindir / "ansible-playbook"),
        "backup_schedule_environment": {"ANSIBLE_COLLECTIONS_PATH": str(repo / ".collection"),
                                        "ANSIBLE_PYTHON_INTERPRETER": sys.executable,
                                        "ANSIBLE_LOCAL_TEMP": str(base / "ansible-tmp"), "ANSIBLE_NOCOLOR": "1"},
        "backup_schedule_policy": {"keep_daily": 3},
        "preflight_run_dir": str(base / "run"),
    }
    role_vars.update(overrides)
    return f"""
- hosts: localhost
  gather_facts: false
  tasks:
    - ansible.builtin.include_role:
        name: deploysafe.preflight.backup_schedule
      vars: {json.dumps(role_vars)}
"""


@pytest.fixture(autouse=True)
def cron_dir(tmp_path):
    """A cron.d directory, as a host with a cron daemon has (the role refuses to install into nothing)."""
    (tmp_path / "cron.d").mkdir()
    return tmp_path / "cron.d"


def _changed_tasks(stdout: str):
    """Names of the tasks that reported a change."""
    out, task = [], None
    for line in stdout.splitlines():
        if line.startswith("TASK ["):
            task = line[6:].split("]")[0]
        elif line.startswith("changed:") and task:
            out.append(task)
    return out


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _metrics(path: Path) -> dict:
    """metric name -> (labels text, value) of a .prom file."""
    out = {}
    for line in path.read_text().splitlines():
        if line and not line.startswith("#"):
            series, value = line.rsplit(" ", 1)
            name, labels = series.split("{", 1)
            out[name] = (labels.rstrip("}"), float(value))
    return out


def test_check_mode_on_a_fresh_host_changes_nothing(tmp_path, pg, ansible_playbook):
    base = tmp_path / "fresh"
    run = ansible_playbook(_play(base, pg), "--check")
    assert run.returncode == 0, run.stdout + run.stderr
    assert not base.exists() and list(tmp_path.joinpath("cron.d").iterdir()) == []


def test_no_systemd_and_no_cron_is_a_clear_error(tmp_path, pg, ansible_playbook):
    run = ansible_playbook(_play(tmp_path / "nocron", pg, backup_schedule_cron_dir=str(tmp_path / "no-cron.d")))
    assert run.returncode != 0 and "Install a cron daemon" in run.stdout


def test_cron_path_runs_for_real_is_idempotent_and_absent_removes_it(tmp_path, cron_dir, pg, ansible_playbook):
    base = tmp_path / "host"
    # one run of a new schedule is too short a history to pass the default 7-day audit: pending, so it stops
    first = ansible_playbook(_play(tmp_path / "fresh", pg, backup_schedule_run_now=True))
    assert first.returncode != 0 and "covers only 1 of the last 7 days" in first.stdout, first.stdout[-3000:]
    run = ansible_playbook(_play(base, pg, backup_schedule_run_now=True, backup_schedule_audit_days=1))
    assert run.returncode == 0, run.stdout + run.stderr
    status = json.loads((base / "status" / "itest.status.json").read_text())
    assert status["last_run"]["ok"] is True and status["last_failure"] is None
    success = status["last_success"]
    assert success["size_bytes"] > 0 and success["duration_s"] > 0 and success["verification"] == "pass"
    artifact = Path(success["artifact"])
    assert artifact.exists() and Path(str(artifact) + ".manifest.json").exists()
    assert json.loads(Path(str(artifact) + ".verified.json").read_text())["status"] == "pass"
    assert status["kind"] == "pg" and status["last_verified"]["finished_at"] == success["finished_at"]
    prom = base / "textfile" / "deploysafe_backup_itest.prom"
    assert _mode(prom) == 0o644 and [p.name for p in prom.parent.iterdir()] == [prom.name]
    metrics = _metrics(prom)
    assert metrics["deploysafe_backup_last_run_success"] == (
        f'schedule="itest",kind="pg",location="{base / "backups"}"', 1.0)
    assert metrics["deploysafe_backup_last_success_timestamp_seconds"][1] == metrics[
        "deploysafe_backup_last_verified_timestamp_seconds"][1] > 0
    assert metrics["deploysafe_backup_size_bytes"][1] == success["size_bytes"]
    assert metrics["deploysafe_backup_artifacts_kept"][1] == 1
    assert metrics["deploysafe_backup_last_failure_timestamp_seconds"][1] == 0
    cron = (cron_dir / "deploysafe-backup-itest").read_text()
    assert f"15 2 * * * {os.environ.get('USER') or 'root'} {base}/job/run.sh --random-delay" in cron
    assert _mode(cron_dir / "deploysafe-backup-itest") == 0o644
    assert _mode(base / "job") == 0o700 and _mode(base / "job" / "job.yml") == 0o600
    assert _mode(base / "job" / "run.sh") == 0o700
    assert pg["password"] not in run.stdout  # the job playbook holds it; the task is no_log
    record = json.loads((base / "run" / "backup_schedule.json").read_text())
    assert record["verdict"]["status"] == "pass", record["verdict"]["summary"]
    assert not (base / "systemd").exists()

    again = ansible_playbook(_play(base, pg, backup_schedule_audit_days=1))
    assert again.returncode == 0, again.stdout + again.stderr
    # nothing of the role changes; the verdict record only when the audit's numbers moved (the backup's age)
    assert set(_changed_tasks(again.stdout)) <= {"deploysafe.preflight.verdict_gate : Record the verdict for the checklist: "
                                                 "backup_schedule"}, again.stdout

    gone = ansible_playbook(_play(base, pg, backup_schedule_state="absent"))
    assert gone.returncode == 0, gone.stdout + gone.stderr
    assert not (cron_dir / "deploysafe-backup-itest").exists() and not (base / "job").exists()
    assert not prom.exists()  # node_exporter must not export a removed schedule forever
    assert artifact.exists()  # backups and status stay


def test_a_failing_job_is_recorded_and_fails_the_audit(tmp_path, pg, ansible_playbook):
    base = tmp_path / "broken"
    bad = {"host": pg["host"], "port": pg["port"], "user": pg["user"], "password": "wrong-" + os.urandom(4).hex(),
           "dbname": pg["dbname"]}
    run = ansible_playbook(_play(base, pg, backup_schedule_run_now=True, backup_schedule_pg_backup=bad))
    assert run.returncode != 0
    status = json.loads((base / "status" / "itest.status.json").read_text())
    assert status["last_run"]["ok"] is False and status["last_failure"]["step"] == "backup"
    metrics = _metrics(base / "textfile" / "deploysafe_backup_itest.prom")
    assert metrics["deploysafe_backup_last_run_success"][1] == 0
    assert metrics["deploysafe_backup_last_success_timestamp_seconds"][1] == 0  # never succeeded
    assert metrics["deploysafe_backup_last_failure_timestamp_seconds"][1] > 0
    assert "deploysafe_backup_size_bytes" not in metrics
    assert "the last scheduled run failed" in run.stdout
    assert bad["password"] not in run.stdout
    tolerant = ansible_playbook(_play(base, pg, backup_schedule_pg_backup=bad, backup_schedule_fail_on="never"))
    assert tolerant.returncode == 0, tolerant.stdout
    record = json.loads((base / "run" / "backup_schedule.json").read_text())
    assert record["verdict"]["status"] == "fail"


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze not installed")
def test_systemd_units_are_valid(tmp_path, cron_dir, pg, ansible_playbook):
    base = tmp_path / "units"
    (tmp_path / "systemd").mkdir()  # /etc/systemd/system on a real host
    run = ansible_playbook(_play(base, pg, backup_schedule_scheduler="systemd", backup_schedule_fail_on="never",
                                 backup_schedule_systemd_dir=str(tmp_path / "systemd"),
                                 backup_schedule_textfile_dir=""))
    assert run.returncode == 0, run.stdout + run.stderr
    assert "backup_metrics" not in (base / "job" / "job.yml").read_text()  # "" turns the metrics off
    service = tmp_path / "systemd" / "deploysafe-backup-itest.service"
    timer = tmp_path / "systemd" / "deploysafe-backup-itest.timer"
    text = timer.read_text()
    assert "OnCalendar=daily" in text and "Persistent=true" in text and "RandomizedDelaySec=3600" in text
    assert f"ExecStart={base}/job/run.sh" in service.read_text()
    assert not (cron_dir / "deploysafe-backup-itest").exists()
    check = subprocess.run(["systemd-analyze", "verify", str(service), str(timer)], capture_output=True, text=True)
    assert check.returncode == 0 and not (check.stdout + check.stderr).strip(), check.stdout + check.stderr
