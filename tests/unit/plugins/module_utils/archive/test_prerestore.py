"""The restore safety net's archive-level rules: where the pre-restore backup goes, which keys it is
encrypted to (never plaintext for an encrypted backup), how it is verified and recorded."""

from __future__ import annotations

import io
import os

import pyrage
import pytest

from ansible_collections.deploysafe.preflight.plugins.module_utils.archive import (
    ArchiveError, StreamProducer, artifact_name, write_artifact)
from ansible_collections.deploysafe.preflight.plugins.module_utils.archive.prerestore import (
    PreRestoreOptions, default_dest, ensure_dest, evidence, planned, recipients_for, skipped, taken, verify_written)

ENCRYPTED = {"scheme": "age", "recipients": ["sha256:0123456789abcdef"]}


@pytest.fixture
def ident(tmp_path):
    key = pyrage.x25519.Identity.generate()
    (tmp_path / "id.txt").write_text(f"# restore key\n{key}\n")
    return {"file": str(tmp_path / "id.txt"), "public": str(key.to_public())}


def _artifact(dest, recipients):
    name = artifact_name("pre-restore", "db", encrypted=bool(recipients))
    return write_artifact(StreamProducer(io.BytesIO(b"rows\n" * 1000)), str(dest), name, recipients=recipients,
                          source={"tables": {}})


def test_default_dest_is_beside_the_backup_restored():
    assert default_dest("/var/backups/pg/nightly-app.dump.zst") == "/var/backups/pg/pre-restore"


def test_recipients_follow_the_backup_restored(ident):
    assert recipients_for(None, PreRestoreOptions(identity_file=ident["file"]), "b") == []
    assert recipients_for(ENCRYPTED, PreRestoreOptions(identity_file=ident["file"]), "b") == [ident["public"]]
    explicit = PreRestoreOptions(encrypt_recipients=["age1explicit"], identity_file=ident["file"])
    assert recipients_for(None, explicit, "b") == recipients_for(ENCRYPTED, explicit, "b") == ["age1explicit"]


def test_an_encrypted_backup_never_gets_a_plaintext_pre_restore_copy():
    with pytest.raises(ArchiveError, match="b.dump.zst.age is encrypted, so the pre-restore backup must be too"):
        recipients_for(ENCRYPTED, PreRestoreOptions(), "b.dump.zst.age")


def test_ensure_dest_creates_a_private_directory_and_names_a_bad_one(tmp_path):
    ensure_dest(str(tmp_path / "a" / "pre-restore"))
    assert oct(os.stat(tmp_path / "a" / "pre-restore").st_mode & 0o777) == "0o700"
    (tmp_path / "file").write_text("x")
    with pytest.raises(ArchiveError, match=f"cannot create the pre-restore backup directory {tmp_path}/file/sub: "
                                           "Not a directory"):
        ensure_dest(str(tmp_path / "file" / "sub"))


@pytest.mark.parametrize("with_key", [True, False])
def test_verify_written_checks_plaintext_when_a_key_opens_it(tmp_path, ident, with_key):
    result = _artifact(tmp_path, [ident["public"]])
    checked = verify_written(result.path, result.manifest_path, [ident["public"]], ident["file"] if with_key else None)
    assert checked["verified"] and checked["plaintext_checked"] == with_key


def test_verify_written_refuses_a_damaged_archive(tmp_path):
    result = _artifact(tmp_path, [])
    with open(result.path, "r+b") as handle:
        handle.seek(10)
        handle.write(b"\xff\xff")
    with pytest.raises(ArchiveError, match="failed its verification: sha256 of"):
        verify_written(result.path, result.manifest_path, [], None)


def test_records_and_evidence(tmp_path):
    result = _artifact(tmp_path, [])
    record = taken("postgresql", "app", result.path, result.manifest_path, result.sha256, result.stored_bytes, 0.1,
                   {"verified": True, "plaintext_checked": True}, tables=0)
    arts, measures = evidence(record)
    assert [a["kind"] for a in arts] == ["pre-restore-backup", "pre-restore-manifest"]
    assert arts[0] == {"path": result.path, "sha256": result.sha256, "size_bytes": result.stored_bytes,
                       "kind": "pre-restore-backup"}
    assert [m["name"] for m in measures] == ["pre_restore_backup_duration", "pre_restore_backup_bytes"]
    assert evidence(skipped("empty")) == ([], []) and evidence(None) == ([], [])


def test_check_mode_record_says_what_would_be_written_or_fails_like_the_real_run():
    plan = {"would_write": "/b/pre-restore/x.dump.zst", "notes": ["created first"], "problems": []}
    record = planned("app", plan, "5 tables")
    assert record == {"taken": False, "would_write": "/b/pre-restore/x.dump.zst", "notes": ["created first"],
                      "reason": "check mode: would back up app (5 tables) to /b/pre-restore/x.dump.zst before restoring"}
    with pytest.raises(ArchiveError, match="destination /b is not writable"):
        planned("app", {**plan, "problems": ["destination /b is not writable"]}, "5 tables")
