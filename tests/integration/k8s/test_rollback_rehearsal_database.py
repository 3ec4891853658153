"""The rollback_rehearsal role with the database down-path, through ansible-playbook: the Kubernetes
rollback and the down migration against a scratch restore of the newest verified backup end in one
recorded verdict; a down migration that breaks a foreign key fails the gate naming the constraint."""

from __future__ import annotations

import psycopg

from rehearsal_helpers import app_deployment, manifests
from test_rehearsal_roles import run_role

from ansible_collections.deploysafe.preflight.plugins.module_utils.archive import verify_artifact, verify_verdict
from ansible_collections.deploysafe.preflight.plugins.module_utils.pg.backup import BackupOptions, run_backup
from ansible_collections.deploysafe.preflight.plugins.module_utils.pg.connection import ConnParams
from ansible_collections.deploysafe.preflight.plugins.module_utils.retention.verified import (
    record_backup_verification)


def scratch_databases(pg):
    with psycopg.connect(host=pg["host"], port=pg["port"], user=pg["superuser"], password=pg["superpassword"],
                         dbname="postgres", autocommit=True) as conn:
        return {r[0] for r in conn.execute(
            "SELECT datname FROM pg_database WHERE datname LIKE 'preflight_downpath_%'").fetchall()}


def test_role_records_the_database_down_path_with_the_rollback(ansible_playbook, tmp_path, cluster, admin_api, pg):
    location = tmp_path / "backups"
    location.mkdir()
    app = ConnParams(host=pg["host"], port=pg["port"], user=pg["user"], password=pg["password"], dbname=pg["dbname"])
    backup = run_backup(app, BackupOptions(dest=str(location)))
    report = verify_artifact(backup.path)
    record_backup_verification(backup.path, report, verify_verdict(report))
    (tmp_path / "up.sql").write_text("ALTER TABLE orders ADD COLUMN coupon text;")
    (tmp_path / "down.sql").write_text("ALTER TABLE orders DROP COLUMN coupon;")
    (tmp_path / "bad-down.sql").write_text("ALTER TABLE orders DROP COLUMN coupon; DELETE FROM customers WHERE id = 3;")
    before = scratch_databases(pg)
    database = {"host": pg["host"], "port": pg["port"], "user": pg["superuser"], "password": pg["superpassword"],
                "dbname": "postgres", "backup_location": str(location),
                "up_migration": {"sql_file": str(tmp_path / "up.sql")},
                "down_migration": {"sql_file": str(tmp_path / "down.sql")}}
    role_vars = dict(rollback_rehearsal_current_content=manifests(app_deployment("registry.local/app:1", replicas=1)),
                     rollback_rehearsal_content=manifests(app_deployment("registry.local/app:2", replicas=1)),
                     rollback_rehearsal_timeout=60, rollback_rehearsal_database=database)

    proc, record = run_role(ansible_playbook, tmp_path, cluster, "rollback_rehearsal", **role_vars)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    verdict = record["verdict"]
    assert verdict["status"] == "pass", verdict["summary"]
    names = {m["name"]: m for m in verdict["evidence"]["measurements"]}
    assert {"rollback_seconds", "database_restore_seconds", "database_up_seconds", "database_down_seconds",
            "rollback_with_database_estimate_seconds"} <= set(names)
    assert names["database_down_seconds"]["threshold"] == 1800
    assert "untouched table(s) identical" in verdict["summary"]
    details = record["details"]["database"]
    assert details["scratch_dropped"] is True and details["plan"]["backup"]["artifact"] == backup.path
    assert "schema_before" not in details
    assert pg["superpassword"] not in proc.stdout + proc.stderr

    database["down_migration"] = {"sql_file": str(tmp_path / "bad-down.sql")}
    (tmp_path / "bad").mkdir()
    proc, record = run_role(ansible_playbook, tmp_path / "bad", cluster, "rollback_rehearsal", **role_vars)
    assert proc.returncode != 0
    assert "down migration failed on constraint orders_customer_id_fkey of public.orders" in proc.stdout
    assert record["verdict"]["status"] == "fail" and record["details"]["namespace_deleted"] is True
    assert scratch_databases(pg) == before
