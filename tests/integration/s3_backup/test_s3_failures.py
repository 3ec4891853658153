"""Bad input and failures from the issue, each against the real MinIO."""

from __future__ import annotations

import hashlib
import io
import json
import os
import signal
import tarfile
import threading
import time
import urllib.request
from pathlib import Path

import pytest

from deploysafe_testenv import TestEnv
from deploysafe_testenv.process import pid_alive, spawn, wait_until
from deploysafe_testenv.services.minio import s3_client
from ansible_collections.deploysafe.preflight.plugins.module_utils.archive import (
    StreamProducer, verify_artifact, write_artifact)
from ansible_collections.deploysafe.preflight.plugins.module_utils.s3 import S3Error
from ansible_collections.deploysafe.preflight.plugins.module_utils.s3.backup import BackupOptions, run_backup
from ansible_collections.deploysafe.preflight.plugins.module_utils.s3.restore import RestoreOptions, run_restore
from ansible_collections.deploysafe.preflight.plugins.module_utils.s3.verdicts import restore_verdict, verify_verdict
from ansible_collections.deploysafe.preflight.plugins.module_utils.s3.verify import VerifyOptions, run_verify

from s3_helpers import conn_for, populate


def test_wrong_credentials_are_reported(s3, new_bucket, tmp_path):
    bucket = new_bucket()
    bad = conn_for(s3, secret_key="not-the-secret-" + "x" * 20)
    with pytest.raises(S3Error, match="wrong credentials") as err:
        run_backup(bad, BackupOptions(bucket=bucket, dest=str(tmp_path)))
    assert "not-the-secret" not in str(err.value)
    unknown = conn_for(s3, access_key="nobody")
    with pytest.raises(S3Error, match="InvalidAccessKeyId"):
        run_backup(unknown, BackupOptions(bucket=bucket, dest=str(tmp_path)))
    assert os.listdir(tmp_path) == []


def test_missing_bucket_is_reported(conn, tmp_path):
    with pytest.raises(S3Error, match="bucket 'no-such-bucket-here' does not exist"):
        run_backup(conn, BackupOptions(bucket="no-such-bucket-here", dest=str(tmp_path)))
    with pytest.raises(S3Error, match="does not exist"):
        run_verify(conn, VerifyOptions(manifest=str(tmp_path / "x.tar.zst"), bucket="no-such-bucket-here"))


def test_object_changed_between_listing_and_reading(conn, client, new_bucket, tmp_path):
    bucket = new_bucket(versioned=True)
    populate(client, bucket)
    client.put_object(Bucket=bucket, Key="moving", Body=b"old content")
    client.put_object(Bucket=bucket, Key="vanishing", Body=b"about to go")
    changed = []

    def hook(ref):  # runs after listing, before the GET
        if ref.key == "moving" and not changed:
            changed.append(ref.key)
            client.put_object(Bucket=bucket, Key="moving", Body=b"new content, longer")
        if ref.key == "vanishing":
            client.delete_object(Bucket=bucket, Key="vanishing")

    result = run_backup(conn, BackupOptions(bucket=bucket, dest=str(tmp_path), before_read=hook))
    assert result.changed_keys == ["moving"] and result.vanished_keys == ["vanishing"]
    lines = {json.loads(ln)["key"]: json.loads(ln) for ln in open(result.manifest, "rb")}
    assert lines["moving"]["sha256"] == hashlib.sha256(b"new content, longer").hexdigest()
    assert lines["moving"]["size"] == len(b"new content, longer") and "vanishing" not in lines
    assert json.load(open(result.archive_manifest))["source"]["changed_during_backup"] == ["moving"]

    # With all versions each read is pinned to its VersionId: the listed version is what is stored.
    changed.clear()
    versions_dir = tmp_path / "versions"
    versions_dir.mkdir()
    result = run_backup(conn, BackupOptions(bucket=bucket, dest=str(versions_dir), all_versions=True, before_read=hook))
    assert result.changed_keys == []
    moving = [json.loads(ln) for ln in open(result.manifest, "rb") if json.loads(ln)["key"] == "moving"]
    assert [m["sha256"] for m in moving][:2] == [hashlib.sha256(b"old content").hexdigest(),
                                                 hashlib.sha256(b"new content, longer").hexdigest()]


