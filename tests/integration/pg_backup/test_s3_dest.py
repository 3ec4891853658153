"""pg_backup with dest s3://bucket/prefix/: staged and verified locally, artifact uploaded, manifest last."""

from __future__ import annotations

import hashlib
import json
import secrets

import pytest

from ansible_collections.deploysafe.preflight.plugins.module_utils.pg import PgError
from ansible_collections.deploysafe.preflight.plugins.module_utils.pg.backup import BackupOptions, run_backup
from ansible_collections.deploysafe.preflight.plugins.module_utils.pg.s3dest import (
    backup_to_s3, parse_s3_url, verify_s3_artifact)
from ansible_collections.deploysafe.preflight.plugins.module_utils.s3.client import S3Conn, make_client


@pytest.fixture
def s3conn(s3):
    return S3Conn(endpoint_url=s3["endpoint_url"], access_key=s3["access_key"], secret_key=s3["secret_key"],
                  region=s3.get("region", "us-east-1"))


def _keys(client, bucket, prefix):
    return sorted(o["Key"] for o in client.list_objects_v2(Bucket=bucket, Prefix=prefix).get("Contents", []))


def test_parse_s3_url():
    assert parse_s3_url("s3://b/some/prefix") == ("b", "some/prefix/")
    assert parse_s3_url("s3://b") == ("b", "")
    with pytest.raises(PgError, match="not an S3 location"):
        parse_s3_url("s3:///x")


@pytest.mark.parametrize("fmt", ["custom", "directory"])
def test_backup_to_s3_prefix(app_db, s3, s3conn, tmp_path, fmt):
    prefix = f"pg-{secrets.token_hex(4)}/"
    opts = BackupOptions(dest=f"s3://{s3['bucket']}/{prefix}", format=fmt)
    result, location, verdict = backup_to_s3(app_db, opts, s3conn, run_backup, staging_dir=str(tmp_path))
    client = make_client(s3conn)
    name = location["artifact_key"].rsplit("/", 1)[1]
    assert _keys(client, s3["bucket"], prefix) == [prefix + name, prefix + name + ".manifest.json"]
    body = client.get_object(Bucket=s3["bucket"], Key=location["artifact_key"])["Body"].read()
    manifest = json.loads(client.get_object(Bucket=s3["bucket"], Key=location["manifest_key"])["Body"].read())
    assert hashlib.sha256(body).hexdigest() == manifest["artifact"]["sha256"] == result.sha256
    assert manifest["source"]["format"] == fmt
    assert result.path == f"s3://{s3['bucket']}/{prefix}{name}"
    assert verdict["status"] == "pass" and verdict["evidence"]["artifacts"][0]["path"] == result.path
    assert list(tmp_path.iterdir()) == []  # staging removed


def test_missing_bucket_is_reported(app_db, s3conn, tmp_path):
    with pytest.raises(PgError, match="no-such-bucket"):
        backup_to_s3(app_db, BackupOptions(dest="s3://no-such-bucket/x/"), s3conn, run_backup,
                     staging_dir=str(tmp_path))
    assert list(tmp_path.iterdir()) == []


def test_failed_backup_uploads_nothing(new_db, s3, s3conn, tmp_path):
    db = new_db("CREATE TABLE t (id int)")
    prefix = f"pg-{secrets.token_hex(4)}/"
    bad = BackupOptions(dest=f"s3://{s3['bucket']}/{prefix}", bindir=str(tmp_path / "nowhere"))
    with pytest.raises(PgError):
        backup_to_s3(db, bad, s3conn, run_backup, staging_dir=str(tmp_path))
    assert _keys(make_client(s3conn), s3["bucket"], prefix) == []
    assert list(tmp_path.iterdir()) == []


def test_backup_verify_of_an_s3_artifact(app_db, s3, s3conn, keys, tmp_path):
    prefix = f"pg-{secrets.token_hex(4)}/"
    opts = BackupOptions(dest=f"s3://{s3['bucket']}/{prefix}", encrypt_recipients=[keys["recipient"]])
    result, location, _verdict = backup_to_s3(app_db, opts, s3conn, run_backup, staging_dir=str(tmp_path))
    report, verdict = verify_s3_artifact(s3conn, result.path, identity_file=keys["identity"], work_dir=str(tmp_path))
    assert report.ok and verdict["status"] == "pass"
    assert verdict["evidence"]["artifacts"][0]["path"] == result.path
    # One flipped byte in the stored object: fails and says where, with the S3 URL.
    client = make_client(s3conn)
    body = bytearray(client.get_object(Bucket=s3["bucket"], Key=location["artifact_key"])["Body"].read())
    body[100] ^= 1
    client.put_object(Bucket=s3["bucket"], Key=location["artifact_key"], Body=bytes(body))
    report, verdict = verify_s3_artifact(s3conn, result.path, identity_file=keys["identity"], work_dir=str(tmp_path))
    assert verdict["status"] == "fail" and "differs at bytes 0-" in " ".join(report.problems())
    assert result.path in " ".join(report.problems()) and list(tmp_path.iterdir()) == []
    # Manifest missing: a prefix without it is incomplete.
    client.delete_object(Bucket=s3["bucket"], Key=location["manifest_key"])
    report, verdict = verify_s3_artifact(s3conn, result.path, identity_file=keys["identity"], work_dir=str(tmp_path))
    assert verdict["status"] == "fail" and location["manifest_url"] in " ".join(report.problems())
