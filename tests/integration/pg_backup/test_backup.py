"""pg_backup against the real harness PostgreSQL: happy paths and every bad-input case of the issue."""

from __future__ import annotations

import os
import signal
import threading

import pytest

from ansible_collections.deploysafe.preflight.plugins.module_utils.archive import (
    ArchiveError, load_manifest, verify_artifact)
from ansible_collections.deploysafe.preflight.plugins.module_utils.pg import PgError
from ansible_collections.deploysafe.preflight.plugins.module_utils.pg.backup import (
    BackupOptions, plan_backup, run_backup)
from ansible_collections.deploysafe.preflight.plugins.module_utils.pg.connection import ConnParams
from ansible_collections.deploysafe.preflight.plugins.module_utils.pg.tools import check_client, parse_client_version


def _leftovers(path):
    return sorted(os.listdir(path))


def test_encrypted_backup_matches_the_database(app_db, keys, tmp_path):
    result = run_backup(app_db, BackupOptions(dest=str(tmp_path), prefix="it", encrypt_recipients=[keys["recipient"]]))
    assert os.path.basename(result.path).startswith("it-app-") and result.path.endswith(".dir.tar.zst.age")  # the default format
    assert oct(os.stat(result.path).st_mode & 0o777) == "0o600"
    manifest = load_manifest(result.manifest_path)
    tables = manifest["source"]["tables"]
    assert tables["public.orders"]["rows"] == 3000 and tables["public.customers"]["rows"] == 1000
    assert manifest["source"]["server_version_num"] >= 150000
    assert verify_artifact(result.path, identity_file=keys["identity"]).ok


def test_plain_format_and_filters(app_db, tmp_path):
    result = run_backup(app_db, BackupOptions(dest=str(tmp_path), format="plain", include_tables=["customers"]))
    manifest = load_manifest(result.manifest_path)
    assert list(manifest["source"]["tables"]) == ["public.customers"]
    assert verify_artifact(result.path).ok


def test_check_mode_writes_nothing(app_db, tmp_path):
    plan = plan_backup(app_db, BackupOptions(dest=str(tmp_path)))
    assert plan["problems"] == [] and plan["tables"] == 5
    assert plan["would_write"].startswith(str(tmp_path)) and _leftovers(tmp_path) == []


def test_check_mode_says_when_the_scratch_dump_would_not_fit(app_db, tmpfs):
    """format directory keeps the uncompressed dump in dest while it runs; custom streams without it."""
    estimate = plan_backup(app_db, BackupOptions(dest=str(tmpfs(size="4m"))))["estimated_table_bytes"]
    dest = tmpfs(size=f"{estimate // 2 // 1024}k")  # more than the third custom needs, less than the scratch dump
    assert any("temporary uncompressed dump" in p for p in plan_backup(app_db, BackupOptions(dest=str(dest)))["problems"])
    assert plan_backup(app_db, BackupOptions(dest=str(dest), format="custom"))["problems"] == []


def test_check_mode_reports_missing_privilege(app_db, superuser, pg, tmp_path, run_sql):
    run_sql(superuser, "DROP ROLE IF EXISTS limited", "CREATE ROLE limited LOGIN PASSWORD 'limited-pw'")
    try:
        limited = ConnParams(host=pg["host"], port=pg["port"], user="limited", password="limited-pw", dbname="app")
        plan = plan_backup(limited, BackupOptions(dest=str(tmp_path)))
        assert any("lacks SELECT" in p and "public.orders" in p for p in plan["problems"])
    finally:
        run_sql(superuser, "DROP ROLE limited")


def test_wrong_password(app_db, tmp_path):
    bad = ConnParams(**{**app_db.__dict__, "password": "definitely-wrong"})
    with pytest.raises(PgError, match="password authentication failed for user 'app'") as err:
        run_backup(bad, BackupOptions(dest=str(tmp_path)))
    assert "definitely-wrong" not in str(err.value)
    assert _leftovers(tmp_path) == []


def test_unreachable_host(app_db, tmp_path):
    from deploysafe_testenv.process import free_port
    bad = ConnParams(**{**app_db.__dict__, "port": free_port(), "connect_timeout": 2})
    with pytest.raises(PgError, match="server unreachable"):
        run_backup(bad, BackupOptions(dest=str(tmp_path)))
    assert _leftovers(tmp_path) == []


def test_nonexistent_database(app_db, tmp_path):
    with pytest.raises(PgError, match="database 'no_such_db' does not exist"):
        run_backup(app_db.with_db("no_such_db"), BackupOptions(dest=str(tmp_path)))


def test_destination_is_not_a_directory(app_db, tmp_path):
    (tmp_path / "file").write_text("x")
    with pytest.raises(ArchiveError, match="not a directory"):
        run_backup(app_db, BackupOptions(dest=str(tmp_path / "file" / "sub")))
    plan = plan_backup(app_db, BackupOptions(dest=str(tmp_path / "file")))
    assert any("not a directory" in p for p in plan["problems"])


def test_destination_read_only(app_db, tmpfs):
    dest = tmpfs(readonly=True)
    with pytest.raises(ArchiveError, match="destination not writable.*Read-only file system"):
        run_backup(app_db, BackupOptions(dest=str(dest)))
    assert _leftovers(dest) == []


@pytest.mark.parametrize("fmt", ["directory", "custom"])
def test_destination_full(app_db, tmpfs, fmt):
    dest = tmpfs(size="16k")  # the seed database compresses to ~45 kB (directory: pg_dump's scratch copy fills it)
    with pytest.raises(ArchiveError, match="destination full"):
        run_backup(app_db, BackupOptions(dest=str(dest), format=fmt))
    assert _leftovers(dest) == []


def test_pg_dump_killed_mid_stream(new_db, tmp_path, children):
    db = new_db("CREATE TABLE big AS SELECT g AS id, md5(g::text) AS v FROM generate_series(1, 300000) g")
    streaming, killed = threading.Event(), threading.Event()

    class Held:
        """A real partial file whose first write waits until pg_dump has been killed: deterministic."""

        def __init__(self, path):
            self.handle = open(path, "xb")

        def write(self, data):
            if not streaming.is_set():
                streaming.set()
                assert killed.wait(30)
            return self.handle.write(data)

        def __getattr__(self, name):
            return getattr(self.handle, name)

    def killer():
        assert streaming.wait(60)
        pids = children("pg_dump")
        for pid in pids:
            os.kill(pid, signal.SIGKILL)
        killed.set()

    thread = threading.Thread(target=killer)
    thread.start()
    with pytest.raises(ArchiveError, match="pg_dump was killed by SIGKILL"):
        # the streaming (custom) format; test_directory.py kills pg_dump -Fd
        run_backup(db, BackupOptions(dest=str(tmp_path), format="custom", compression_threads=0), opener=Held)
    thread.join()
    assert _leftovers(tmp_path) == []  # no artifact, no manifest, no .partial


def test_client_older_than_server_is_refused():
    assert parse_client_version("pg_dump (PostgreSQL) 15.18 (Debian 15.18-0+deb12u1)") == 15
    assert parse_client_version("pg_restore (PostgreSQL) 9.6.24") == 9
    with pytest.raises(PgError, match="pg_dump is version 14 but the server is PostgreSQL 16"):
        check_client("pg_dump", 14, 16)
    check_client("pg_dump", 17, 16)
