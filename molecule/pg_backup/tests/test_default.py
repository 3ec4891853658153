"""The role's result: an encrypted artifact + manifest that match, decrypt, and left no scratch database."""

import glob
import hashlib
import io
import json
import os
import tarfile

import psycopg
import pyrage
import zstandard

BASE = "/tmp/molecule-pg_backup"


def _artifact():
    found = glob.glob(f"{BASE}/backups/molecule-*-*.dir.tar.zst.age")
    assert len(found) == 1, found  # converge starts from an empty directory
    return found[0]


def test_artifact_and_manifest_exist_with_mode_0600(host):
    path = _artifact()
    for p in (path, path + ".manifest.json"):
        f = host.file(p)
        assert f.exists and f.mode == 0o600
    assert not glob.glob(f"{BASE}/backups/*.partial")


def test_sha256_matches_manifest():
    path = _artifact()
    manifest = json.load(open(path + ".manifest.json"))
    digest = hashlib.sha256(open(path, "rb").read()).hexdigest()
    assert digest == manifest["artifact"]["sha256"]
    assert manifest["artifact"]["bytes"] == os.path.getsize(path)


def test_decrypts_with_the_identity_to_a_pg_dump():
    path = _artifact()
    ident = pyrage.x25519.Identity.from_str(open(f"{BASE}/identity.txt").read().strip())
    compressed = io.BytesIO()
    with open(path, "rb") as src:
        pyrage.decrypt_io(src, compressed, [ident])
    plain = zstandard.ZstdDecompressor().decompressobj().decompress(compressed.getvalue())
    # the directory format's tar: pg_dump's toc.dat (a custom-format header) and one .dat file per table
    with tarfile.open(fileobj=io.BytesIO(plain)) as tar:
        names = tar.getnames()
        assert tar.extractfile(next(n for n in names if n.endswith("toc.dat"))).read(5) == b"PGDMP"
    assert any(n.endswith(".dat") and not n.endswith("toc.dat") for n in names), names
    manifest = json.load(open(path + ".manifest.json"))
    assert hashlib.sha256(plain).hexdigest() == manifest["plaintext"]["sha256"]


def test_scratch_database_is_gone():
    with psycopg.connect(host=os.environ["PGHOST"], port=os.environ["PGPORT"],
                         user=os.environ["DEPLOYSAFE_PG_SUPERUSER"], password=os.environ["DEPLOYSAFE_PG_SUPERPASSWORD"],
                         dbname="postgres") as conn:
        left = conn.execute("SELECT datname FROM pg_database WHERE datname LIKE 'preflight_verify_%'").fetchall()
    assert left == []


def test_verdict_recorded_as_pass():
    record = json.load(open(f"{BASE}/run/pg_backup.json"))
    assert record["verdict"]["status"] == "pass", record["verdict"]["summary"]
    names = {m["name"] for m in record["verdict"]["evidence"]["measurements"]}
    assert {"backup_duration", "verify_duration", "restore_duration"} <= names
