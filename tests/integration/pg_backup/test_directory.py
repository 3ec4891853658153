"""format: directory — pg_dump -Fd --jobs into a temp dir, published as a tar through the archive layer."""

from __future__ import annotations

import os
import signal
import tarfile

import pytest

from ansible_collections.deploysafe.preflight.plugins.module_utils.archive import (
    ArchiveError, load_manifest, verify_artifact)
from ansible_collections.deploysafe.preflight.plugins.module_utils.archive.writer import _open_partial
from ansible_collections.deploysafe.preflight.plugins.module_utils.pg.backup import BackupOptions, run_backup
from ansible_collections.deploysafe.preflight.plugins.module_utils.pg.restore import RestoreOptions, restore_artifact
from ansible_collections.deploysafe.preflight.plugins.module_utils.pg.restore_verify import restore_verify



@pytest.fixture(scope="module")
def dir_backup(app_db, keys, tmp_path_factory):
    dest = tmp_path_factory.mktemp("dir_backups")
    return run_backup(app_db, BackupOptions(dest=str(dest), format="directory", jobs=2,
                                            encrypt_recipients=[keys["recipient"]]))


def test_directory_backup_is_published_as_a_tar(dir_backup, keys):
    name = os.path.basename(dir_backup.path)
    assert name.startswith("pg-app-") and name.endswith(".dir.tar.zst.age")
    assert sorted(os.listdir(os.path.dirname(dir_backup.path))) == [name, name + ".manifest.json"]  # temp dir gone
    manifest = load_manifest(dir_backup.manifest_path)
    assert manifest["source"]["format"] == "directory" and manifest["source"]["jobs"] == 2
    assert manifest["plaintext"]["content_type"] == "application/x-tar"
    assert manifest["source"]["tables"]["public.orders"]["rows"] == 3000
    assert verify_artifact(dir_backup.path, identity_file=keys["identity"]).ok


def test_directory_tar_is_deterministic(app_db, tmp_path):
    plain = run_backup(app_db, BackupOptions(dest=str(tmp_path), format="directory", compression_threads=0))
    import zstandard
    with open(plain.path, "rb") as handle, zstandard.ZstdDecompressor().stream_reader(handle) as raw:
        with tarfile.open(fileobj=raw, mode="r|") as tar:
            members = [(member.name, member.size) for member in tar]
    # toc.dat first, then the table files smallest first (a scratch restore streams the last one)
    assert members[0][0] == "toc.dat"
    assert members[1:] == sorted(members[1:], key=lambda m: (m[1], m[0]))
    manifest = load_manifest(plain.manifest_path)
    assert [(m["name"], m["bytes"]) for m in manifest["source"]["members"]] == members


@pytest.mark.parametrize("jobs", [1, 2])
def test_directory_round_trip_restore_verify(superuser, dir_backup, keys, list_scratch_dbs, jobs):
    before = list_scratch_dbs()
    result = restore_verify(superuser, dir_backup.path, RestoreOptions(identity_file=keys["identity"], jobs=jobs))
    assert set(result.properties.values()) == {"pass"}
    assert result.restore["format"] == "directory" and result.restore["jobs"] == jobs
    # pg_restore started while the largest table file still streamed in through a FIFO
    assert result.restore["streamed"] == load_manifest(dir_backup.manifest_path)["source"]["members"][-1]["name"]
    assert result.comparison.tables_compared == 5
    assert list_scratch_dbs() == before


def test_directory_tampered_row_is_reported(superuser, dir_backup, keys, run_sql):
    def tamper(scratch):
        run_sql(scratch, "UPDATE orders SET note = 'tampered' WHERE id = 7")

    result = restore_verify(superuser, dir_backup.path, RestoreOptions(identity_file=keys["identity"]),
                            before_compare=tamper)
    assert result.properties["data_matches"] == "fail"
    assert [d["table"] for d in result.comparison.differing_tables] == ["public.orders"]


def test_directory_restore_into_empty_target(superuser, dir_backup, keys, new_db, run_sql):
    target = superuser.with_db(new_db().dbname)
    run = restore_artifact(target, dir_backup.path, RestoreOptions(identity_file=keys["identity"], jobs=2))
    assert run["format"] == "directory" and run["jobs"] == 2
    assert run_sql(target, "SELECT count(*) FROM orders")[0] == [(3000,)]


def test_writes_during_a_parallel_dump_stay_consistent(new_db, superuser, tmp_path, run_sql):
    """Rows committed after the snapshot export must be in neither the dump nor the hashes."""
    db = new_db("CREATE TABLE a (id int PRIMARY KEY, v text); CREATE TABLE b (id int PRIMARY KEY, v text);"
                "INSERT INTO a SELECT g, md5(g::text) FROM generate_series(1, 20000) g;"
                "INSERT INTO b SELECT g, md5(g::text) FROM generate_series(1, 20000) g")

    def opener(partial):
        # pg_dump runs (or ran) inside the exported snapshot; these commits come after it.
        run_sql(db, "INSERT INTO a VALUES (999999, 'late')", "DELETE FROM b WHERE id <= 100")
        return _open_partial(partial)

    art = run_backup(db, BackupOptions(dest=str(tmp_path), format="directory", jobs=2), opener=opener)
    tables = load_manifest(art.manifest_path)["source"]["tables"]
    assert tables["public.a"]["rows"] == 20000 and tables["public.b"]["rows"] == 20000
    result = restore_verify(superuser, art.path, RestoreOptions(jobs=2))
    assert set(result.properties.values()) == {"pass"}


def test_killed_pg_dump_leaves_nothing(new_db, tmp_path, children):
    db = new_db("CREATE TABLE big AS SELECT g AS id, md5(g::text) AS v FROM generate_series(1, 300000) g")

    def opener(partial):
        # The partial is opened while pg_dump -Fd still runs (its Popen happened before): kill it now.
        for pid in children("pg_dump"):
            os.kill(pid, signal.SIGKILL)
        return _open_partial(partial)

    with pytest.raises(ArchiveError, match="pg_dump was killed by SIGKILL"):
        run_backup(db, BackupOptions(dest=str(tmp_path), format="directory", jobs=2), opener=opener)
    assert os.listdir(tmp_path) == []  # no artifact, no manifest, no .partial, no work directory
