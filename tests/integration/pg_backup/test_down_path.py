"""The database down-path of the rollback rehearsal against the real harness PostgreSQL: a scratch restore of
the newest verified backup, up then down migration, schema and untouched tables compared."""

from __future__ import annotations

import json
import shutil

import pytest

from ansible_collections.deploysafe.preflight.plugins.module_utils.archive import verify_artifact, verify_verdict
from ansible_collections.deploysafe.preflight.plugins.module_utils.pg import PgError
from ansible_collections.deploysafe.preflight.plugins.module_utils.pg.backup import BackupOptions, run_backup
from ansible_collections.deploysafe.preflight.plugins.module_utils.pg.down_path import (
    SCRATCH_PREFIX, DownPathOptions, plan_down_path, rehearse_down_path)
from ansible_collections.deploysafe.preflight.plugins.module_utils.pg.migration import MigrationStep
from ansible_collections.deploysafe.preflight.plugins.module_utils.pg.restore import RestoreOptions
from ansible_collections.deploysafe.preflight.plugins.module_utils.retention.verified import (
    record_backup_verification)

UP = """
ALTER TABLE orders ADD COLUMN discount_cents integer NOT NULL DEFAULT 0;
CREATE TABLE coupons (
    id bigserial PRIMARY KEY,
    order_id bigint NOT NULL REFERENCES orders(id),
    code text NOT NULL
);
INSERT INTO coupons (order_id, code) SELECT id, 'C' || id FROM orders WHERE id <= 10;
"""
DOWN = """
DROP TABLE coupons;
ALTER TABLE orders DROP COLUMN discount_cents;
"""


@pytest.fixture(scope="module")
def backups(app_db, keys, tmp_path_factory):
    """A location with an older verified backup and a newer unverified one (encrypted), and an empty one."""
    location = tmp_path_factory.mktemp("down-path-backups")
    verified = run_backup(app_db, BackupOptions(dest=str(location), encrypt_recipients=[keys["recipient"]]))
    report = verify_artifact(verified.path, identity_file=keys["identity"])
    record_backup_verification(verified.path, report, verify_verdict(report))
    newer = run_backup(app_db, BackupOptions(dest=str(location), prefix="pg-newer",
                                             encrypt_recipients=[keys["recipient"]]))
    unverified = tmp_path_factory.mktemp("unverified-only")
    shutil.copy(newer.path, unverified)
    shutil.copy(newer.manifest_path, unverified)
    return {"location": str(location), "verified": verified.path, "newer": newer.path, "unverified": str(unverified)}


@pytest.fixture
def scratch_dbs(superuser, run_sql):
    return lambda: {r[0] for r in run_sql(superuser, "SELECT datname FROM pg_database WHERE datname LIKE "
                                                     f"'{SCRATCH_PREFIX}%'")[0]}


def sql_step(tmp_path, name, text):
    path = tmp_path / f"{name}.sql"
    path.write_text(text)
    return MigrationStep(name=name, sql_file=str(path))


def options(superuser, keys, backups, down, up=None, **kw):
    if "backup" not in kw:
        kw.setdefault("backup_location", backups["location"])
    return DownPathOptions(server=superuser, down=down, up=up, restore=RestoreOptions(identity_file=keys["identity"]),
                           **kw)


def measured(verdict, name):
    return next(m for m in verdict["evidence"]["measurements"] if m["name"] == name)


def test_good_up_and_down_pass_with_timings(superuser, keys, backups, tmp_path, scratch_dbs):
    before = scratch_dbs()
    result = rehearse_down_path(options(superuser, keys, backups, sql_step(tmp_path, "down", DOWN),
                                        up=sql_step(tmp_path, "up", UP), max_down_seconds=60))
    verdict = result["verdict"]
    assert verdict["status"] == "pass", verdict["summary"]
    # the newest *verified* backup was restored, not the newer unverified one
    assert result["plan"]["backup"]["artifact"] == backups["verified"]
    assert result["plan"]["backup"]["verification"] == "pass"
    assert set(result["timings"]) == {"restore", "up", "down"} and all(v > 0 for v in result["timings"].values())
    assert measured(verdict, "database_down_seconds")["ok"] is True
    assert measured(verdict, "database_restore_seconds")["unit"] == "s"
    assert result["changed_tables"] == ["public.coupons", "public.orders"]
    assert result["untouched_tables"] == ["public.customers", "public.order_items", "public.workflows",
                                          "public.workspaces"]
    assert measured(verdict, "database_untouched_tables_changed")["value"] == 0
    assert result["schema_differences"] == []
    assert "public.orders" in result["schema_before"]["relations"]
    assert result["scratch_dropped"] is True and scratch_dbs() == before