def test_corrupted_archive_byte_restores_nothing(conn, client, new_bucket, tmp_path):
    src = new_bucket()
    populate(client, src)
    result = run_backup(conn, BackupOptions(bucket=src, dest=str(tmp_path)))
    size = os.path.getsize(result.location)
    with open(result.location, "r+b") as handle:
        handle.seek(size // 2)
        byte = handle.read(1)
        handle.seek(size // 2)
        handle.write(bytes([byte[0] ^ 0x40]))
    report = verify_artifact(result.location)
    assert not report.ok and any(c.name == "stored_sha256" and c.ok is False for c in report.checks)
    target = new_bucket()
    with pytest.raises(S3Error, match="failed verification, nothing was restored"):
        run_restore(conn, RestoreOptions(source=result.location, bucket=target))
    assert client.list_objects_v2(Bucket=target).get("KeyCount") == 0
    with pytest.raises(S3Error, match="restore into .* stopped|reading archive"):
        run_restore(conn, RestoreOptions(source=result.location, bucket=target, verify_first=False))


def test_edited_object_manifest_is_refused(conn, client, new_bucket, tmp_path):
    src = new_bucket()
    populate(client, src)
    result = run_backup(conn, BackupOptions(bucket=src, dest=str(tmp_path)))
    text = Path(result.manifest).read_text().replace('"size": 6', '"size": 7')
    Path(result.manifest).write_text(text)
    with pytest.raises(S3Error, match="changed after the backup"):
        run_verify(conn, VerifyOptions(manifest=result.location, bucket=src))


def test_restore_into_non_empty_target_needs_force(conn, client, new_bucket, tmp_path):
    src, target = new_bucket(), new_bucket()
    objects = populate(client, src)
    client.put_object(Bucket=target, Key="someone-elses-file", Body=b"keep me")
    result = run_backup(conn, BackupOptions(bucket=src, dest=str(tmp_path)))
    with pytest.raises(S3Error, match="is not empty .*someone-elses-file.*force=true"):
        run_restore(conn, RestoreOptions(source=result.location, bucket=target))
    assert [o["Key"] for o in client.list_objects_v2(Bucket=target)["Contents"]] == ["someone-elses-file"]
    # another (empty) prefix of the same bucket is fine; force restores over it
    assert run_restore(conn, RestoreOptions(source=result.location, bucket=target, prefix="r/")).objects == len(objects)
    assert run_restore(conn, RestoreOptions(source=result.location, bucket=target, force=True)).objects == len(objects)
    verified = run_verify(conn, VerifyOptions(manifest=result.location, bucket=target, check_extra=True))
    assert verified.extra[0] == "r/" + sorted(objects)[0] or "someone-elses-file" in verified.extra
    assert verify_verdict(verified)["status"] == "fail"


def _foreign_archive(dest: Path, keys) -> str:
    """An archive as an attacker or another tool could write it: keys with `..` segments."""
    tar_bytes, lines = io.BytesIO(), []
    with tarfile.open(fileobj=tar_bytes, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for seq, key in enumerate(keys, 1):
            body = f"content of {key}".encode()
            info = tarfile.TarInfo(f"objects/{seq:08d}")
            info.size, info.pax_headers = len(body), {"DEPLOYSAFE.key": key}
            tar.addfile(info, io.BytesIO(body))
            lines.append(json.dumps({"key": key, "version_id": None, "is_latest": True, "delete_marker": False,
                                     "size": len(body), "sha256": hashlib.sha256(body).hexdigest(), "etag": "x",
                                     "last_modified": "2026-01-01T00:00:00+00:00", "content_type": "text/plain",
                                     "metadata": {}, "stored_as": info.name}) + "\n")
        jsonl = "".join(lines).encode()
        info = tarfile.TarInfo("MANIFEST.objects.jsonl")
        info.size = len(jsonl)
        tar.addfile(info, io.BytesIO(jsonl))
    name = "foreign.tar.zst"
    (dest / (name + ".objects.jsonl")).write_bytes(jsonl)
    tar_bytes.seek(0)
    write_artifact(StreamProducer(tar_bytes), str(dest), name, content_type="application/x-tar",
                   source_identity={"kind": "s3", "bucket": "elsewhere", "prefix": ""},
                   source={"bucket": "elsewhere", "prefix": "", "objects_manifest": {
                       "name": name + ".objects.jsonl", "sha256": hashlib.sha256(jsonl).hexdigest(),
                       "bytes": len(jsonl)}})
    return str(dest / name)


def test_dot_dot_keys_cannot_escape_the_target_prefix(conn, client, new_bucket, tmp_path):
    archive = _foreign_archive(tmp_path, ["ok.txt", "../escape.txt", "a/../../b.txt", "./here"])
    target = new_bucket()
    result = run_restore(conn, RestoreOptions(source=archive, bucket=target, prefix="restored/"))
    assert sorted(r["key"] for r in result.rejected_keys) == ["../escape.txt", "./here", "a/../../b.txt"]
    assert restore_verdict(result)["status"] == "fail"
    assert [o["Key"] for o in client.list_objects_v2(Bucket=target)["Contents"]] == ["restored/ok.txt"]
    # extracting the archive itself stays inside the directory (members are objects/<seq>)
    extract = tmp_path / "x"
    import zstandard
    with open(archive, "rb") as handle, tarfile.open(
            fileobj=zstandard.ZstdDecompressor().stream_reader(handle), mode="r|") as tar:
        for member in tar:
            tar.extract(member, extract)
    assert sorted(p.name for p in extract.rglob("*") if p.is_file()) == [
        "00000001", "00000002", "00000003", "00000004", "MANIFEST.objects.jsonl"]


def _respawn(pid: int):
    """Argv and environment of a running MinIO, to start the same server again on the same drives."""
    argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")[:-1]
    env = dict(item.split(b"=", 1) for item in Path(f"/proc/{pid}/environ").read_bytes().split(b"\0") if b"=" in item)
    return [a.decode() for a in argv], {k.decode(): v.decode() for k, v in env.items()}


@pytest.mark.parametrize("mode", ["archive", "mirror"])
def test_endpoint_down_mid_backup_leaves_nothing_complete(tmp_path, mode):
    """Kill our own MinIO (not the shared one) during a run; then start it again and rerun."""
    env = TestEnv(tmp_path / "env")
    restarted = None
    try:
        env.start("s3")
        data, pid = env["s3"].data, env["s3"].pids[0]
        client = s3_client(data)
        bucket, backup_bucket = data["bucket"], "backups"
        client.create_bucket(Bucket=backup_bucket)
        for i in range(60):
            client.put_object(Bucket=bucket, Key=f"obj/{i:03d}", Body=os.urandom(200_000))
        argv, penv = _respawn(pid)
        reads, lock = [], threading.Lock()

        def kill_midway(ref):  # called from several reader threads
            with lock:
                reads.append(ref.key)
                if len(reads) == 25:
                    os.kill(pid, signal.SIGKILL)
                    wait_until("MinIO to die", lambda: not pid_alive(pid), timeout=10)

        dest = tmp_path / "dest"
        dest.mkdir()
        conn = conn_for(data)
        opts = dict(bucket=bucket, mode=mode, dest=str(dest), dest_bucket=backup_bucket, concurrency=2,
                    name="attempt-1" + (".tar.zst" if mode == "archive" else ""))
        with pytest.raises(S3Error) as err:
            run_backup(conn, BackupOptions(**opts, before_read=kill_midway))
        print(f"\n{mode}: {err.value}")
        assert "unreachable" in str(err.value) or "failed" in str(err.value)
        assert os.listdir(dest) == []  # no artifact, manifest, object manifest or .partial

        restarted = spawn(argv, tmp_path / "minio-again.log", env=penv)

        def ready():
            with urllib.request.urlopen(data["endpoint_url"] + "/minio/health/ready", timeout=2) as resp:
                return resp.status == 200

        wait_until("MinIO again", ready, timeout=60, proc=restarted, log_path=tmp_path / "minio-again.log")
        if mode == "mirror":
            keys = [o["Key"] for o in client.list_objects_v2(Bucket=backup_bucket).get("Contents") or []]
            assert not any(k.endswith("backup.json") for k in keys)
        opts["name"] = opts["name"].replace("attempt-1", "attempt-2")
        result = run_backup(conn, BackupOptions(**opts))
        assert result.objects == 60
        check = run_verify(conn, VerifyOptions(manifest=result.location, bucket=bucket))
        assert check.ok
    finally:
        if restarted is not None:
            restarted.kill()
            restarted.wait()
        env.down()
        time.sleep(0)
