"""The PostgreSQL modules of the DR drill through ansible: pg_scratch_database never drops a database it did
not mark, and pg_database_verify passes on a faithful restore and fails on a planted difference."""

from __future__ import annotations

import secrets

from conftest import sql

from tests.integration.module_runner import run_module


def _admin(pg):
    return {"host": pg["host"], "port": pg["port"], "user": pg["superuser"], "password": pg["superpassword"],
            "dbname": "postgres"}


def _exists(superuser, name):
    return bool(sql(superuser, f"SELECT 1 FROM pg_database WHERE datname = '{name}'")[0])


def test_scratch_database_is_marked_and_only_a_marked_one_is_dropped(pg, superuser, new_db):
    name = "drill_t_" + secrets.token_hex(4)
    try:
        planned = run_module("pg_scratch_database", {**_admin(pg), "name": name}, check=True)
        assert planned["changed"] and not _exists(superuser, name)
        created = run_module("pg_scratch_database", {**_admin(pg), "name": name})
        assert created["changed"] and _exists(superuser, name)
        assert not run_module("pg_scratch_database", {**_admin(pg), "name": name})["changed"]  # idempotent
        real = new_db().dbname  # a database the module did not create
        for state in ("absent", "present"):
            refused = run_module("pg_scratch_database", {**_admin(pg), "name": real, "state": state})
            assert refused["failed"] and "is not a scratch database" in refused["msg"], refused
        assert _exists(superuser, real)
        dropped = run_module("pg_scratch_database", {**_admin(pg), "name": name, "state": "absent"})
        assert dropped["changed"] and not _exists(superuser, name)
        assert not run_module("pg_scratch_database", {**_admin(pg), "name": name, "state": "absent"})["changed"]
        bad = run_module("pg_scratch_database", {**_admin(pg), "name": "Drill; DROP"})
        assert bad["failed"] and "lower-case letters" in bad["msg"]
        assert pg["superpassword"] not in str(bad)
    finally:
        sql(superuser, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def test_database_verify_passes_on_a_restore_and_fails_on_a_planted_difference(pg, superuser, tmp_path):
    backup = run_module("pg_backup", {"host": pg["host"], "port": pg["port"], "user": pg["user"],
                                      "password": pg["password"], "dbname": pg["dbname"], "dest": str(tmp_path)})
    assert backup["verdict"]["status"] == "pass", backup.get("msg")
    name = "drill_t_" + secrets.token_hex(4)
    try:
        run_module("pg_scratch_database", {**_admin(pg), "name": name})
        restored = run_module("pg_restore", {**_admin(pg), "dbname": name, "path": backup["path"]})
        assert restored["verdict"]["status"] == "pass", restored.get("msg")
        same = run_module("pg_database_verify", {**_admin(pg), "dbname": name, "path": backup["path"]})
        assert same["verdict"]["status"] == "pass" and same["tables_compared"] >= 1, same
        assert "drill" in same["verdict"]["summary"] and same["verdict"]["producer"]["modules"] == ["pg_database_verify"]
        table = sorted(backup["manifest"]["source"]["tables"])[0]
        schema, bare = table.split(".", 1)
        # one row gone, foreign keys not enforced (replica role): the data differs from the backup
        sql(superuser, "SET session_replication_role = replica",
            f'DELETE FROM "{schema}"."{bare}" WHERE ctid = (SELECT min(ctid) FROM "{schema}"."{bare}")', dbname=name)
        differs = run_module("pg_database_verify", {**_admin(pg), "dbname": name, "path": backup["path"]})
        assert differs["failed"] and differs["verdict"]["status"] == "fail"
        assert [d["table"] for d in differs["differing_tables"]] == [table], differs["differing_tables"]
        reported = run_module("pg_database_verify", {**_admin(pg), "dbname": name, "path": backup["path"],
                                                     "fail_on": "never"})
        assert not reported.get("failed") and reported["verdict"]["status"] == "fail"
    finally:
        sql(superuser, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
