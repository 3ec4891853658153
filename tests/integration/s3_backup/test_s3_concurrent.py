"""The concurrent transfer paths against the real MinIO: ranged reads of large objects fed in order into
the one tar stream, concurrent multipart uploads, and what happens when something fails in the middle."""

from __future__ import annotations

import hashlib
import json
import os
import tarfile

import pytest

from ansible_collections.deploysafe.preflight.plugins.module_utils.s3 import S3Error
from ansible_collections.deploysafe.preflight.plugins.module_utils.s3.backup import BackupOptions, run_backup
from ansible_collections.deploysafe.preflight.plugins.module_utils.s3.client import make_client
from ansible_collections.deploysafe.preflight.plugins.module_utils.s3.objects import list_objects
from ansible_collections.deploysafe.preflight.plugins.module_utils.s3.prefetch import fetch_in_order
from ansible_collections.deploysafe.preflight.plugins.module_utils.s3.restore import RestoreOptions, run_restore
from ansible_collections.deploysafe.preflight.plugins.module_utils.s3.verify import VerifyOptions, run_verify

MiB = 1024 * 1024
KEY_LIMIT = 1024  # S3's longest key, in UTF-8 bytes


def _lines(path):
    with open(path, "rb") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def _mixed(client, bucket):
    """Small and large objects interleaved in key order; returns key -> sha256."""
    bodies = {}
    for i in range(12):
        size = [300, 2 * MiB + 17, 0, 70_000, 3 * MiB][i % 5]
        bodies[f"mix/{i:02d}"] = os.urandom(size)
    for key, body in bodies.items():
        client.put_object(Bucket=bucket, Key=key, Body=body)
    return {key: hashlib.sha256(body).hexdigest() for key, body in bodies.items()}


def test_archive_of_ranged_reads_keeps_listing_order_and_hashes(conn, client, new_bucket, tmp_path):
    """Objects above small_object_limit are read in many ranges at once, yet the tar holds every object
    whole, in listing order, with the sha256 of its real content; the restore reproduces them."""
    src = new_bucket()
    expected = _mixed(client, src)
    result = run_backup(conn, BackupOptions(bucket=src, dest=str(tmp_path), concurrency=4, compression_level=1,
                                            small_object_limit=100_000, part_size=256 * 1024))
    lines = _lines(result.manifest)
    assert [ln["key"] for ln in lines] == sorted(expected)
    assert {ln["key"]: ln["sha256"] for ln in lines} == expected
    target = new_bucket()
    restored = run_restore(conn, RestoreOptions(source=result.location, bucket=target, concurrency=4))
    assert restored.objects == len(expected) and restored.differing == []
    for key, sha in expected.items():
        body = client.get_object(Bucket=target, Key=key)["Body"].read()
        assert hashlib.sha256(body).hexdigest() == sha, key


def test_mirror_and_restore_multipart_round_trip(conn, client, new_bucket, tmp_path):
    """A 12 MiB object goes to the mirror as a 3-part multipart upload (parts sent concurrently), comes back
    through s3_restore as multipart again, and its content hash holds at every step."""
    src, mirror_bucket = new_bucket(), new_bucket()
    big = os.urandom(12 * MiB + 5)
    client.put_object(Bucket=src, Key="big.bin", Body=big, ContentType="application/x-big", Metadata={"k": "v"})
    client.put_object(Bucket=src, Key="small.txt", Body=b"small")
    sizes = dict(multipart_threshold=5 * MiB, part_size=5 * MiB)
    result = run_backup(conn, BackupOptions(bucket=src, mode="mirror", dest_bucket=mirror_bucket, name="mp",
                                            small_object_limit=1 * MiB, **sizes))
    mirrored = client.head_object(Bucket=mirror_bucket, Key="s3-backup/mp/objects/big.bin")
    assert mirrored["ETag"].strip('"').endswith("-3") and mirrored["ContentType"] == "application/x-big"
    body = client.get_object(Bucket=mirror_bucket, Key="s3-backup/mp/objects/big.bin")["Body"].read()
    assert body == big
    target = new_bucket()
    restored = run_restore(conn, RestoreOptions(source=result.location, bucket=target, **sizes))
    assert restored.differing == [] and restored.objects == 2
    head = client.head_object(Bucket=target, Key="big.bin")
    assert head["ETag"].strip('"').endswith("-3") and head["Metadata"] == {"k": "v"}
    check = run_verify(conn, VerifyOptions(manifest=result.location, bucket=target))
    assert check.ok and check.bytes == len(big) + 5


