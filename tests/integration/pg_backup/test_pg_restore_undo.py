"""The restore safety net against the real harness PostgreSQL: a forced pg_restore over a live database
backs it up first (verified, recorded in the result and the verdict), playbooks/undo_restore.yml puts it
back and proves it, and a pre-restore backup that fails stops the restore with the target untouched."""

from __future__ import annotations

import json
import os

import pytest

from ansible_collections.deploysafe.preflight.plugins.module_utils.archive import verify_artifact
from ansible_collections.deploysafe.preflight.plugins.module_utils.archive.prerestore import PreRestoreOptions
from ansible_collections.deploysafe.preflight.plugins.module_utils.files import sha256_file
from ansible_collections.deploysafe.preflight.plugins.module_utils.pg import PgError
from ansible_collections.deploysafe.preflight.plugins.module_utils.pg.backup import BackupOptions, run_backup
from ansible_collections.deploysafe.preflight.plugins.module_utils.pg.prerestore import (
    restore_verdict, restore_with_safety_net)
from ansible_collections.deploysafe.preflight.plugins.module_utils.pg.restore import RestoreOptions
from tests.integration.module_runner import run_module

SCHEMA = ("CREATE TABLE items (id int PRIMARY KEY, v text NOT NULL);"
          "CREATE TABLE notes (id serial PRIMARY KEY, item int REFERENCES items(id), body text);")
# md5 text barely compresses: the live database's backup (~100 kB) does not fit a 16 kB tmpfs
LIVE = SCHEMA + ("INSERT INTO items SELECT g, md5('live' || g) || md5(g::text) FROM generate_series(1, 3000) g;"
                 "INSERT INTO notes (item, body) SELECT g, 'note ' || g FROM generate_series(1, 120) g;")
OLD = SCHEMA + ("INSERT INTO items SELECT g, 'old-' || g FROM generate_series(1, 40) g;"
                "INSERT INTO notes (item, body) VALUES (1, 'old note');")
REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))


def state(run_sql, params):
    """Per table: row count and md5 of the rows in a fixed order, computed here in plain SQL (not with
    the collection's fingerprint code, so the check is independent of what it checks)."""
    tables = [r[0] for r in run_sql(params, "SELECT tablename FROM pg_tables WHERE schemaname = 'public' "
                                            "ORDER BY 1")[0]]
    out = {}
    for table in tables:
        out[table] = run_sql(params, f"SELECT count(*), md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), '')) "
                                     f"FROM {table} t")[0][0]
    return out


@pytest.fixture
def scene(new_db, superuser, keys, tmp_path, run_sql):
    """A live database, and an encrypted backup of an older one with the same schema (the 'bad' restore)."""
    live = superuser.with_db(new_db(LIVE).dbname)
    old = new_db(OLD)
    backups = tmp_path / "backups"
    backups.mkdir()
    bad = run_backup(old, BackupOptions(dest=str(backups), prefix="old", encrypt_recipients=[keys["recipient"]]))
    return {"live": live, "bad": bad, "backups": backups, "before": state(run_sql, live)}


def _force(keys, **kw):
    return RestoreOptions(identity_file=keys["identity"], force=True, clean=True, **kw)


def test_forced_restore_backs_up_then_undo_playbook_puts_it_back(scene, keys, pg, testenv, run_sql, ansible_playbook,
                                                                 tmp_path):
    live, bad = scene["live"], scene["bad"]
    pre = PreRestoreOptions(identity_file=keys["identity"])
    run = restore_with_safety_net(live, bad.path, _force(keys), pre)
    record = run["pre_restore_backup"]
    assert record["taken"] and record["kind"] == "postgresql" and record["target"] == live.dbname
    assert os.path.dirname(record["path"]) == str(scene["backups"] / "pre-restore")
    assert record["encrypted"] and record["verified"] and record["plaintext_checked"] and record["tables"] == 2
    assert record["sha256"] == sha256_file(record["path"]) and record["size"] == os.path.getsize(record["path"])
    assert verify_artifact(record["path"], identity_file=keys["identity"]).ok
    assert state(run_sql, live)["items"][0] == 40  # the old backup's rows replaced the live ones
    verdict = restore_verdict(bad.path, None, run, check_mode=False)
    kinds = {a.get("kind"): a for a in verdict["evidence"]["artifacts"]}
    assert kinds["pre-restore-backup"]["path"] == record["path"] and "pre-restore-manifest" in kinds
    assert verdict["status"] == "pass" and verdict["evidence"]["findings"]["pre_restore_backup"] == 1

    result_file = tmp_path / "restore-result.json"
    result_file.write_text(json.dumps(run))
    env = {**testenv["postgres"].exports, "PGUSER": pg["superuser"], "PGPASSWORD": pg["superpassword"],
           "PREFLIGHT_AGE_IDENTITY_FILE": keys["identity"]}
    play = f"- name: Undo\n  ansible.builtin.import_playbook: {os.path.join(REPO, 'playbooks', 'undo_restore.yml')}\n"
    done = ansible_playbook(play, "-i", os.path.join(REPO, "examples", "testenv", "inventory.yml"), "-e", f"undo_pg_backup={result_file}", "-e", f"undo_pg_dbname={live.dbname}",
                            extra_env=env)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert state(run_sql, live) == scene["before"]
    assert "2 tables equal to the manifest" in done.stdout
    # The undo was protected too: the state it overwrote (the bad restore) is backed up beside it.
    nested = scene["backups"] / "pre-restore" / "pre-restore"
    assert [n for n in os.listdir(nested) if n.endswith(".dump.zst.age")]


