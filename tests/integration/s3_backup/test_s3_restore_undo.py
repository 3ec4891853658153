"""The restore safety net against the real harness MinIO: a forced s3_restore into a bucket that holds
objects archives it first (verified, recorded in the result and the verdict), playbooks/undo_restore.yml
puts it back exactly (objects the bad restore added are deleted) and proves it, and a pre-restore backup
that fails stops the restore with the bucket untouched."""

from __future__ import annotations

import hashlib
import os
import subprocess

import pytest

from ansible_collections.deploysafe.preflight.plugins.module_utils.archive import verify_artifact
from ansible_collections.deploysafe.preflight.plugins.module_utils.archive.prerestore import PreRestoreOptions
from ansible_collections.deploysafe.preflight.plugins.module_utils.files import sha256_file
from ansible_collections.deploysafe.preflight.plugins.module_utils.s3 import S3Error
from ansible_collections.deploysafe.preflight.plugins.module_utils.s3.backup import BackupOptions, run_backup
from ansible_collections.deploysafe.preflight.plugins.module_utils.s3.restore import (
    RestoreOptions, plan_restore, run_restore)
from ansible_collections.deploysafe.preflight.plugins.module_utils.s3.verdicts import restore_verdict
from s3_helpers import populate, sample_objects
from tests.integration.module_runner import run_module

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
OLD = {"plain.txt": (b"an older hello\n", "text/plain", {"owner": "bob"}),
       "zero-byte": (b"", "application/x-empty", {"empty": "yes"}),
       "added/by-the-bad-restore.bin": (os.urandom(5000), "application/octet-stream", {})}


def state(client, bucket):
    """key -> (sha256 of the content, content type, user metadata), read back here with plain boto3."""
    out = {}
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        for obj in page.get("Contents") or []:
            got = client.get_object(Bucket=bucket, Key=obj["Key"])
            out[obj["Key"]] = (hashlib.sha256(got["Body"].read()).hexdigest(), got["ContentType"], got["Metadata"])
    return out


@pytest.fixture
def scene(client, conn, new_bucket, keys, tmp_path):
    """A live bucket, and an encrypted archive of an older bucket: one key changed, one added, most missing."""
    live, old = new_bucket(), new_bucket()
    populate(client, live, sample_objects())
    populate(client, old, OLD)
    backups = tmp_path / "backups"
    backups.mkdir()
    bad = run_backup(conn, BackupOptions(bucket=old, dest=str(backups), name_prefix="old",
                                         encrypt_recipients=[keys["recipient"]]))
    return {"live": live, "bad": bad, "backups": backups, "before": state(client, live)}


def _force(scene, keys, **kw):
    return RestoreOptions(source=scene["bad"].location, bucket=scene["live"], force=True,
                          identity_file=keys["identity"], **kw)


def test_forced_restore_archives_then_undo_playbook_puts_it_back(scene, keys, client, conn, testenv,
                                                                 ansible_playbook):
    live = scene["live"]
    result = run_restore(conn, _force(scene, keys, pre_restore=PreRestoreOptions(identity_file=keys["identity"])))
    record = result.pre_restore_backup
    assert record["taken"] and record["kind"] == "s3" and record["bucket"] == live and record["objects"] == 6
    assert os.path.dirname(record["path"]) == str(scene["backups"] / "pre-restore")
    assert record["encrypted"] and record["verified"] and record["plaintext_checked"]
    assert record["sha256"] == sha256_file(record["path"]) and record["size"] == os.path.getsize(record["path"])
    assert verify_artifact(record["path"], identity_file=keys["identity"]).ok
    after_bad = state(client, live)
    assert "added/by-the-bad-restore.bin" in after_bad and after_bad["plain.txt"] != scene["before"]["plain.txt"]
    verdict = restore_verdict(result)
    kinds = {a.get("kind"): a for a in verdict["evidence"]["artifacts"]}
    assert kinds["pre-restore-backup"]["path"] == record["path"] and "pre-restore-manifest" in kinds
    assert verdict["status"] == "pass" and verdict["evidence"]["findings"]["pre_restore_backup"] == 1

    env = {**testenv["s3"].exports, "PREFLIGHT_AGE_IDENTITY_FILE": keys["identity"]}
    play = f"- name: Undo\n  ansible.builtin.import_playbook: {os.path.join(REPO, 'playbooks', 'undo_restore.yml')}\n"
    done = ansible_playbook(play, "-i", os.path.join(REPO, "examples", "testenv", "inventory.yml"), "-e", f"undo_s3_backup={record['path']}", extra_env=env)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert state(client, live) == scene["before"]  # keys, sha256, content types, metadata; the added key is gone
    assert "deleted 1 objects the backup does not hold" in done.stdout
    assert f"all 6 objects at s3://{live}/ match the manifest" in done.stdout
    nested = scene["backups"] / "pre-restore" / "pre-restore"
    assert [n for n in os.listdir(nested) if n.endswith(".tar.zst.age")]  # the undo can be undone


