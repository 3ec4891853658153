"""pgBackRest backups and PITR drills on the archiving cluster (real PostgreSQL 15, real pgBackRest 2.45).

The tests of this file run in order on one stanza: a full then an incremental backup, a PITR between two
markers (through the module, as a playbook task calls it; the latest restore runs in test_playbooks), a
corrupted repository file,
a target before the first backup, and a broken archive_command (last: it disturbs archiving for a while).
"""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

import pytest

from ansible_collections.deploysafe.preflight.plugins.module_utils.pgbackrest import PgBackRestError
from ansible_collections.deploysafe.preflight.plugins.module_utils.pgbackrest.backup import backup_verdict, run_backup
from ansible_collections.deploysafe.preflight.plugins.module_utils.pgbackrest.command import backups
from ansible_collections.deploysafe.preflight.plugins.module_utils.pgbackrest.drill_verdict import drill_verdict
from ansible_collections.deploysafe.preflight.plugins.module_utils.pgbackrest.restore_verify import (
    prepare_target, restore_verify)
from ansible_collections.deploysafe.preflight.plugins.module_utils.pgbackrest.source import (
    switch_and_wait, write_marker)
from ansible_collections.deploysafe.preflight.plugins.module_utils.verdict import validate
from tests.integration.module_runner import run_module_raw

from pgbackrest_helpers import drill_options, sql


def assert_cleaned(result):
    """No postmaster left, directory gone, port free: checked here independently of what the drill says."""
    cleanup = result.cleanup if hasattr(result, "cleanup") else result["cleanup"]
    assert cleanup["stopped"] and cleanup["removed"] and cleanup["port_free"], cleanup
    assert not os.path.exists(cleanup["root"])
    pid = cleanup["postmaster_pid"]
    if pid:
        assert not Path(f"/proc/{pid}").exists() or "postgres" not in Path(f"/proc/{pid}/cmdline").read_text()
    procs = subprocess.run(["pgrep", "-f", cleanup["root"]], capture_output=True, text=True).stdout
    assert not procs.strip(), procs


def test_full_then_incremental_backup(stanza):
    runner, source = stanza["runner"], stanza["source"]
    full = run_backup(runner, "full", marker_params=source)
    verdict = backup_verdict(runner, full)
    assert verdict["status"] == "pass", verdict["summary"]
    assert full.backup["type"] == "full" and full.marker["token"].startswith("backup-")
    sql(source, "CREATE TABLE IF NOT EXISTS pitr_rows (id int PRIMARY KEY, note text)")
    sql(source, "INSERT INTO pitr_rows SELECT g, 'row ' || g FROM generate_series(1, 500) g ON CONFLICT DO NOTHING")
    incr = run_backup(runner, "incr", marker_params=source)
    verdict = backup_verdict(runner, incr)
    validate(verdict)
    assert verdict["status"] == "pass", verdict["summary"]
    assert incr.backup["type"] == "incr" and incr.backup["prior"] == full.backup["label"]
    names = {m["name"] for m in verdict["evidence"]["measurements"]}
    assert {"archive_check", "repository_damaged_files", "repository_size", "backup_duration"} <= names
    assert [b["label"] for b in backups(runner.info())][-2:] == [full.backup["label"], incr.backup["label"]]


def test_pitr_to_a_time_between_two_markers(stanza):
    """The module, as a task runs it: restore to a time after marker A and before marker B."""
    runner, source, pg = stanza["runner"], stanza["source"], stanza["pg"]
    first = write_marker(source, "test-before")
    time.sleep(1.5)
    target = sql(source, "SELECT to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US+00')")[0][0]
    time.sleep(1.5)
    second = write_marker(source, "test-after")
    raw, result = run_module_raw("pgbackrest_restore_verify", {
        "config": runner.config.path, "stanza": "main", "password": pg["superpassword"], "bindir": pg["bindir"],
        "target_type": "time", "target": target, "archive_wait": 20, "recovery_timeout": 120,
        "rto_target": 300, "rpo_target": 3600, "verify_repository": False})
    assert pg["superpassword"] not in raw
    verdict = result["verdict"]
    assert verdict["status"] == "pass", result.get("msg") or verdict["summary"]
    tokens_before = {m["token"] for m in result["markers"]["before"]}
    tokens_after = {m["token"] for m in result["markers"]["after"]}
    assert first["token"] in tokens_before and second["token"] in tokens_after
    assert result["properties"]["markers_after_target_absent"] == "pass"
    assert result["properties"]["recovery_stopped_at_target"] == "pass"
    assert result["rto_seconds"] > 0 and result["rpo_seconds"] is not None
    assert result["row_counts"]["postgres"]["public.pitr_rows"] == 500
    assert result["row_counts"]["app"]["public.orders"] > 0  # every database, not only the marker's
    assert result["amcheck"] == {"clean": True, "exit_code": 0, "problems": []}
    assert result["properties"]["databases_connectable"] == "pass"
    assert_cleaned(result)
    print(f"\nPITR drill report: {verdict['summary']}\n  timings {result['timings']}")


