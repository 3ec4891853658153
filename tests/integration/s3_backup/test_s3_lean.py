"""The lean per-object path (module_utils/s3/lean.py) on the harness MinIO: it answers like botocore, the
server refuses bytes that do not match the sha256 we send (single PUT and multipart part), errors are worded
like botocore's, and TLS works with the harness CA (and refuses a server it cannot verify)."""

from __future__ import annotations

import hashlib
import os

import pytest

from ansible_collections.deploysafe.preflight.plugins.module_utils.s3 import S3Error
from ansible_collections.deploysafe.preflight.plugins.module_utils.s3.client import (
    describe, error_code, is_boto_error, make_client)
from ansible_collections.deploysafe.preflight.plugins.module_utils.s3.lean import LeanS3Client, checksum_header
from ansible_collections.deploysafe.preflight.plugins.module_utils.s3.multipart import put_object, send_part
from ansible_collections.deploysafe.preflight.plugins.module_utils.s3.objects import hash_object, upload_stream
from deploysafe_testenv import TestEnv
from s3_helpers import conn_for, populate


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def test_lean_get_answers_like_botocore(conn, client, new_bucket):
    bucket = new_bucket(versioned=True)
    objects = populate(client, bucket)
    lean = make_client(conn)
    plain = make_client(conn, lean=False)
    assert isinstance(lean, LeanS3Client) and not isinstance(plain, LeanS3Client)
    for key, (body, ctype, meta) in objects.items():
        ours, theirs = lean.get_object(Bucket=bucket, Key=key), plain.get_object(Bucket=bucket, Key=key)
        assert ours["Body"].read() == theirs["Body"].read() == body, key
        for name in ("ContentLength", "ETag", "ContentType", "Metadata", "LastModified", "VersionId"):
            assert ours.get(name) == theirs.get(name), (key, name)
        assert ours["Metadata"] == meta
    key = "nested/deeper/x.csv"
    ranged = lean.get_object(Bucket=bucket, Key=key, Range="bytes=4-9", IfMatch=ours["ETag"])
    assert ranged["Body"].read() == objects[key][0][4:10]
    assert ranged["ContentRange"].endswith(f"/{len(objects[key][0])}")


def test_lean_put_is_checked_by_the_server(conn, new_bucket):
    bucket = new_bucket()
    lean = make_client(conn)
    data = os.urandom(70_000)
    put_object(lean, bucket, "good", data, "application/x-test", {"k": "v"})
    assert hash_object(lean, bucket, "good") == {"size": len(data), "sha256": _sha(data),
                                                   "content_type": "application/x-test", "metadata": {"k": "v"}}
    pieces = (data[:1000], data[1000:50_000], data[50_000:])  # sent in turn, never joined
    put_object(lean, bucket, "pieces", pieces, None, None, _sha(data))
    put_object(make_client(conn, lean=False), bucket, "pieces-botocore", pieces, None, None)
    assert hash_object(lean, bucket, "pieces")["sha256"] == hash_object(lean, bucket, "pieces-botocore")["sha256"] == _sha(data)
    with pytest.raises(S3Error):
        put_object(lean, bucket, "pieces-bad", pieces[:2] + (b"!" + pieces[2][1:],), None, None, _sha(data))
    # the body changed on its way (here: one byte flipped after hashing): the server refuses it
    corrupted = bytes([data[0] ^ 1]) + data[1:]
    with pytest.raises(S3Error) as err:
        put_object(lean, bucket, "bad", corrupted, None, None, _sha(data))
    assert "uploading s3://" + bucket + "/bad failed" in str(err.value)
    with pytest.raises(Exception) as gone:
        lean.head_object(Bucket=bucket, Key="bad")
    assert error_code(gone.value) in ("404", "NoSuchKey")


