"""No data is never a pass: a backup of a database without tables, its restore-verify, and a check-mode
plan are pending (planted), while the same steps on a database with a table pass (clean)."""

from __future__ import annotations

import os

from ansible_collections.deploysafe.preflight.plugins.module_utils.pg.backup import (
    BackupOptions, backup_verdict, plan_backup, plan_verdict, run_backup)
from ansible_collections.deploysafe.preflight.plugins.module_utils.pg.restore import RestoreOptions
from ansible_collections.deploysafe.preflight.plugins.module_utils.pg.restore_verify import (
    restore_verify, restore_verify_verdict)
from tests.integration.module_runner import run_module

ONE_TABLE = "CREATE TABLE items (id int PRIMARY KEY, name text); INSERT INTO items SELECT g, 'n' || g FROM generate_series(1, 50) g"


def test_backup_of_a_database_without_tables_is_pending(new_db, tmp_path):
    (tmp_path / "empty").mkdir()
    (tmp_path / "full").mkdir()
    empty = run_backup(new_db(), BackupOptions(dest=str(tmp_path / "empty")))
    verdict = backup_verdict(empty)
    assert empty.tables == 0
    assert verdict["status"] == "pending" and "holds no table" in verdict["summary"], verdict["summary"]
    assert verdict["evidence"]["artifacts"]   # the file is still named, with its hash
    full = backup_verdict(run_backup(new_db(ONE_TABLE), BackupOptions(dest=str(tmp_path / "full"))))
    assert full["status"] == "pass", full["summary"]


def test_filters_that_leave_nothing_are_pending(new_db, tmp_path):
    result = run_backup(new_db(ONE_TABLE), BackupOptions(dest=str(tmp_path), exclude_tables=["items"]))
    assert backup_verdict(result)["status"] == "pending"


def test_restore_verify_comparing_no_table_is_pending(new_db, superuser, tmp_path, list_scratch_dbs):
    before = list_scratch_dbs()
    empty = run_backup(new_db(), BackupOptions(dest=str(tmp_path)))
    result = restore_verify(superuser, empty.path, RestoreOptions(jobs=1))
    assert result.comparison.tables_compared == 0
    assert result.properties["data_matches"] == "pending"
    verdict = restore_verify_verdict(empty.path, empty.manifest_path, result)
    assert verdict["status"] == "pending" and "no table compared" in verdict["summary"], verdict["summary"]
    assert list_scratch_dbs() == before


def test_check_mode_plan_is_pending_and_a_problem_fails(new_db, tmp_path):
    params = new_db(ONE_TABLE)
    plan = plan_backup(params, BackupOptions(dest=str(tmp_path)))
    verdict = plan_verdict(plan)
    assert verdict["status"] == "pending" and "nothing proven" in verdict["summary"]
    assert os.listdir(tmp_path) == []
    # A first run: the destination does not exist yet; its parent is checked instead, still pending.
    fresh = plan_backup(params, BackupOptions(dest=str(tmp_path / "fresh" / "backups")))
    assert not fresh["problems"] and fresh["free_bytes"] and "does not exist yet" in fresh["notes"][0]
    assert plan_verdict(fresh)["status"] == "pending" and not (tmp_path / "fresh").exists()
    (tmp_path / "a-file").write_text("")
    blocked = plan_verdict(plan_backup(params, BackupOptions(dest=str(tmp_path / "a-file" / "backups"))))
    assert blocked["status"] == "fail" and "is not a directory" in blocked["summary"]


def test_fail_on_gates_pending_and_the_old_flag_still_works(new_db, pg, tmp_path):
    empty = new_db()
    backup = run_module("pg_backup", {"host": pg["host"], "port": pg["port"], "user": pg["user"],
                                      "password": pg["password"], "dbname": empty.dbname, "dest": str(tmp_path)})
    assert backup["verdict"]["status"] == "pending" and not backup.get("failed"), backup.get("msg")
    admin = {"login_host": pg["host"], "login_port": pg["port"], "login_user": pg["superuser"],
             "login_password": pg["superpassword"], "path": backup["path"], "jobs": 1}
    gated = run_module("pg_restore_verify", {**admin, "fail_on": "pending"})
    assert gated.get("failed") and "is not proven restorable" in gated["msg"], gated
    assert gated["verdict"]["status"] == "pending"
    assert not run_module("pg_restore_verify", admin).get("failed")        # default fail_on=fail
    legacy = run_module("pg_restore_verify", {**admin, "fail_on_mismatch": True})
    assert not legacy.get("failed") and legacy["verdict"]["status"] == "pending"
    assert any("fail_on_mismatch" in d["msg"] for d in legacy.get("deprecations", [])), legacy
    both = run_module("pg_restore_verify", {**admin, "fail_on": "never", "fail_on_mismatch": False})
    assert both.get("failed") and "mutually exclusive" in both["msg"]
    verified = run_module("backup_verify", {"path": backup["path"], "fail_on": "pending"})
    assert not verified.get("failed") and verified["verdict"]["status"] == "pass", verified.get("msg")
