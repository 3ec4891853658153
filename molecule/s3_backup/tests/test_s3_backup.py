"""The role left a verified archive, a pass verdict, and no scratch bucket."""

import json
import os

import boto3
from botocore.config import Config

BACKUPS = "/tmp/deploysafe-molecule-s3/backups"
VERDICT = "/tmp/deploysafe-molecule-s3/run/s3_backup.json"


def test_archive_and_manifests_exist(host):
    names = host.run(f"ls {BACKUPS}").stdout.split()
    archives = [n for n in names if n.endswith(".tar.zst")]
    assert archives
    for archive in archives:
        assert archive + ".manifest.json" in names and archive + ".objects.jsonl" in names
        assert host.file(f"{BACKUPS}/{archive}").mode == 0o600
    assert not [n for n in names if n.endswith(".partial")]
    assert host.file(BACKUPS).mode == 0o700


def test_object_manifest_has_one_line_per_object(host):
    archive = sorted(n for n in host.run(f"ls {BACKUPS}").stdout.split() if n.endswith(".tar.zst"))[-1]
    lines = [json.loads(x) for x in host.file(f"{BACKUPS}/{archive}.objects.jsonl").content_string.splitlines()]
    assert {x["key"] for x in lines} == {"molecule/readme.txt", "molecule/ünï cødé.bin", "molecule/empty"}
    assert all(len(x["sha256"]) == 64 and x["metadata"] == {"by": "molecule"} for x in lines)


def test_verdict_recorded_as_pass(host):
    record = json.loads(host.file(VERDICT).content_string)
    verdict = record["verdict"]
    assert verdict["status"] == "pass", verdict["summary"]
    assert verdict["evidence"]["findings"]["restore_verify.missing"] == 0
    assert any(m["name"] == "restore_verify.matched" and m["value"] == 3 for m in verdict["evidence"]["measurements"])


def test_scratch_bucket_removed():
    client = boto3.client("s3", endpoint_url=os.environ["S3_ENDPOINT_URL"],
                          config=Config(s3={"addressing_style": "path"}))
    assert "molecule-restore-check" not in [b["Name"] for b in client.list_buckets()["Buckets"]]
