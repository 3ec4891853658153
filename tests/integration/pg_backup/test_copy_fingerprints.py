"""copy_sha256: fingerprints read from pg_dump's own COPY data equal those of COPY on the source and on
the restored database, whatever the session defaults; a changed row is caught; older manifests verify."""

from __future__ import annotations

import psycopg
import pytest

from ansible_collections.deploysafe.preflight.plugins.module_utils.archive import load_manifest, write_manifest
from ansible_collections.deploysafe.preflight.plugins.module_utils.pg.backup import BackupOptions, run_backup
from ansible_collections.deploysafe.preflight.plugins.module_utils.pg.copyprint import copy_fingerprints
from ansible_collections.deploysafe.preflight.plugins.module_utils.pg.restore import RestoreOptions
from ansible_collections.deploysafe.preflight.plugins.module_utils.pg.restore_verify import (
    compare_database, restore_verify)
from ansible_collections.deploysafe.preflight.plugins.module_utils.pg.restore_verify import scratch_restore

# Types whose text form depends on session settings or that stress COPY escaping and chunk framing.
TYPES_SQL = """
CREATE TYPE mood AS ENUM ('ok', 'sad');
CREATE TABLE typed (
  id int PRIMARY KEY, f4 real, f8 double precision, n numeric, ts timestamp, tstz timestamptz, d date,
  iv interval, b bytea, m money, j jsonb, arr float8[], t text, u uuid, e mood, ok bool, gone int,
  doubled int GENERATED ALWAYS AS (id * 2) STORED);
ALTER TABLE typed DROP COLUMN gone;
INSERT INTO typed SELECT g, g / 3.0, pi() * g * 1e-300, g / 7.0, '2026-03-29 02:30' , '2026-10-25 01:30+02', '2026-12-03',
  make_interval(months => g, secs => g / 3.0), decode(md5(g::text), 'hex'), g * 1.25, jsonb_build_object('g', g / 3.0),
  ARRAY[g / 3.0, 1e-310], E'tab\\there\\nnewline\\\\back ' || repeat('é', g % 5), gen_random_uuid(),
  'ok', g % 2 = 0 FROM generate_series(1, 2000) g;
INSERT INTO typed (id, f8, t) VALUES (100001, 'NaN', NULL), (100002, '-Infinity', ''), (100003, -0.0, repeat('x', 3000000));
CREATE TABLE framing (v text);  -- rows of 10 and 2570 bytes: chunk lengths whose bytes are newlines
INSERT INTO framing SELECT repeat('a', 9) FROM generate_series(1, 500);
INSERT INTO framing SELECT repeat('b', 2569) FROM generate_series(1, 50);
CREATE TABLE nocols ();
INSERT INTO nocols DEFAULT VALUES;
CREATE TABLE empty_t (id int);
CREATE TABLE "Odd ""Name"" t" ("Col" text);
INSERT INTO "Odd ""Name"" t" VALUES ('x'), (NULL);
CREATE TABLE parted (id int, v text) PARTITION BY RANGE (id);
CREATE TABLE parted_low PARTITION OF parted FOR VALUES FROM (0) TO (100);
CREATE TABLE parted_high PARTITION OF parted FOR VALUES FROM (100) TO (1000);
INSERT INTO parted SELECT g, 'p' || g FROM generate_series(1, 300) g;
CREATE UNLOGGED TABLE unlogged_t AS SELECT g AS id FROM generate_series(1, 10) g;
SELECT lo_from_bytea(0, '\x0a000a000000000000'::bytea);  -- a large-object block in the middle of the stream
"""

# Defaults that change row text, set on the source database so pg_dump's session starts with them.
ODD_DEFAULTS = ["SET TimeZone = 'America/St_Johns'", "SET DateStyle = 'SQL, DMY'", "SET extra_float_digits = 0",
                "SET bytea_output = 'escape'", "SET IntervalStyle = 'sql_standard'"]


def sql(params, *statements):
    with psycopg.connect(**params.kwargs(), autocommit=True) as conn:
        for statement in statements:
            conn.execute(statement)


