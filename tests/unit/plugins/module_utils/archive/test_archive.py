"""Archive layer: round trips, corruption localisation, identities, manifests, failure cleanup."""

from __future__ import annotations

import errno
import io
import json
import os
from datetime import datetime, timezone

import pyrage
import pytest

from ansible_collections.deploysafe.preflight.plugins.module_utils.archive import (
    ArchiveError, CommandProducer, StreamProducer, artifact_name, load_identities, load_manifest, manifest_path,
    read_artifact, verify_artifact, verify_verdict, write_artifact)

DATA = os.urandom(1 << 20) + b"row,value\n" * 400_000  # ~5 MB: several 1 MiB blocks, partly compressible


@pytest.fixture
def keys(tmp_path):
    ident, other = pyrage.x25519.Identity.generate(), pyrage.x25519.Identity.generate()
    (tmp_path / "id.txt").write_text(f"# test identity\n{ident}\n")
    (tmp_path / "other.txt").write_text(f"{other}\n")
    return {"recipient": str(ident.to_public()), "identity": str(tmp_path / "id.txt"),
            "other": str(tmp_path / "other.txt")}


def _write(dest, recipients=(), data=DATA, **kw):
    name = artifact_name("t", "db", encrypted=bool(recipients))
    return write_artifact(StreamProducer(io.BytesIO(data)), str(dest), name, recipients=recipients,
                          source={"tables": {"a": 1}}, **kw)


def _flip(path, offset):
    with open(path, "r+b") as handle:
        handle.seek(offset)
        byte = handle.read(1)
        handle.seek(offset)
        handle.write(bytes([byte[0] ^ 0x01]))


def test_name_has_utc_stamp_and_suffixes():
    when = datetime(2026, 11, 25, 14, 3, 9, tzinfo=timezone.utc)
    assert artifact_name("nightly", "app db", when) == "nightly-app_db-20261125T140309Z.dump.zst"
    assert artifact_name("p", "app", when, encrypted=True).endswith("20261125T140309Z.dump.zst.age")


@pytest.mark.parametrize("encrypted", [False, True])
def test_round_trip(tmp_path, keys, encrypted):
    result = _write(tmp_path, [keys["recipient"]] if encrypted else [])
    assert oct(os.stat(result.path).st_mode & 0o777) == "0o600"
    assert result.stored_bytes < len(DATA) and result.plaintext_bytes == len(DATA)
    assert not [p for p in os.listdir(tmp_path) if p.endswith(".partial")]
    manifest = load_manifest(manifest_path(result.path))
    assert manifest["artifact"]["sha256"] == result.sha256
    assert manifest["source"] == {"tables": {"a": 1}}
    assert (manifest["encryption"] is not None) == encrypted
    out = io.BytesIO()
    read = read_artifact(result.path, out, encrypted=encrypted,
                         identities=load_identities(keys["identity"]) if encrypted else ())
    assert read.error is None and out.getvalue() == DATA
    report = verify_artifact(result.path, identity_file=keys["identity"] if encrypted else None)
    assert report.ok, report.problems()
    assert verify_verdict(report)["status"] == "pass"


@pytest.mark.parametrize("encrypted", [False, True])
def test_flipped_byte_is_located(tmp_path, keys, encrypted):
    result = _write(tmp_path, [keys["recipient"]] if encrypted else [])
    offset = result.stored_bytes - 5000
    _flip(result.path, offset)
    report = verify_artifact(result.path, identity_file=keys["identity"])
    assert not report.ok
    block = offset // (1 << 20)
    assert [b["block"] for b in report.differing_blocks] == [block]
    start = block << 20
    assert f"bytes {start}-" in " ".join(report.problems())
    failed = {c.name for c in report.checks if c.ok is False}
    assert {"stored_sha256", "plaintext"} <= failed
    assert verify_verdict(report)["status"] == "fail"