def test_down_breaking_a_foreign_key_fails_naming_the_constraint(superuser, keys, backups, tmp_path, scratch_dbs):
    before = scratch_dbs()
    result = rehearse_down_path(options(superuser, keys, backups, sql_step(
        tmp_path, "down", "UPDATE orders SET note = 'rolled back' WHERE id = 1;\nDELETE FROM customers WHERE id = 2;")))
    verdict = result["verdict"]
    assert verdict["status"] == "fail"
    assert result["steps"]["down"]["constraint"] == "orders_customer_id_fkey"
    assert result["steps"]["down"]["sqlstate"] == "23503"
    assert "down migration failed on constraint orders_customer_id_fkey of public.orders" in verdict["summary"]
    assert measured(verdict, "database_down_migration_ok")["ok"] is False
    assert scratch_dbs() == before   # dropped after the failure too


def test_down_dropping_a_foreign_key_fails_naming_it(superuser, keys, backups, tmp_path):
    result = rehearse_down_path(options(superuser, keys, backups, sql_step(
        tmp_path, "down", "ALTER TABLE workflows DROP CONSTRAINT workflows_workspace_id_fkey;")))
    verdict = result["verdict"]
    assert verdict["status"] == "fail"
    assert "foreign key constraint workflows_workspace_id_fkey of public.workflows missing" in verdict["summary"]
    assert result["schema_differences"][0]["name"] == "workflows_workspace_id_fkey"


@pytest.mark.parametrize("down, problem", [
    ("ALTER TABLE workflows DROP COLUMN steps;", "content hash differs"),
    ("DELETE FROM workflows WHERE id > 90;", "row count differs"),
])
def test_down_changing_an_untouched_table_fails_naming_it(superuser, keys, backups, tmp_path, down, problem):
    result = rehearse_down_path(options(superuser, keys, backups, sql_step(tmp_path, "down", DOWN + down),
                                        up=sql_step(tmp_path, "up", UP)))
    verdict = result["verdict"]
    assert verdict["status"] == "fail"
    assert f"public.workflows ({problem})" in verdict["summary"]
    assert [d["table"] for d in result["untouched_tables_changed"]] == ["public.workflows"]


def test_no_verified_backup_is_pending(superuser, keys, backups, tmp_path, scratch_dbs):
    before = scratch_dbs()
    result = rehearse_down_path(options(superuser, keys, backups, sql_step(tmp_path, "down", DOWN),
                                        backup_location=backups["unverified"]))
    assert result["verdict"]["status"] == "pending"
    assert "no verified backup at" in result["verdict"]["summary"]
    assert "1 unverified" in result["verdict"]["summary"]
    assert "scratch_db" not in result and scratch_dbs() == before


