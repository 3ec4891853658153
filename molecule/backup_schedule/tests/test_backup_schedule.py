"""The role's result on the host: the cron entry, the job files with private modes, the status file of the
real run, its Prometheus metrics file, a backup with its manifest and a passing verification record, and the
recorded verdict."""

import json
import os

BASE = "/tmp/molecule-backup_schedule"
USER = os.environ.get("USER") or "root"


def test_cron_entry_runs_the_wrapper_with_a_random_delay(host):
    cron = host.file(f"{BASE}/cron.d/deploysafe-backup-molecule")
    assert cron.exists and cron.mode == 0o644
    assert f"15 2 * * * {USER} {BASE}/job/run.sh --random-delay" in cron.content_string


def test_job_files_are_private(host):
    assert host.file(f"{BASE}/job").mode == 0o700
    assert host.file(f"{BASE}/job/job.yml").mode == 0o600
    run = host.file(f"{BASE}/job/run.sh")
    assert run.mode == 0o700 and "flock -n" in run.content_string


def test_status_file_of_the_real_run():
    status = json.load(open(f"{BASE}/status/molecule.status.json"))
    assert status["format"] == "deploysafe.preflight/backup-status"
    assert status["last_run"]["ok"] is True and status["last_failure"] is None
    success = status["last_success"]
    assert success["size_bytes"] > 0 and success["duration_s"] > 0 and success["verification"] == "pass"
    artifact = success["artifact"]
    assert artifact.startswith(f"{BASE}/backups/molecule-") and os.path.exists(artifact + ".manifest.json")
    record = json.load(open(artifact + ".verified.json"))
    manifest = json.load(open(artifact + ".manifest.json"))
    assert record["status"] == "pass" and record["artifact"]["sha256"] == manifest["artifact"]["sha256"]


def test_metrics_file_for_node_exporter(host):
    prom = host.file(f"{BASE}/textfile/deploysafe_backup_molecule.prom")
    assert prom.exists and prom.mode == 0o644
    text = prom.content_string
    labels = f'{{schedule="molecule",kind="pg",location="{BASE}/backups"}}'
    assert f"deploysafe_backup_last_run_success{labels} 1\n" in text
    assert "# TYPE deploysafe_backup_last_verified_timestamp_seconds gauge" in text
    assert host.file(f"{BASE}/textfile").listdir() == ["deploysafe_backup_molecule.prom"]  # no temp file left


def test_audit_verdict_recorded_as_pass():
    record = json.load(open(f"{BASE}/run/backup_schedule.json"))
    verdict = record["verdict"]
    assert verdict["status"] == "pass", verdict["summary"]
    names = {m["name"] for m in verdict["evidence"]["measurements"]}
    assert {"newest_backup_age", "newest_backup_verified", "missing_days", "last_run_ok"} <= names