def test_tampered_multipart_mirror_object_is_caught_on_restore(conn, client, new_bucket):
    """Planted defect: one byte of a mirrored multipart object changed after the backup. The restore's
    per-object sha256 names it; s3_verify of the restored prefix fails on it."""
    src, mirror_bucket = new_bucket(), new_bucket()
    big = os.urandom(11 * MiB)
    client.put_object(Bucket=src, Key="big.bin", Body=big)
    result = run_backup(conn, BackupOptions(bucket=src, mode="mirror", dest_bucket=mirror_bucket, name="t",
                                            multipart_threshold=5 * MiB, part_size=5 * MiB))
    tampered = bytearray(big)
    tampered[7 * MiB] ^= 0xFF
    client.put_object(Bucket=mirror_bucket, Key="s3-backup/t/objects/big.bin", Body=bytes(tampered))
    target = new_bucket()
    restored = run_restore(conn, RestoreOptions(source=result.location, bucket=target, multipart_threshold=5 * MiB,
                                                part_size=5 * MiB))
    assert [d["key"] for d in restored.differing] == ["big.bin"]
    assert "sha256" in restored.differing[0]["reason"]
    check = run_verify(conn, VerifyOptions(manifest=result.location, bucket=target))
    assert not check.ok and check.counts["differing"] == 1


def test_object_changed_between_its_ranges_is_an_error_naming_it(conn, client, new_bucket):
    """A large object overwritten after its first range was consumed: the later ranges are pinned to the
    listed ETag, so they fail instead of mixing two versions, and the error names the object."""
    src = new_bucket()
    client.put_object(Bucket=src, Key="a-small", Body=b"x" * 100)
    client.put_object(Bucket=src, Key="b-large", Body=os.urandom(2 * MiB))
    s3 = make_client(conn, pool=8)
    fetched = fetch_in_order(s3, src, list_objects(s3, src), concurrency=2, small_limit=1000,
                             part_size=128 * 1024, memory_budget=256 * 1024)
    assert next(fetched).data == b"x" * 100
    large = next(fetched)
    assert len(large.body.read(128 * 1024)) == 128 * 1024  # the first range; at most two more are in flight
    client.put_object(Bucket=src, Key="b-large", Body=os.urandom(2 * MiB))
    with pytest.raises(S3Error, match="'b-large'.*changed while it was read in parts"):
        while large.body.read(1 << 20):
            pass
    fetched.close()


def test_upload_failure_mid_mirror_names_the_object_and_leaves_no_backup_json(conn, client, new_bucket):
    """Planted failure in the middle of many concurrent uploads: one key fits the source but is too long
    once the mirror prefix is added, so MinIO refuses that PUT. The error names it; the mirror has no
    backup.json, and what was written is removed."""
    src, mirror_bucket = new_bucket(), new_bucket()
    long_key = "k/" + "/".join(["s" * 200] * 4) + "/" + "e" * (KEY_LIMIT - 2 - 4 * 201 - 10)
    assert len(long_key.encode()) <= KEY_LIMIT
    for i in range(40):
        client.put_object(Bucket=src, Key=f"k/{i:03d}", Body=os.urandom(5000))
    client.put_object(Bucket=src, Key=long_key, Body=b"too long once mirrored")
    with pytest.raises(S3Error) as err:
        run_backup(conn, BackupOptions(bucket=src, mode="mirror", dest_bucket=mirror_bucket, name="fail",
                                       concurrency=4))
    message = str(err.value)
    assert "e" * 20 in message and "backup.json" in message, message
    keys = [o["Key"] for o in client.list_objects_v2(Bucket=mirror_bucket).get("Contents") or []]
    assert not any(k.endswith("backup.json") or k.endswith("manifest.jsonl") for k in keys), keys


def test_archive_tar_is_a_plain_ustar_pax_stream(conn, client, new_bucket, tmp_path):
    """The tar is now written with TarFile mode "w" on a counting writer: any tar reader still reads it,
    members in order with the objects' bytes."""
    import zstandard
    src = new_bucket()
    expected = _mixed(client, src)
    result = run_backup(conn, BackupOptions(bucket=src, dest=str(tmp_path), compression_level=1,
                                            small_object_limit=100_000, part_size=512 * 1024))
    plain = tmp_path / "plain.tar"
    with open(result.location, "rb") as packed, open(plain, "wb") as out:
        zstandard.ZstdDecompressor().copy_stream(packed, out)
    with tarfile.open(plain) as tar:
        members = tar.getmembers()
        got = {m.pax_headers["DEPLOYSAFE.key"]: hashlib.sha256(tar.extractfile(m).read()).hexdigest()
               for m in members if m.name.startswith("objects/")}
    assert [m.name for m in members][-1] == "MANIFEST.objects.jsonl"
    assert got == expected