@pytest.fixture(scope="module")
def typed_db(superuser, pg):
    name = "t_copyprint"
    sql(superuser, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)", f"CREATE DATABASE {name} OWNER {pg['user']}")
    for setting in ODD_DEFAULTS:
        sql(superuser, f"ALTER DATABASE {name} {setting}")
    params = superuser.with_db(name)
    sql(params, TYPES_SQL)
    yield params
    sql(superuser, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


TABLES = [("public", 'Odd "Name" t'), ("public", "empty_t"), ("public", "framing"), ("public", "nocols"),
          ("public", "parted_high"), ("public", "parted_low"), ("public", "typed"), ("public", "unlogged_t")]


@pytest.mark.parametrize("fmt", ["custom", "directory"])
def test_dump_fingerprints_equal_copy_on_source_and_restored(typed_db, superuser, tmp_path, fmt):
    art = run_backup(typed_db, BackupOptions(dest=str(tmp_path), format=fmt))
    source = art.manifest["source"]
    assert source["content_hash"] == "copy_sha256" and source["fingerprint_version"] == 2
    assert source["copy_settings"]["client_encoding"] == "UTF8"
    dumped = {k: {"rows": v["rows"], "sha256": v["sha256"], "hash": v["hash"]} for k, v in source["tables"].items()}
    assert dumped["public.typed"]["rows"] == 2003 and dumped["public.framing"]["rows"] == 550
    assert dumped["public.nocols"]["rows"] == 1 and dumped["public.empty_t"]["rows"] == 0
    assert dumped["public.parted_low"]["rows"] == 99 and dumped['public.Odd "Name" t']["rows"] == 2
    # COPY on the live source (its odd defaults are overridden by the pinned session) gives the same bytes.
    assert copy_fingerprints(typed_db, TABLES, source["copy_settings"], workers=2, server_major=15) == dumped
    with scratch_restore(superuser, art.path, RestoreOptions(jobs=2)) as scratch:
        restored = copy_fingerprints(scratch.params, TABLES, source["copy_settings"], workers=2, server_major=15)
        assert restored == dumped
        comparison = compare_database(scratch.params, scratch.manifest)
        assert comparison.differing_tables == [] and comparison.tables_compared == len(TABLES)


def test_directory_and_custom_captures_give_the_same_fingerprints(typed_db, tmp_path):
    """The directory path (files hashed while pg_dump -Fd writes them) and the streaming custom path (chunk
    headers stripped from the -Fc stream) fingerprint the same COPY text: a manifest of either compares."""
    (tmp_path / "d").mkdir()
    (tmp_path / "c").mkdir()
    by_dir = run_backup(typed_db, BackupOptions(dest=str(tmp_path / "d"), format="directory", jobs=2))
    by_custom = run_backup(typed_db, BackupOptions(dest=str(tmp_path / "c"), format="custom"))
    assert by_dir.manifest["source"]["format"] == "directory" and by_custom.manifest["source"]["format"] == "custom"
    assert by_dir.manifest["source"]["tables"] == by_custom.manifest["source"]["tables"]
    assert by_dir.manifest["source"]["copy_settings"] == by_custom.manifest["source"]["copy_settings"]


def test_psql_psycopg_and_block_ranges_agree(typed_db, monkeypatch):
    from ansible_collections.deploysafe.preflight.plugins.module_utils.pg import copyprint
    settings = {"client_encoding": "UTF8", "lc_monetary": "C"}
    monkeypatch.setattr(copyprint, "PSQL_MIN_BLOCKS", 0)
    by_psql = copy_fingerprints(typed_db, TABLES, settings, workers=1, server_major=15)
    monkeypatch.setattr(copyprint, "SPLIT_BLOCKS", 1)  # every table read as 3 TID ranges at once
    assert copy_fingerprints(typed_db, TABLES, settings, workers=3, server_major=15) == by_psql
    monkeypatch.setattr(copyprint, "PSQL_MIN_BLOCKS", 1 << 40)
    assert copy_fingerprints(typed_db, TABLES, settings, workers=1, server_major=15) == by_psql


@pytest.mark.parametrize("change", [
    "UPDATE typed SET f8 = f8 * (1 + 1e-15) WHERE id = 1500",  # one float's last digit
    "UPDATE typed SET tstz = tstz + interval '1 microsecond' WHERE id = 7",
    "UPDATE framing SET v = repeat('c', 9) WHERE ctid = '(0,3)'",
])
def test_a_changed_row_is_caught(typed_db, superuser, tmp_path, run_sql, change):
    art = run_backup(typed_db, BackupOptions(dest=str(tmp_path)))
    result = restore_verify(superuser, art.path, RestoreOptions(), before_compare=lambda db: run_sql(db, change))
    assert result.properties["data_matches"] == "fail"
    assert [d["problem"] for d in result.comparison.differing_tables] == ["content hash differs"]


def test_md5_manifests_still_verify_and_unknown_methods_say_so(new_db, superuser, tmp_path):
    db = new_db("CREATE TABLE t (id int PRIMARY KEY, v text); INSERT INTO t SELECT g, 'v' FROM generate_series(1, 50) g;")
    old = run_backup(db, BackupOptions(dest=str(tmp_path), content_hash="md5"))
    assert old.manifest["source"]["tables"]["public.t"]["hash"] == "md5"
    assert set(restore_verify(superuser, old.path, RestoreOptions()).properties.values()) == {"pass"}
    doc = load_manifest(old.manifest_path)
    doc["source"]["tables"]["public.t"]["hash"] = "blake9"
    write_manifest(old.manifest_path, doc)
    result = restore_verify(superuser, old.path, RestoreOptions())
    assert result.properties["data_matches"] == "fail"
    assert "unknown to this version" in result.comparison.differing_tables[0]["problem"]