def test_expected_schema_file_and_a_command_step(superuser, keys, backups, tmp_path):
    """A schema captured by one run is the expected schema of the next; a command gets the scratch
    database in PG* variables (psql here, as a migration tool would)."""
    first = rehearse_down_path(options(superuser, keys, backups, sql_step(tmp_path, "down", "SELECT 1;"),
                                       backup=backups["newer"]))
    assert first["verdict"]["status"] == "pass", first["verdict"]["summary"]
    assert first["plan"]["backup"].get("verification") is None   # given explicitly, never verified
    expected = tmp_path / "schema-n.json"
    expected.write_text(json.dumps(first["schema_before"]))
    psql = MigrationStep(name="down", command=["psql", "-X", "-v", "ON_ERROR_STOP=1", "-c",
                                               "ALTER TABLE orders ADD COLUMN legacy text"])
    second = rehearse_down_path(options(superuser, keys, backups, psql, expected_schema=str(expected)))
    assert second["verdict"]["status"] == "fail"
    assert "column legacy of public.orders unexpected" in second["verdict"]["summary"]
    assert "the expected schema" in second["verdict"]["summary"]
    breaking = MigrationStep(name="down", command=["psql", "-X", "-v", "ON_ERROR_STOP=1", "-c",
                                                   "DELETE FROM customers WHERE id = 1"])
    third = rehearse_down_path(options(superuser, keys, backups, breaking))
    assert third["verdict"]["status"] == "fail"
    assert third["steps"]["down"]["constraint"] == "orders_customer_id_fkey"
    assert "down migration failed on constraint orders_customer_id_fkey" in third["verdict"]["summary"]
    assert superuser.password not in json.dumps(third)


def test_check_mode_plans_without_restoring(superuser, keys, backups, tmp_path, scratch_dbs):
    before = scratch_dbs()
    result = plan_down_path(options(superuser, keys, backups, sql_step(tmp_path, "down", DOWN),
                                    up=sql_step(tmp_path, "up", UP)))
    assert result["verdict"]["status"] == "pending"
    assert result["plan"]["backup"]["artifact"] == backups["verified"]
    assert result["plan"]["down_migration"] == {"sql_file": str(tmp_path / "down.sql"), "transaction": True}
    assert scratch_dbs() == before


def test_bad_input_is_an_error_before_any_restore(superuser, keys, backups, tmp_path, scratch_dbs):
    before = scratch_dbs()
    with pytest.raises(PgError, match="down_migration.sql_file .*missing.sql does not exist"):
        rehearse_down_path(options(superuser, keys, backups, MigrationStep("down", sql_file=str(tmp_path / "missing.sql"))))
    bad = tmp_path / "bad.json"
    bad.write_text("{}")
    with pytest.raises(PgError, match="is not a deploysafe.preflight/schema snapshot"):
        rehearse_down_path(options(superuser, keys, backups, sql_step(tmp_path, "down", DOWN), expected_schema=str(bad)))
    with pytest.raises(PgError, match="give the S3 prefix as backup_location"):
        rehearse_down_path(options(superuser, keys, backups, sql_step(tmp_path, "down", DOWN), backup="s3://b/x.zst"))
    assert scratch_dbs() == before


def test_an_error_without_a_constraint_is_reported_with_its_sqlstate(superuser, keys, backups, tmp_path):
    """A statement that fails for another reason than a constraint: the verdict says which step and why."""
    result = rehearse_down_path(options(superuser, keys, backups, sql_step(
        tmp_path, "down", "ALTER TABLE orders DROP COLUMN note;\nALTER TABLE orders DROP COLUMN no_such_column;")))
    assert result["verdict"]["status"] == "fail"
    assert 'down migration failed: column "no_such_column" of relation "orders" does not exist' \
        in result["verdict"]["summary"]
    assert result["steps"]["down"]["sqlstate"] == "42703" and "constraint" not in result["steps"]["down"]