def test_check_mode_plans_the_backup_and_the_deletions_and_writes_nothing(scene, keys, client, conn):
    plan = plan_restore(conn, _force(scene, keys, delete_extra=True,
                                     pre_restore=PreRestoreOptions(identity_file=keys["identity"])))
    assert plan["problems"] == []
    record = plan["pre_restore_backup"]
    assert not record["taken"] and record["would_write"].startswith(str(scene["backups"] / "pre-restore") + "/")
    assert "would back up" in record["reason"] and "6 objects" in record["reason"]
    assert plan["extra_count"] == 4 and "added/by-the-bad-restore.bin" not in plan["extra_keys"]
    assert not (scene["backups"] / "pre-restore").exists()
    assert state(client, scene["live"]) == scene["before"]


def test_empty_or_missing_target_needs_no_pre_restore_backup(scene, keys, client, conn, new_bucket):
    empty, missing = new_bucket(), new_bucket(create=False)
    for bucket in (empty, missing):
        result = run_restore(conn, RestoreOptions(source=scene["bad"].location, bucket=bucket, force=True,
                                                  create_bucket=True, identity_file=keys["identity"],
                                                  pre_restore=PreRestoreOptions(identity_file=keys["identity"])))
        assert result.pre_restore_backup == {
            "taken": False, "reason": f"target s3://{bucket}/ is empty or its bucket does not exist: nothing to protect"}
        assert set(state(client, bucket)) == set(OLD)
    assert not (scene["backups"] / "pre-restore").exists()


@pytest.fixture
def immutable_dir(tmp_path):
    """A directory nobody may create files in, not even root (chattr +i): a real permission error."""
    path = tmp_path / "immutable"
    path.mkdir()
    if subprocess.run(["chattr", "+i", str(path)], capture_output=True).returncode != 0:
        pytest.skip("chattr +i is not supported here")
    yield path
    subprocess.run(["chattr", "-i", str(path)], check=False)


def test_failing_pre_restore_backup_refuses_the_restore(scene, keys, client, conn, immutable_dir):
    with pytest.raises(S3Error, match="pre-restore backup of .* failed, so nothing was restored.*Operation not permitted"):
        run_restore(conn, _force(scene, keys, pre_restore=PreRestoreOptions(dest=str(immutable_dir),
                                                                             identity_file=keys["identity"])))
    assert state(client, scene["live"]) == scene["before"]
    assert os.listdir(immutable_dir) == []


def test_module_records_warns_refuses_and_deletes_extras(scene, keys, s3, client, tmp_path):
    conn = {"endpoint_url": s3["endpoint_url"], "access_key": s3["access_key"], "secret_key": s3["secret_key"],
            "source": scene["bad"].location, "bucket": scene["live"], "identity_file": keys["identity"], "force": True}
    (tmp_path / "in-the-way").write_text("a file where the directory should be")
    refused = run_module("s3_restore", {**conn, "pre_restore_dest": str(tmp_path / "in-the-way" / "sub")})
    assert refused["failed"] and "nothing was restored" in refused["msg"] and "Not a directory" in refused["msg"]
    assert state(client, scene["live"]) == scene["before"]

    planned = run_module("s3_restore", {**conn, "delete_extra": True}, check=True)
    assert "would back up" in planned["pre_restore_backup"]["reason"] and planned["plan"]["extra_count"] == 4

    exact = run_module("s3_restore", {**conn, "delete_extra": True})
    assert not exact.get("failed"), exact.get("msg")
    assert exact["pre_restore_backup"]["taken"] and exact["extra_deleted"] == 4
    assert set(state(client, scene["live"])) == set(OLD)
    assert any(a.get("kind") == "pre-restore-backup" for a in exact["verdict"]["evidence"]["artifacts"])

    bare = run_module("s3_restore", {**conn, "pre_restore_backup": False})
    assert bare["pre_restore_backup"]["unprotected"] and "cannot be undone" in " ".join(bare.get("warnings", []))


def test_delete_extra_deletes_nothing_when_the_restore_is_unproven(scene, keys, client, conn):
    """An object that does not hash to the manifest: the restore is unproven, so nothing is deleted."""
    from ansible_collections.deploysafe.preflight.plugins.module_utils.s3 import restore as restore_mod
    result = restore_mod.RestoreResult(target=f"s3://{scene['live']}/", differing=[{"key": "x", "reason": "r"}])
    restore_mod._delete_extra(client, scene["live"], "", result)
    assert result.extra_deleted == 0 and "nothing deleted" in result.delete_extra_skipped
    assert state(client, scene["live"]) == scene["before"]
