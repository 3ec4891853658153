"""backup_retention on the real MinIO: the same decisions as on a local directory, planted defects, and
no deletion at all when the listing fails."""

from __future__ import annotations

import os
import secrets
from datetime import datetime, timedelta, timezone

import pytest

from retention_helpers import NOW, daily_timeline, s3_names, upload_dir

from ansible_collections.deploysafe.preflight.plugins.module_utils.retention import RetentionError
from ansible_collections.deploysafe.preflight.plugins.module_utils.retention.run import audit, prune
from ansible_collections.deploysafe.preflight.plugins.module_utils.retention.store import LocalStore, open_store
from ansible_collections.deploysafe.preflight.plugins.module_utils.s3.client import S3Conn, make_client

POLICY = {"keep_daily": 5, "keep_weekly": 3, "keep_monthly": 2}


@pytest.fixture
def s3conn(s3):
    return S3Conn(endpoint_url=s3["endpoint_url"], access_key=s3["access_key"], secret_key=s3["secret_key"],
                  region=s3.get("region", "us-east-1"))


@pytest.fixture
def prefix(s3, s3conn):
    name = f"retention-{secrets.token_hex(4)}/"
    yield name
    client = make_client(s3conn)
    for key in s3_names(client, s3["bucket"], name):
        client.delete_object(Bucket=s3["bucket"], Key=name + key)


def test_same_policy_same_decisions_on_a_directory_and_on_minio(tmp_path, s3, s3conn, prefix):
    local = tmp_path / "local"
    local.mkdir()
    daily_timeline(local, 40, skip=(6, 17), unverified=(0, 1))
    client = make_client(s3conn)
    upload_dir(client, s3["bucket"], prefix, local)
    store = open_store(f"s3://{s3['bucket']}/{prefix}", s3conn)
    on_dir = prune(LocalStore(str(local)), POLICY, check_mode=True, now=NOW)
    on_s3 = prune(store, POLICY, check_mode=True, now=NOW)
    for key in ("keep", "remove", "would_remove", "protected", "orphans", "partials"):
        assert on_s3[key] == on_dir[key], key
    assert on_s3["protected"] == on_s3["keep"][2]["name"]  # the two newest are unverified
    done = prune(store, POLICY, check_mode=False, now=NOW)
    assert done["removed"] == on_dir["would_remove"] and done["errors"] == []
    assert s3_names(client, s3["bucket"], prefix) == on_dir["diff"]["after"].splitlines()
    assert prune(store, POLICY, check_mode=False, now=NOW)["changed"] is False


def test_planted_defects_on_minio(tmp_path, s3, s3conn, prefix):
    local = tmp_path / "local"
    local.mkdir()
    names = daily_timeline(local, 9, skip=(4,), unverified=(0,))
    os.unlink(local / names[7])                                    # orphan manifest
    (local / "nightly-app-20261129T020000Z.dump.zst.partial").write_bytes(b"killed backup")  # leftover partial
    client = make_client(s3conn)
    upload_dir(client, s3["bucket"], prefix, local)
    store = open_store(f"s3://{s3['bucket']}/{prefix}", s3conn)
    view = audit(store, now=NOW)
    verdict = view["verdict"]
    assert verdict["status"] == "fail"
    missing = (NOW - timedelta(days=4)).date().isoformat()
    assert f"no backup on {missing}" in verdict["summary"] and "is not verified" in verdict["summary"]
    assert verdict["evidence"]["findings"] == {"orphans": 1, "partials": 1, "damaged": 0, "future": 0, "missing_days": 1}
    assert view["orphans"][0] == {"name": names[7], "problem": "manifest without artifact",
                                  "files": [names[7] + ".verified.json", names[7] + ".manifest.json"]}
    assert verdict["evidence"]["artifacts"][0]["path"] == f"s3://{s3['bucket']}/{prefix}{names[0]}"
    # S3 has no mtime of our choosing: the planted files are seconds old, so they are only reported ...
    wall = max(datetime.now(timezone.utc), NOW)
    young = prune(store, {"keep_last": 20}, check_mode=False, now=wall)
    assert {o["action"] for o in young["orphans"]} | {p["action"] for p in young["partials"]} == {"report"}
    # ... and removed once older than orphan_age
    later = prune(store, {"keep_last": 20}, check_mode=False, now=wall + timedelta(days=2), orphan_age="1d")
    assert sorted(later["removed"]) == sorted([names[7] + ".verified.json", names[7] + ".manifest.json",
                                               "nightly-app-20261129T020000Z.dump.zst.partial"])
    assert not any(k.startswith(names[7]) or k.endswith(".partial") for k in s3_names(client, s3["bucket"], prefix))


def test_listing_error_deletes_nothing(s3conn, tmp_path):
    store = open_store("s3://no-such-bucket-retention/x/", s3conn)
    with pytest.raises(RetentionError, match="no-such-bucket-retention"):
        prune(store, POLICY, check_mode=False, now=NOW)
    with pytest.raises(RetentionError, match="no-such-bucket-retention"):
        audit(store, now=NOW)


def test_empty_prefix_audit_is_pending(s3, s3conn, prefix):
    view = audit(open_store(f"s3://{s3['bucket']}/{prefix}", s3conn), now=NOW)
    assert view["verdict"]["status"] == "pending" and "nothing to judge" in view["verdict"]["summary"]


def test_backup_verify_record_on_s3_makes_the_newest_verified(tmp_path, s3, s3conn, prefix):
    from ansible_collections.deploysafe.preflight.plugins.module_utils.pg.s3dest import verify_s3_artifact
    from ansible_collections.deploysafe.preflight.plugins.module_utils.retention.verified import (
        record_backup_verification)
    local = tmp_path / "local"
    local.mkdir()
    names = daily_timeline(local, 2, unverified=(0,))
    client = make_client(s3conn)
    upload_dir(client, s3["bucket"], prefix, local)
    store = open_store(f"s3://{s3['bucket']}/{prefix}", s3conn)
    assert "is not verified" in audit(store, now=NOW)["verdict"]["summary"]
    url = f"s3://{s3['bucket']}/{prefix}{names[0]}"
    report, verdict = verify_s3_artifact(s3conn, url, work_dir=str(tmp_path))
    assert record_backup_verification(url, report, verdict, s3conn) == url + ".verified.json"
    view = audit(store, now=NOW)
    assert view["backups"][0]["verification"] == "pass" and view["verdict"]["status"] == "pass", view["verdict"]