def test_newest_verified_backup_in_s3_is_downloaded_restored_and_removed(app_db, superuser, s3, tmp_path, scratch_dbs):
    from ansible_collections.deploysafe.preflight.plugins.module_utils.pg.s3dest import backup_to_s3, verify_s3_artifact
    from ansible_collections.deploysafe.preflight.plugins.module_utils.s3.client import S3Conn
    conn = S3Conn(endpoint_url=s3["endpoint_url"], access_key=s3["access_key"], secret_key=s3["secret_key"],
                  region=s3.get("region", "us-east-1"))
    location = f"s3://{s3['bucket']}/down-path-{tmp_path.name[-12:]}/"
    staging, work = tmp_path / "staging", tmp_path / "work"
    staging.mkdir()
    work.mkdir()
    result = backup_to_s3(app_db, BackupOptions(dest=location), conn, run_backup, staging_dir=str(staging))[0]
    opts = DownPathOptions(server=superuser, down=sql_step(tmp_path, "down", DOWN), up=sql_step(tmp_path, "up", UP),
                           backup_location=location, s3=conn, restore=RestoreOptions(work_dir=str(work)))
    assert rehearse_down_path(opts)["verdict"]["status"] == "pending"   # not verified yet
    report, verdict = verify_s3_artifact(conn, result.path, work_dir=str(work))
    record_backup_verification(result.path, report, verdict, conn)
    before = scratch_dbs()
    out = rehearse_down_path(opts)
    assert out["verdict"]["status"] == "pass", out["verdict"]["summary"]
    assert out["plan"]["backup"]["artifact"] == result.path
    assert out["verdict"]["evidence"]["artifacts"][0]["path"] == result.path
    assert list(work.iterdir()) == [] and scratch_dbs() == before


def test_migration_rehearsal_module_check_mode_then_real_run(pg, backups, keys, tmp_path, scratch_dbs):
    """The standalone module through ansible: check mode plans (pending, nothing restored), a real run with a
    down migration that deletes rows of an untouched table fails the task naming it; no password in the output."""
    from tests.integration.module_runner import run_module_raw
    before = scratch_dbs()
    (tmp_path / "down.sql").write_text("DELETE FROM order_items WHERE order_id = 5;")
    database = {"host": pg["host"], "port": pg["port"], "login_user": pg["superuser"],
                "login_password": pg["superpassword"], "backup_location": backups["location"],
                "identity_file": keys["identity"], "down_migration": {"sql_file": str(tmp_path / "down.sql")}}
    _raw, planned = run_module_raw("migration_rehearsal", {"database": database}, check=True)
    assert not planned.get("failed") and planned["verdict"]["status"] == "pending", planned.get("msg")
    assert planned["plan"]["backup"]["artifact"] == backups["verified"]
    raw, result = run_module_raw("migration_rehearsal", {"database": database, "sla": 120})
    assert result["failed"] and "untouched tables changed: public.order_items (row count differs)" in result["msg"]
    assert result["verdict"]["producer"]["modules"] == ["migration_rehearsal"]
    assert result["scratch_dropped"] is True and scratch_dbs() == before
    assert pg["superpassword"] not in raw


def test_sigterm_during_the_down_migration_still_drops_the_scratch_database(superuser, backups, keys, tmp_path,
                                                                             scratch_dbs):
    import os
    import signal
    import subprocess
    import sys
    import time
    before = scratch_dbs()
    script = tmp_path / "run.py"
    script.write_text(f"""
from ansible_collections.deploysafe.preflight.plugins.module_utils.pg import PgError
from ansible_collections.deploysafe.preflight.plugins.module_utils.pg.connection import ConnParams
from ansible_collections.deploysafe.preflight.plugins.module_utils.pg.down_path import DownPathOptions, rehearse_down_path
from ansible_collections.deploysafe.preflight.plugins.module_utils.pg.migration import MigrationStep
from ansible_collections.deploysafe.preflight.plugins.module_utils.pg.restore import RestoreOptions
opts = DownPathOptions(server=ConnParams(**{superuser.__dict__!r}), down=MigrationStep("down", command=["sleep", "60"]),
                       backup_location={backups['location']!r}, restore=RestoreOptions(identity_file={keys['identity']!r}))
try:
    rehearse_down_path(opts)
except PgError as exc:
    print(exc)
""")
    proc = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True, env=os.environ)
    deadline = time.monotonic() + 60
    while not scratch_dbs() - before and time.monotonic() < deadline:
        time.sleep(0.2)
    assert scratch_dbs() - before, "the scratch database never appeared"
    time.sleep(1.0)   # restored and hashed: the down migration (sleep) is running
    proc.send_signal(signal.SIGTERM)
    out = proc.communicate(timeout=60)[0]
    assert "database down-path interrupted by SIGTERM; the scratch database preflight_downpath_" in out
    assert out.strip().endswith("was dropped")
    assert scratch_dbs() == before
