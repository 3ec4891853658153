"""backup_verify, pg_restore and pg_restore_verify against the real harness PostgreSQL."""

from __future__ import annotations

import json
import os

import pytest

from ansible_collections.deploysafe.preflight.plugins.module_utils.archive import ArchiveError, verify_artifact
from ansible_collections.deploysafe.preflight.plugins.module_utils.pg import PgError
from ansible_collections.deploysafe.preflight.plugins.module_utils.pg.backup import BackupOptions, run_backup
from ansible_collections.deploysafe.preflight.plugins.module_utils.pg.restore import RestoreOptions, restore_artifact
from ansible_collections.deploysafe.preflight.plugins.module_utils.pg.restore_verify import (
    compare_database, restore_verify, restore_verify_verdict)


@pytest.fixture(scope="module")
def backup(app_db, keys, tmp_path_factory):
    """One encrypted backup of the seeded database, shared (read-only) by the tests below."""
    dest = tmp_path_factory.mktemp("backups")
    return run_backup(app_db, BackupOptions(dest=str(dest), encrypt_recipients=[keys["recipient"]]))


@pytest.fixture
def backup_copy(backup, tmp_path):
    """A private copy of the artifact and its manifest, for tests that damage them."""
    import shutil
    path = tmp_path / os.path.basename(backup.path)
    shutil.copy(backup.path, path)
    shutil.copy(backup.manifest_path, str(path) + ".manifest.json")
    return str(path)


def _opts(keys, **kw):
    return RestoreOptions(identity_file=keys["identity"], **kw)


@pytest.mark.parametrize("jobs", [1, 2])
def test_restore_verify_passes_and_drops_scratch(superuser, backup, keys, list_scratch_dbs, jobs):
    before = list_scratch_dbs()
    result = restore_verify(superuser, backup.path, _opts(keys, jobs=jobs))
    assert result.properties == {"data_matches": "pass", "constraints_valid": "pass",
                                 "sequences_not_behind": "pass", "restore_duration": "pass"}
    assert result.comparison.tables_compared == 5
    assert result.comparison.constraints_checked["foreign_keys"] == 3
    assert result.scratch_db not in list_scratch_dbs() and list_scratch_dbs() == before
    verdict = restore_verify_verdict(backup.path, backup.manifest_path, result)
    assert verdict["status"] == "pass"


def test_plain_backup_restores(app_db, superuser, tmp_path):
    plain = run_backup(app_db, BackupOptions(dest=str(tmp_path), format="plain"))
    assert plain.manifest["source"]["content_hash"] == "md5"  # copy_sha256 needs custom or directory format
    result = restore_verify(superuser, plain.path, RestoreOptions(jobs=2))
    assert set(result.properties.values()) == {"pass"}


def test_tampered_row_is_reported(superuser, backup, keys, run_sql, list_scratch_dbs):
    def tamper(scratch):
        run_sql(scratch, "UPDATE orders SET note = 'tampered' WHERE id = 7")

    result = restore_verify(superuser, backup.path, _opts(keys), before_compare=tamper)
    assert result.properties["data_matches"] == "fail"
    assert result.comparison.differing_tables == [
        {"table": "public.orders", "problem": "content hash differs", "expected_rows": 3000, "actual_rows": 3000}]
    assert "public.orders (content hash differs)" in restore_verify_verdict(
        backup.path, backup.manifest_path, result)["summary"]
    assert result.scratch_db not in list_scratch_dbs()


def test_kept_scratch_can_be_compared_again(superuser, backup, keys, run_sql, list_scratch_dbs):
    from ansible_collections.deploysafe.preflight.plugins.module_utils.archive import load_manifest
    result = restore_verify(superuser, backup.path, _opts(keys), keep_scratch=True)
    try:
        assert result.scratch_db in list_scratch_dbs()
        scratch = superuser.with_db(result.scratch_db)
        run_sql(scratch, "DELETE FROM order_items WHERE order_id = 10",
                "SET session_replication_role = replica",
                "INSERT INTO orders (customer_id, total_cents, status) VALUES (424242, 1, 'new')",
                "SELECT setval('customers_id_seq', 3)")
        comp = compare_database(scratch, load_manifest(backup.manifest_path))
        assert {d["table"] for d in comp.differing_tables} == {"public.order_items", "public.orders"}
        assert [v["constraint"] for v in comp.constraint_violations] == ["orders_customer_id_fkey"]
        assert [s["sequence"] for s in comp.sequences_behind] == ["public.customers_id_seq"]
    finally:
        run_sql(superuser, f"DROP DATABASE {result.scratch_db} WITH (FORCE)")