def test_truncated_artifact(tmp_path):
    result = _write(tmp_path)
    with open(result.path, "r+b") as handle:
        handle.truncate(result.stored_bytes // 2)
    report = verify_artifact(result.path)
    assert "truncated" in " ".join(report.problems())


def test_wrong_identity(tmp_path, keys):
    result = _write(tmp_path, [keys["recipient"]])
    report = verify_artifact(result.path, identity_file=keys["other"])
    assert not report.ok
    assert "matches a recipient" in " ".join(report.problems())
    # Without the manifest the fingerprints are unknown: decryption itself must say so.
    os.unlink(manifest_path(result.path))
    report = verify_artifact(result.path, identity_file=keys["other"])
    assert "none of the identities matches" in " ".join(report.problems())


def test_encrypted_without_identity_is_not_a_pass(tmp_path, keys):
    result = _write(tmp_path, [keys["recipient"]])
    report = verify_artifact(result.path)
    assert verify_verdict(report)["status"] == "pending"


def test_manifest_missing(tmp_path):
    result = _write(tmp_path)
    os.unlink(manifest_path(result.path))
    report = verify_artifact(result.path)
    assert not report.ok and "manifest missing" in " ".join(report.problems())
    assert verify_verdict(report)["status"] == "fail"


def test_manifest_edited(tmp_path):
    result = _write(tmp_path)
    mpath = manifest_path(result.path)
    doc = json.loads(open(mpath).read())
    doc["source"]["tables"]["a"] = 2
    open(mpath, "w").write(json.dumps(doc))
    assert "was modified" in " ".join(verify_artifact(result.path).problems())


def test_manifest_with_recomputed_digest_still_caught_by_hash(tmp_path):
    from ansible_collections.deploysafe.preflight.plugins.module_utils.archive.manifest import write_manifest
    result = _write(tmp_path)
    doc = load_manifest(manifest_path(result.path))
    doc["artifact"]["sha256"] = "0" * 64
    write_manifest(manifest_path(result.path), doc)
    assert "the manifest says " + "0" * 64 in " ".join(verify_artifact(result.path).problems())


class _FullDisk(io.FileIO):
    """A real partial file that fails like a full disk after `room` bytes."""
    room = 200_000

    def write(self, data):
        if self.tell() + len(data) > self.room:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return super().write(data)


def test_enospc_removes_partial(tmp_path):
    with pytest.raises(ArchiveError, match="destination full"):
        _write(tmp_path, opener=lambda p: _FullDisk(p, "xb"))
    assert os.listdir(tmp_path) == []


def test_enospc_with_encryption(tmp_path, keys):
    dest = tmp_path / "out"
    dest.mkdir()
    with pytest.raises(ArchiveError, match="destination full"):
        _write(dest, [keys["recipient"]], opener=lambda p: _FullDisk(p, "xb"))
    assert os.listdir(dest) == []


def test_failing_producer_leaves_nothing(tmp_path):
    producer = CommandProducer(["sh", "-c", "head -c 300000 /dev/urandom; echo 'tool: error: boom' >&2; exit 1"])
    with pytest.raises(ArchiveError, match="boom"):
        write_artifact(producer, str(tmp_path), artifact_name("t", "db"))
    assert os.listdir(tmp_path) == []


def test_killed_producer_leaves_nothing(tmp_path):
    producer = CommandProducer(["sh", "-c", "head -c 300000 /dev/urandom; kill -9 $$"], name="dumper")
    with pytest.raises(ArchiveError, match="dumper was killed by SIGKILL"):
        write_artifact(producer, str(tmp_path), artifact_name("t", "db"))
    assert os.listdir(tmp_path) == []


def test_error_on_stderr_with_exit_zero_fails(tmp_path):
    producer = CommandProducer(["sh", "-c", "echo data; echo 'pg_dump: error: query failed' >&2"])
    with pytest.raises(ArchiveError, match="query failed"):
        write_artifact(producer, str(tmp_path), artifact_name("t", "db"))


def test_warning_on_stderr_is_kept_not_fatal(tmp_path):
    producer = CommandProducer(["sh", "-c", "echo data; echo 'pg_dump: warning: odd' >&2"])
    result = write_artifact(producer, str(tmp_path), artifact_name("t", "db"))
    assert result.warnings == ["pg_dump: warning: odd"]


def test_refuses_overwrite_and_missing_dest(tmp_path):
    name = artifact_name("t", "db")
    (tmp_path / name).write_bytes(b"x")
    with pytest.raises(ArchiveError, match="refusing to overwrite"):
        write_artifact(StreamProducer(io.BytesIO(b"x")), str(tmp_path), name)
    with pytest.raises(ArchiveError, match="does not exist"):
        write_artifact(StreamProducer(io.BytesIO(b"x")), str(tmp_path / "nope"), name)


def test_unwritable_destination(tmp_path):
    # Tests run as root, which ignores permission bits: a path below a regular file fails for anyone.
    (tmp_path / "file").write_text("x")
    with pytest.raises(ArchiveError, match="does not exist or is not a directory"):
        _write(tmp_path / "file")


def test_invalid_recipient(tmp_path):
    with pytest.raises(ArchiveError, match="invalid age recipient"):
        _write(tmp_path, ["age1notakey"])
    assert os.listdir(tmp_path) == []