def test_multipart_parts_carry_checksums_and_a_bad_part_is_refused(conn, new_bucket):
    bucket = new_bucket()
    lean = make_client(conn)
    data = os.urandom(5 * 1024 * 1024 + 1000)
    sha = upload_stream(lean, bucket, "mp", __import__("io").BytesIO(data), len(data), content_type=None,
                        metadata={}, threshold=1024, part_size=5 * 1024 * 1024)
    assert sha == _sha(data) and hash_object(lean, bucket, "mp")["sha256"] == sha
    upload_id = lean.create_multipart_upload(Bucket=bucket, Key="mp-bad", ChecksumAlgorithm="SHA256")["UploadId"]
    try:
        part = send_part(lean, bucket, "mp-bad", upload_id, 1, data[:1024])
        assert part["ChecksumSHA256"] == checksum_header(_sha(data[:1024]))
        with pytest.raises(Exception) as err:
            lean.upload_part(Bucket=bucket, Key="mp-bad", UploadId=upload_id, PartNumber=2, Body=b"x" * 1024,
                             ChecksumSHA256=checksum_header(_sha(b"y" * 1024)))
        assert is_boto_error(err.value) and error_code(err.value) not in (None, "200")
    finally:
        lean.abort_multipart_upload(Bucket=bucket, Key="mp-bad", UploadId=upload_id)


def test_lean_errors_are_worded_like_botocore(conn, s3, new_bucket):
    bucket = new_bucket()
    lean = make_client(conn)
    with pytest.raises(Exception) as missing:
        lean.get_object(Bucket=bucket, Key="nothing-here")
    assert error_code(missing.value) == "NoSuchKey"
    wrong = "x" + s3["secret_key"][1:]  # assembled at test time, never committed
    bad = make_client(conn_for(s3, secret_key=wrong))
    with pytest.raises(Exception) as denied:
        bad.get_object(Bucket=bucket, Key="k")
    message = describe(denied.value, "reading", f"s3://{bucket}/k")
    assert "SignatureDoesNotMatch (the secret key does not match the access key" in message
    assert wrong not in message and s3["secret_key"] not in message
    with pytest.raises(Exception) as refused:
        bad.put_object(Bucket=bucket, Key="k", Body=b"1", ChecksumSHA256=checksum_header(_sha(b"1")))
    assert error_code(refused.value) == "SignatureDoesNotMatch"
    closed = make_client(conn_for(s3, endpoint_url="http://127.0.0.1:9", max_attempts=2, connect_timeout=1))
    with pytest.raises(Exception) as down:
        closed.get_object(Bucket=bucket, Key="k")
    assert "the endpoint is unreachable" in describe(down.value, "reading", "x")


@pytest.fixture(scope="module")
def s3_tls():
    env = TestEnv()
    try:
        env.start("s3_tls")
        yield env["s3_tls"].data
    finally:
        env.down()


def test_lean_over_tls_with_the_harness_ca(s3_tls):
    lean = make_client(conn_for(s3_tls, ca_bundle=str(s3_tls["ca_file"])))
    assert isinstance(lean, LeanS3Client)
    bucket = "lean-tls"
    lean.create_bucket(Bucket=bucket)
    data = os.urandom(10_000)
    put_object(lean, bucket, "k", data, None, {"m": "1"})
    assert hash_object(lean, bucket, "k")["sha256"] == _sha(data)
    with pytest.raises(S3Error):  # the payload is unsigned, the checksum still guards it on TLS too
        put_object(lean, bucket, "k2", data + b"!", None, None, _sha(data))
    untrusted = make_client(conn_for(s3_tls))  # default CA store: the harness CA is not in it
    with pytest.raises(Exception) as err:
        untrusted.get_object(Bucket=bucket, Key="k")
    assert is_boto_error(err.value)
    assert "SSL" in describe(err.value, "reading", "s3://lean-tls/k") or "certificate" in str(err.value)


def test_a_body_closed_mid_read_leaves_the_pool_usable(conn, new_bucket):
    bucket = new_bucket()
    lean = make_client(conn, pool=1)
    data = os.urandom(3 * 1024 * 1024)
    put_object(lean, bucket, "big", data, None, None)
    for _ in range(3):  # the half-read connection is dropped, not handed to the next request
        body = lean.get_object(Bucket=bucket, Key="big")["Body"]
        assert body.read(1000) == data[:1000]
        body.close()
        assert hash_object(lean, bucket, "big")["sha256"] == _sha(data)
