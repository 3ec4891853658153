"""Backup -> verify -> restore -> s3_verify against the real MinIO, in both modes."""

from __future__ import annotations

import hashlib
import json
import os
import tarfile

import zstandard

from ansible_collections.deploysafe.preflight.plugins.module_utils.archive import verify_artifact
from ansible_collections.deploysafe.preflight.plugins.module_utils.s3.backup import BackupOptions, run_backup
from ansible_collections.deploysafe.preflight.plugins.module_utils.s3.objects import upload_stream
from ansible_collections.deploysafe.preflight.plugins.module_utils.s3.restore import RestoreOptions, run_restore
from ansible_collections.deploysafe.preflight.plugins.module_utils.s3.verify import VerifyOptions, run_verify

from s3_helpers import LONG_KEY, populate


def _lines(path):
    return [json.loads(line) for line in open(path, "rb")]


def test_archive_roundtrip_preserves_keys_types_metadata(conn, client, new_bucket, tmp_path):
    src = new_bucket()
    objects = populate(client, src, prefix="data/")
    client.put_object(Bucket=src, Key="outside-prefix", Body=b"not backed up")
    result = run_backup(conn, BackupOptions(bucket=src, prefix="data/", dest=str(tmp_path), concurrency=3))
    assert result.objects == len(objects) and result.bytes == sum(len(b) for b, _, _ in objects.values())
    lines = _lines(result.manifest)
    assert [ln["key"] for ln in lines] == sorted("data/" + k for k in objects)
    for line in lines:
        body, ctype, meta = objects[line["key"][5:]]
        assert line["sha256"] == hashlib.sha256(body).hexdigest() and line["size"] == len(body)
        assert line["content_type"] == ctype and line["metadata"] == meta and line["etag"]
    assert verify_artifact(result.location).ok  # the generic archive check works on S3 archives

    target = new_bucket()
    restored = run_restore(conn, RestoreOptions(source=result.location, bucket=target, prefix="copy/"))
    assert (restored.objects, restored.rejected_keys, restored.differing) == (len(objects), [], [])
    head = client.head_object(Bucket=target, Key="copy/" + LONG_KEY)
    assert head["ContentType"] == "image/png"
    assert client.head_object(Bucket=target, Key="copy/zero-byte")["ContentLength"] == 0
    check = run_verify(conn, VerifyOptions(manifest=result.location, bucket=target, prefix="copy/"))
    assert check.ok and check.matched == len(objects)
    # the source itself has not drifted
    assert run_verify(conn, VerifyOptions(manifest=result.manifest, bucket=src)).ok


def test_archive_extracts_only_inside_the_directory(conn, client, new_bucket, tmp_path):
    src = new_bucket()
    populate(client, src)
    result = run_backup(conn, BackupOptions(bucket=src, dest=str(tmp_path)))
    out = tmp_path / "extract"
    out.mkdir()
    with open(result.location, "rb") as handle:
        with tarfile.open(fileobj=zstandard.ZstdDecompressor().stream_reader(handle), mode="r|") as tar:
            names = []
            for member in tar:
                names.append(member.name)
                tar.extract(member, out)
    assert all(n.startswith("objects/") or n == "MANIFEST.objects.jsonl" for n in names)
    for root, _, files in os.walk(out):
        for f in files:
            assert os.path.realpath(os.path.join(root, f)).startswith(str(out) + os.sep)


def test_encrypted_archive_roundtrip(conn, client, new_bucket, tmp_path, keys):
    src = new_bucket()
    objects = populate(client, src)
    result = run_backup(conn, BackupOptions(bucket=src, dest=str(tmp_path), encrypt_recipients=[keys["recipient"]]))
    assert result.location.endswith(".tar.zst.age")
    assert verify_artifact(result.location, identity_file=keys["identity"]).ok
    target = new_bucket()
    restored = run_restore(conn, RestoreOptions(source=result.location, bucket=target, identity_file=keys["identity"]))
    assert restored.objects == len(objects)
    assert run_verify(conn, VerifyOptions(manifest=result.location, bucket=target)).ok