def test_undo_of_a_restore_that_added_a_table_reports_it(new_db, superuser, tmp_path, run_sql):
    """clean drops what the backup holds; a table the bad restore added is not silently kept as equal."""
    live = superuser.with_db(new_db(LIVE).dbname)
    bad = run_backup(new_db(OLD + "CREATE TABLE added (id int);"), BackupOptions(dest=str(tmp_path)))
    run = restore_with_safety_net(live, bad.path, RestoreOptions(force=True, clean=True), PreRestoreOptions())
    undo = restore_with_safety_net(live, run["pre_restore_backup"]["path"], RestoreOptions(force=True, clean=True),
                                   PreRestoreOptions(), verify=True)
    assert undo["verification"]["differing_tables"] == [
        {"table": "public.added", "problem": "not in the backup's manifest", "actual_rows": 0}]
    verdict = restore_verdict(run["pre_restore_backup"]["path"], None, undo, check_mode=False)
    assert verdict["status"] == "fail" and "public.added (not in the backup's manifest)" in verdict["summary"]
    run_sql(live, "DROP TABLE added")
    again = restore_with_safety_net(live, run["pre_restore_backup"]["path"], RestoreOptions(force=True, clean=True),
                                    PreRestoreOptions(enabled=False), verify=True)
    assert restore_verdict(run["pre_restore_backup"]["path"], None, again, check_mode=False)["status"] == "pass"


def test_check_mode_says_what_would_be_backed_up_and_writes_nothing(scene, keys, run_sql):
    run = restore_with_safety_net(scene["live"], scene["bad"].path, _force(keys),
                                  PreRestoreOptions(identity_file=keys["identity"]), check_mode=True)
    record = run["pre_restore_backup"]
    assert not record["taken"] and record["would_write"].startswith(str(scene["backups"] / "pre-restore") + "/")
    assert "would back up" in record["reason"] and "2 tables" in record["reason"]
    assert not (scene["backups"] / "pre-restore").exists()
    assert state(run_sql, scene["live"]) == scene["before"]


def test_empty_target_needs_no_pre_restore_backup(scene, keys, new_db, superuser, run_sql):
    empty = superuser.with_db(new_db().dbname)
    run = restore_with_safety_net(empty, scene["bad"].path, _force(keys),
                                  PreRestoreOptions(identity_file=keys["identity"]))
    assert run["pre_restore_backup"] == {
        "taken": False, "reason": f"target database {empty.dbname} is empty or does not exist: nothing to protect"}
    assert not (scene["backups"] / "pre-restore").exists()
    assert state(run_sql, empty)["items"][0] == 40


@pytest.mark.parametrize("failure", ["read-only", "full"])
def test_failing_pre_restore_backup_refuses_the_restore(scene, keys, tmpfs, run_sql, failure):
    dest = tmpfs(readonly=True) if failure == "read-only" else tmpfs(size="16k")  # the backup needs more
    with pytest.raises(PgError, match="pre-restore backup of .* failed, so nothing was restored") as caught:
        restore_with_safety_net(scene["live"], scene["bad"].path, _force(keys),
                                PreRestoreOptions(dest=str(dest), identity_file=keys["identity"]))
    assert ("Read-only file system" if failure == "read-only" else "destination full") in str(caught.value)
    assert state(run_sql, scene["live"]) == scene["before"]
    assert os.listdir(dest) == []


def test_module_records_warns_and_refuses(scene, keys, pg, tmp_path, run_sql):
    conn = {"host": pg["host"], "port": pg["port"], "user": pg["superuser"], "password": pg["superpassword"],
            "dbname": scene["live"].dbname, "path": scene["bad"].path, "identity_file": keys["identity"],
            "force": True, "clean": True}
    (tmp_path / "in-the-way").write_text("a file where the directory should be")
    refused = run_module("pg_restore", {**conn, "pre_restore_dest": str(tmp_path / "in-the-way" / "sub")})
    assert refused["failed"] and "nothing was restored" in refused["msg"] and "Not a directory" in refused["msg"]
    assert state(run_sql, scene["live"]) == scene["before"]

    planned = run_module("pg_restore", conn, check=True)
    assert planned["verdict"]["status"] == "pending" and "would back up" in planned["pre_restore_backup"]["reason"]

    done = run_module("pg_restore", {**conn, "verify": True})
    assert not done.get("failed"), done.get("msg")
    assert done["pre_restore_backup"]["taken"] and done["verification"]["tables_compared"] == 2
    assert done["verdict"]["status"] == "pass"
    assert any(a.get("kind") == "pre-restore-backup" for a in done["verdict"]["evidence"]["artifacts"])

    bare = run_module("pg_restore", {**conn, "pre_restore_backup": False})
    assert bare["pre_restore_backup"]["unprotected"] and "cannot be undone" in " ".join(bare.get("warnings", []))

