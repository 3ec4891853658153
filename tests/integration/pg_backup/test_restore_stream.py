"""A scratch restore streams the backup's largest table file into pg_restore through a FIFO
(pg/restore_stream.py): it must fail as clearly as the unpack-first path, and leave nothing behind."""

from __future__ import annotations

import os
import secrets

import pytest

from ansible_collections.deploysafe.preflight.plugins.module_utils.archive import load_manifest
from ansible_collections.deploysafe.preflight.plugins.module_utils.pg import PgError
from ansible_collections.deploysafe.preflight.plugins.module_utils.pg.backup import BackupOptions, run_backup
from ansible_collections.deploysafe.preflight.plugins.module_utils.pg.restore import RestoreOptions
from ansible_collections.deploysafe.preflight.plugins.module_utils.pg.restore_verify import restore_verify


def test_damage_in_the_streamed_member_fails_the_proof(app_db, superuser, tmp_path, list_scratch_dbs, children):
    backup = run_backup(app_db, BackupOptions(dest=str(tmp_path), format="directory", compression_threads=0))
    assert load_manifest(backup.manifest_path)["source"]["members"][0]["name"] == "toc.dat"
    # the last bytes of the zstd stream: its frame checksum, checked only after pg_restore read everything
    with open(backup.path, "r+b") as handle:
        handle.seek(-2, os.SEEK_END)
        last = handle.read(1)
        handle.seek(-2, os.SEEK_END)
        handle.write(bytes([last[0] ^ 0xFF]))
    before = list_scratch_dbs()
    with pytest.raises(PgError, match="cannot restore"):
        restore_verify(superuser, backup.path, RestoreOptions(jobs=2))
    assert list_scratch_dbs() == before
    assert children("pg_restore") == []


def test_pg_restore_failing_before_the_stream_names_its_own_error(superuser, new_db, run_sql, tmp_path,
                                                                   list_scratch_dbs, children):
    role = "stream_owner_" + secrets.token_hex(4)
    gone = role + "_gone"
    db = new_db().dbname
    run_sql(superuser, f"CREATE ROLE {role}")
    try:
        run_sql(superuser, "CREATE TABLE t (id int PRIMARY KEY, v text)",
                "INSERT INTO t SELECT g, repeat('x', 100) FROM generate_series(1, 20000) g",
                "CREATE TABLE small (id int)", f"ALTER TABLE t OWNER TO {role}", dbname=db)
        backup = run_backup(superuser.with_db(db), BackupOptions(dest=str(tmp_path), format="directory"))
        # the dump says ALTER TABLE t OWNER TO <role>: without that role pg_restore stops in pre-data,
        # before it opens the streamed table file
        run_sql(superuser, f"ALTER ROLE {role} RENAME TO {gone}")
        before = list_scratch_dbs()
        with pytest.raises(PgError, match=f"pg_restore into .*role \"{role}\" does not exist"):
            restore_verify(superuser, backup.path, RestoreOptions(jobs=2))
        assert list_scratch_dbs() == before
        assert children("pg_restore") == []
    finally:
        run_sql(superuser, f"DROP DATABASE IF EXISTS {db} WITH (FORCE)", f"DROP ROLE IF EXISTS {gone}",
                f"DROP ROLE IF EXISTS {role}")