@pytest.fixture
def corrupted_file(stanza):
    """Garbage written into one file of the newest full backup; the original bytes come back afterwards."""
    runner = stanza["runner"]
    label = [b["label"] for b in backups(runner.info()) if b["type"] == "full"][-1]
    root = Path(runner.config.repo_path) / "backup" / "main" / label / "pg_data" / "base"
    victim = max((p for p in root.rglob("*.zst") if p.stat().st_size > 4096), key=lambda p: p.stat().st_size)
    original = victim.read_bytes()
    damaged = bytearray(original)
    damaged[2000:2016] = b"deploysafe-noise"
    victim.write_bytes(bytes(damaged))
    try:
        yield label, victim
    finally:
        victim.write_bytes(original)


def test_corrupted_repository_file_is_named_by_verify_and_by_restore(stanza, corrupted_file):
    runner, source, pg = stanza["runner"], stanza["source"], stanza["pg"]
    label, victim = corrupted_file
    relative = f"{label}/pg_data/base/{victim.parent.name}/{victim.name}"
    checked = restore_verify(runner, source, prepare_target(runner, source, "latest", ""), drill_options(pg))
    verdict = drill_verdict(checked, "stanza main")
    assert verdict["status"] == "fail" and relative in verdict["summary"], verdict["summary"]
    # Without verify, the restore itself meets the damage, names the file, and the scratch cluster goes.
    restored = restore_verify(runner, source, prepare_target(runner, source, "immediate", ""),
                              drill_options(pg, verify_repository=False, backup_set=label))
    verdict = drill_verdict(restored, "stanza main")
    assert verdict["status"] == "fail", verdict["summary"]
    assert f"base/{victim.parent.name}/{victim.name[:-4]}" in verdict["summary"], verdict["summary"]
    assert_cleaned(restored)


def test_target_before_the_first_backup_is_a_clear_error(stanza):
    runner, source, pg = stanza["runner"], stanza["source"], stanza["pg"]
    first = backups(runner.info())[0]
    early = time.strftime("%Y-%m-%d %H:%M:%S+00", time.gmtime(first["timestamp"]["start"] - 3600))
    with pytest.raises(PgBackRestError, match=r"before the end of the first usable backup .*choose a later target"):
        restore_verify(runner, source, prepare_target(runner, source, "time", early), drill_options(pg))
    _, result = run_module_raw("pgbackrest_restore_verify", {
        "config": runner.config.path, "stanza": "main", "password": pg["superpassword"],
        "target_type": "time", "target": early})
    assert result.get("failed") and "before the end of the first usable backup" in result["msg"]
    assert "Traceback" not in result.get("module_stderr", "")


def test_failing_archive_command_fails_the_backup(stanza):
    runner, source = stanza["runner"], stanza["source"]
    good = sql(source, "SELECT setting FROM pg_settings WHERE name = 'archive_command'")[0][0]
    # pgbackrest itself, pushing to a stanza that does not exist: check cannot tell it from a good command by
    # its text, only by the segment that never reaches the repository
    broken = good.replace("--stanza=main", "--stanza=missing")
    sql(source, "ALTER SYSTEM SET archive_command = %s" % ("'" + broken.replace("'", "''") + "'"))
    sql(source, "SELECT pg_reload_conf()")
    try:
        result = run_backup(runner, "incr", marker_params=source)
        verdict = backup_verdict(runner, result)
        assert verdict["status"] == "fail" and "WAL archiving broken" in verdict["summary"], verdict["summary"]
        assert "was not archived before the 5000ms timeout" in verdict["summary"], verdict["summary"]
        assert result.backup is None and verdict["evidence"]["findings"] == {"wal_archiving_broken": 1}
    finally:
        sql(source, "ALTER SYSTEM SET archive_command = %s" % ("'" + good.replace("'", "''") + "'"))
        sql(source, "SELECT pg_reload_conf()")
    assert switch_and_wait(source, timeout=60)["archived"]