def test_mirror_all_versions_and_replay(conn, client, new_bucket):
    src, backup, target = new_bucket(versioned=True), new_bucket(), new_bucket(versioned=True)
    client.put_object(Bucket=src, Key="doc", Body=b"v1")
    client.put_object(Bucket=src, Key="doc", Body=b"v2", Metadata={"rev": "2"})
    client.put_object(Bucket=src, Key="gone", Body=b"soon deleted")
    client.delete_object(Bucket=src, Key="gone")
    populate(client, src)
    result = run_backup(conn, BackupOptions(bucket=src, mode="mirror", dest_bucket=backup, all_versions=True))
    assert result.delete_markers == 1 and result.objects == 3 + 6
    keys = [o["Key"] for o in client.list_objects_v2(Bucket=backup)["Contents"]]
    assert any(k.endswith("/backup.json") for k in keys) and any(k.endswith("/manifest.jsonl") for k in keys)

    restored = run_restore(conn, RestoreOptions(source=result.location, bucket=target, versions="all"))
    assert restored.delete_markers == 1 and restored.objects == 9
    history = client.list_object_versions(Bucket=target, Prefix="doc")["Versions"]
    bodies = sorted(client.get_object(Bucket=target, Key="doc", VersionId=v["VersionId"])["Body"].read()
                    for v in history)
    assert bodies == [b"v1", b"v2"]
    assert client.get_object(Bucket=target, Key="doc")["Body"].read() == b"v2"
    check = run_verify(conn, VerifyOptions(manifest=result.location, bucket=target))
    assert check.ok, check  # "gone" is deleted in the source and in the target


def test_large_object_multipart(conn, client, new_bucket, tmp_path):
    """An object above the 64 MiB multipart threshold, generated on the fly (never all in memory)."""
    size = 64 * 1024 * 1024 + 12345
    src = new_bucket()

    class Generated:
        def __init__(self):
            self.left, self.counter = size, 0

        def read(self, n):
            n = min(n, self.left)
            self.left -= n
            out = bytearray()
            while len(out) < n:  # cheap, deterministic, incompressible enough
                self.counter += 1
                out += hashlib.sha256(self.counter.to_bytes(8, "big")).digest() * 128
            return bytes(out[:n])

    sha = upload_stream(client, src, "big.bin", Generated(), size, content_type="application/x-big", metadata={"k": "v"})
    result = run_backup(conn, BackupOptions(bucket=src, dest=str(tmp_path), compression_level=1))
    assert _lines(result.manifest)[0]["sha256"] == sha
    target = new_bucket()
    restored = run_restore(conn, RestoreOptions(source=result.location, bucket=target))
    assert restored.differing == [] and restored.bytes == size
    head = client.head_object(Bucket=target, Key="big.bin")
    assert "-" in head["ETag"] and head["ContentType"] == "application/x-big"  # multipart ETag "<md5>-<parts>"
    assert run_verify(conn, VerifyOptions(manifest=result.location, bucket=target)).ok


def test_many_small_objects_stream_through_the_pipes(conn, client, new_bucket, tmp_path):
    """More objects than fit in a pipe buffer (the object manifest alone is > 64 KiB), read ahead
    concurrently, restored concurrently, in listing order."""
    from concurrent.futures import ThreadPoolExecutor
    src = new_bucket()
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda i: client.put_object(Bucket=src, Key=f"many/{i:04d}", Body=os.urandom(i % 700)),
                      range(600)))
    result = run_backup(conn, BackupOptions(bucket=src, dest=str(tmp_path), concurrency=8))
    assert result.objects == 600 and os.path.getsize(result.manifest) > 65536
    assert [ln["key"] for ln in _lines(result.manifest)] == [f"many/{i:04d}" for i in range(600)]
    target = new_bucket()
    restored = run_restore(conn, RestoreOptions(source=result.location, bucket=target, concurrency=8))
    assert restored.objects == 600 and restored.differing == []
    assert run_verify(conn, VerifyOptions(manifest=result.location, bucket=target, concurrency=8)).ok