def test_not_valid_constraint_violation_in_source_is_caught(new_db, superuser, tmp_path):
    db = new_db("CREATE TABLE p (id int PRIMARY KEY); CREATE TABLE c (id int PRIMARY KEY, p int, qty int);"
                "INSERT INTO p VALUES (1); INSERT INTO c VALUES (1, 1, 5), (2, 99, -1);"
                "ALTER TABLE c ADD CONSTRAINT c_p_fkey FOREIGN KEY (p) REFERENCES p(id) NOT VALID;"
                "ALTER TABLE c ADD CONSTRAINT c_qty_check CHECK (qty > 0) NOT VALID;")
    art = run_backup(db, BackupOptions(dest=str(tmp_path)))
    result = restore_verify(superuser, art.path, RestoreOptions())
    assert result.properties["constraints_valid"] == "fail"
    assert {(v["constraint"], v["violating_rows"]) for v in result.comparison.constraint_violations} == {
        ("c_p_fkey", 1), ("c_qty_check", 1)}
    assert result.properties["data_matches"] == "pass"


def test_duration_over_limit_fails(superuser, backup, keys):
    result = restore_verify(superuser, backup.path, _opts(keys), max_duration=0.0)
    assert result.properties["restore_duration"] == "fail"


def test_corrupted_artifact(superuser, backup_copy, keys, list_scratch_dbs):
    size = os.path.getsize(backup_copy)
    with open(backup_copy, "r+b") as handle:
        handle.seek(size // 2)
        byte = handle.read(1)
        handle.seek(size // 2)
        handle.write(bytes([byte[0] ^ 0xFF]))
    report = verify_artifact(backup_copy, identity_file=keys["identity"])
    assert not report.ok and report.differing_blocks[0]["start"] == 0
    assert "differs at bytes 0-" in " ".join(report.problems())
    before = list_scratch_dbs()
    with pytest.raises(PgError, match="cannot restore"):
        restore_verify(superuser, backup_copy, _opts(keys, jobs=2))
    assert list_scratch_dbs() == before


def test_wrong_identity(superuser, backup, keys):
    report = verify_artifact(backup.path, identity_file=keys["other"])
    assert "matches a recipient" in " ".join(report.problems())
    with pytest.raises(PgError, match="none of the identities matches"):
        restore_verify(superuser, backup.path, RestoreOptions(identity_file=keys["other"]))


def test_manifest_missing(superuser, backup_copy, keys):
    os.unlink(backup_copy + ".manifest.json")
    assert "manifest missing" in " ".join(verify_artifact(backup_copy, identity_file=keys["identity"]).problems())
    with pytest.raises(ArchiveError, match="manifest missing"):
        restore_verify(superuser, backup_copy, _opts(keys))


def test_manifest_edited(superuser, backup_copy, keys):
    mpath = backup_copy + ".manifest.json"
    doc = json.loads(open(mpath).read())
    doc["source"]["tables"]["public.orders"]["rows"] = 2999
    open(mpath, "w").write(json.dumps(doc))
    assert "modified after it was written" in " ".join(
        verify_artifact(backup_copy, identity_file=keys["identity"]).problems())
    with pytest.raises(ArchiveError, match="modified after it was written"):
        restore_verify(superuser, backup_copy, _opts(keys))


def test_restore_refuses_non_empty_target(superuser, backup, keys, pg):
    target = superuser.with_db(pg["dbname"])
    with pytest.raises(PgError, match="is not empty.*force: true"):
        restore_artifact(target, backup.path, _opts(keys))
    with pytest.raises(PgError, match="is not empty"):
        restore_artifact(target, backup.path, _opts(keys), check_mode=True)


def test_restore_into_empty_target(superuser, backup, keys, new_db, run_sql):
    target = new_db()
    target_su = superuser.with_db(target.dbname)
    plan = restore_artifact(target_su, backup.path, _opts(keys), check_mode=True)
    assert plan["plan"]["target_occupied"] is None
    assert run_sql(target_su, "SELECT count(*) FROM pg_class WHERE relname = 'orders'")[0][0][0] == 0
    run = restore_artifact(target_su, backup.path, _opts(keys, jobs=2))
    assert run["jobs"] == 2
    assert run_sql(target_su, "SELECT count(*) FROM orders")[0][0][0] == 3000
    # Now occupied: a second restore is refused, with force+clean it replaces the objects.
    with pytest.raises(PgError, match="not empty"):
        restore_artifact(target_su, backup.path, _opts(keys))
    restore_artifact(target_su, backup.path, _opts(keys, force=True, clean=True))
    assert run_sql(target_su, "SELECT count(*) FROM orders")[0][0][0] == 3000


def test_hash_record_content_hash(new_db, superuser, tmp_path, run_sql):
    db = new_db("CREATE TYPE mood AS ENUM ('ok', 'sad');"
                "CREATE TABLE plain_t (id int PRIMARY KEY, v text, at timestamptz DEFAULT now(), j jsonb);"
                "CREATE TABLE enum_t (id int PRIMARY KEY, m mood);"
                "INSERT INTO plain_t (id, v, j) SELECT g, 'v' || g, jsonb_build_object('g', g) FROM generate_series(1, 500) g;"
                "INSERT INTO enum_t SELECT g, 'ok' FROM generate_series(1, 50) g;")
    art = run_backup(db, BackupOptions(dest=str(tmp_path), content_hash="hash_record"))
    tables = art.manifest["source"]["tables"]
    assert tables["public.plain_t"]["hash"] == "hash_record"
    assert tables["public.enum_t"]["hash"] == "md5"  # an enum hashes its OID, which the restore changes
    assert set(restore_verify(superuser, art.path, RestoreOptions()).properties.values()) == {"pass"}

    def tamper(scratch):
        run_sql(scratch, "UPDATE plain_t SET v = 'x' WHERE id = 3")

    result = restore_verify(superuser, art.path, RestoreOptions(), before_compare=tamper)
    assert [d["table"] for d in result.comparison.differing_tables] == ["public.plain_t"]


def test_hash_record_refused_across_major_versions(new_db, superuser, tmp_path):
    from ansible_collections.deploysafe.preflight.plugins.module_utils.archive import load_manifest, write_manifest
    db = new_db("CREATE TABLE t (id int PRIMARY KEY); INSERT INTO t SELECT generate_series(1, 10);")
    art = run_backup(db, BackupOptions(dest=str(tmp_path), content_hash="hash_record"))
    doc = load_manifest(art.manifest_path)
    doc["source"]["server_version_num"] = 140011  # pretend the backup came from PostgreSQL 14
    write_manifest(art.manifest_path, doc)
    result = restore_verify(superuser, art.path, RestoreOptions())
    assert result.properties["data_matches"] == "fail"
    assert "only comparable on the same major version" in result.comparison.differing_tables[0]["problem"]


def test_block_range_split_adds_up_to_the_whole_table(new_db, monkeypatch):
    from ansible_collections.deploysafe.preflight.plugins.module_utils.pg import content
    db = new_db("CREATE TABLE t (id int PRIMARY KEY, v text);"
                "INSERT INTO t SELECT g, repeat('x', g % 50) FROM generate_series(1, 20000) g;")
    whole = content.parallel_fingerprints(db, [("public", "t")], workers=1, server_major=15)
    monkeypatch.setattr(content, "SPLIT_BLOCKS", 2)
    split = content.parallel_fingerprints(db, [("public", "t")], workers=3, server_major=15)
    assert split == whole and whole["public.t"]["rows"] == 20000


def test_writes_during_the_backup_do_not_break_consistency(new_db, superuser, tmp_path, run_sql):
    """Rows committed while pg_dump is streaming belong to neither the dump nor the recorded hashes."""
    import threading
    db = new_db("CREATE TABLE big AS SELECT g AS id, md5(g::text) AS v FROM generate_series(1, 200000) g;"
                "ALTER TABLE big ADD PRIMARY KEY (id);")
    streaming, written = threading.Event(), threading.Event()

    class Held:
        def __init__(self, path):
            self.handle = open(path, "xb")

        def write(self, data):
            if not streaming.is_set():
                streaming.set()
                assert written.wait(60)
            return self.handle.write(data)

        def __getattr__(self, name):
            return getattr(self.handle, name)

    def writer():
        assert streaming.wait(60)
        run_sql(db, "INSERT INTO big SELECT g, 'late' FROM generate_series(200001, 200100) g",
                "UPDATE big SET v = 'changed' WHERE id <= 10", "DELETE FROM big WHERE id BETWEEN 100 AND 120")
        written.set()

    thread = threading.Thread(target=writer)
    thread.start()
    art = run_backup(db, BackupOptions(dest=str(tmp_path), compression_threads=0), opener=Held)
    thread.join()
    assert art.manifest["source"]["tables"]["public.big"]["rows"] == 200000
    assert set(restore_verify(superuser, art.path, RestoreOptions()).properties.values()) == {"pass"}
