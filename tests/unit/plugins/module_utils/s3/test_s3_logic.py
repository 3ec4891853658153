"""Pure logic of the S3 package: key mapping, manifest lines, mirror header sealing, verdicts."""

from __future__ import annotations

import json

import pytest

from ansible_collections.deploysafe.preflight.plugins.module_utils.s3 import S3Error
from ansible_collections.deploysafe.preflight.plugins.module_utils.s3.client import describe, s3_argument_spec
from ansible_collections.deploysafe.preflight.plugins.module_utils.s3.mirror import seal, split_url
from ansible_collections.deploysafe.preflight.plugins.module_utils.s3.objects import ObjectRecord, parse_line, target_key
from ansible_collections.deploysafe.preflight.plugins.module_utils.s3.restore import RestoreResult
from ansible_collections.deploysafe.preflight.plugins.module_utils.s3.verdicts import restore_verdict, verify_verdict
from ansible_collections.deploysafe.preflight.plugins.module_utils.s3.verify import VerifyResult
from ansible_collections.deploysafe.preflight.plugins.module_utils.verdict import validate


@pytest.mark.parametrize("key,source,target,expected", [
    ("data/a.txt", "data/", "copy/", "copy/a.txt"),
    ("data/a.txt", "data/", "", "a.txt"),
    ("ünï/ sp ace", "", "r/", "r/ünï/ sp ace"),
    ("x/..hidden/...", "", "r/", "r/x/..hidden/..."),  # dots inside names are fine
])
def test_target_key_maps_prefixes(key, source, target, expected):
    assert target_key(key, source, target) == expected


@pytest.mark.parametrize("key", ["../escape", "a/../../b", "./x", "a/.", "..", "a\x00b"])
def test_target_key_refuses_escaping_keys(key):
    with pytest.raises(S3Error, match="could escape"):
        target_key(key, "", "restored/")


def test_manifest_line_round_trips_unicode():
    record = ObjectRecord(key="日本/ключ ü", version_id=None, is_latest=True, delete_marker=False, size=3,
                          sha256="ab" * 32, etag="e", last_modified="2026-01-01T00:00:00+00:00",
                          content_type="text/plain", metadata={"k": "v"}, stored_as="objects/00000001")
    line = record.line()
    assert line.endswith(b"\n") and b"\n" not in line[:-1] and "日本".encode() in line
    assert parse_line(line, "x") == record
    with pytest.raises(S3Error, match="not a valid record"):
        parse_line(b'{"key": 1}', "m.jsonl line 3")


def test_mirror_header_seal_detects_edits():
    doc = seal({"format": "f", "objects": 3})
    assert seal(doc)["digest"] == doc["digest"]
    assert seal({**doc, "objects": 4})["digest"] != doc["digest"]
    assert split_url("s3://b/p/n/") == ("b", "p/n/")
    with pytest.raises(S3Error):
        split_url("/local/path")


def test_secrets_are_no_log():
    spec = s3_argument_spec()
    assert all(spec[k].get("no_log") for k in ("access_key", "secret_key", "session_token"))


def test_describe_names_the_code_and_hint():
    class Fake(Exception):
        response = {"Error": {"Code": "SignatureDoesNotMatch", "Message": "bad sig"}}
    text = describe(Fake(), "backup of bucket", "'b' at http://x")
    assert text.startswith("backup of bucket 'b' at http://x failed: SignatureDoesNotMatch (")
    assert "wrong credentials" in text and "bad sig" in text


def test_verify_verdicts_pass_fail_pending():
    ok = VerifyResult(target="s3://b/", manifest="/nonexistent", expected=2, matched=2, bytes=10)
    assert validate(verify_verdict(ok)) is None and verify_verdict(ok)["status"] == "pass"
    bad = VerifyResult(target="s3://b/", manifest="/nonexistent", expected=2, matched=1)
    bad.note("missing", "k")
    assert verify_verdict(bad)["status"] == "fail" and verify_verdict(bad)["evidence"]["findings"]["missing"] == 1
    empty = VerifyResult(target="s3://b/", manifest="/nonexistent")
    assert verify_verdict(empty)["status"] == "pending"  # no data is never a pass


def test_restore_verdict_fails_on_rejected_keys():
    result = RestoreResult(target="s3://t/r/", objects=1, rejected_keys=[{"key": "../x", "reason": "..."}])
    verdict = restore_verdict(result)
    assert verdict["status"] == "fail" and json.dumps(verdict)


def test_an_empty_backup_or_restore_is_pending_not_pass():
    from ansible_collections.deploysafe.preflight.plugins.module_utils.s3.results import BackupResult
    from ansible_collections.deploysafe.preflight.plugins.module_utils.s3.verdicts import backup_verdict
    empty = BackupResult(mode="mirror", name="n", location="s3://b/n/", manifest="s3://b/n/backup.json", objects=0,
                         delete_markers=0, bytes=0, duration_s=0.1)
    assert backup_verdict(empty)["status"] == "pending" and "no objects" in backup_verdict(empty)["summary"]
    full = BackupResult(mode="mirror", name="n", location="s3://b/n/", manifest="s3://b/n/backup.json", objects=2,
                        delete_markers=0, bytes=10, duration_s=0.5)
    assert backup_verdict(full)["status"] == "pass" and full.throughput_mb_s == 0.0 and full.objects_per_s == 4.0
    assert restore_verdict(RestoreResult(target="s3://t/"))["status"] == "pending"
    assert restore_verdict(RestoreResult(target="s3://t/", objects=1, bytes=3, duration_s=1.0))["status"] == "pass"
