"""A few end-to-end runs through ansible, the way a playbook calls the modules."""

from __future__ import annotations

import json
import os

from tests.integration.module_runner import run_module


def _conn(pg, superuser=False):
    return {"host": pg["host"], "port": pg["port"], "user": pg["superuser"] if superuser else pg["user"],
            "password": pg["superpassword"] if superuser else pg["password"]}


def test_backup_verify_restore_verify_through_ansible(pg, keys, tmp_path, list_scratch_dbs):
    checked = run_module("pg_backup", {**_conn(pg), "dbname": "app", "dest": str(tmp_path)}, check=True)
    # A plan is not a proof: check mode is pending (and writes nothing).
    assert not checked.get("failed") and checked["verdict"]["status"] == "pending" and os.listdir(tmp_path) == []
    backup = run_module("pg_backup", {**_conn(pg), "dbname": "app", "dest": str(tmp_path),
                                      "encrypt_recipients": [keys["recipient"]]})
    assert backup["changed"] and backup["verdict"]["status"] == "pass", backup.get("msg")
    verified = run_module("backup_verify", {"path": backup["path"], "identity_file": keys["identity"]})
    assert verified["verdict"]["status"] == "pass" and not verified.get("failed")
    proven = run_module("pg_restore_verify", {**_conn(pg, superuser=True), "path": backup["path"],
                                              "identity_file": keys["identity"]})
    assert proven["verdict"]["status"] == "pass", proven.get("msg")
    assert proven["scratch_db"] not in list_scratch_dbs()

    with open(backup["path"], "r+b") as handle:
        handle.seek(100)
        byte = handle.read(1)
        handle.seek(100)
        handle.write(bytes([byte[0] ^ 1]))
    broken = run_module("backup_verify", {"path": backup["path"], "identity_file": keys["identity"]})
    assert broken["failed"] and "differs at bytes 0-" in broken["msg"]
    assert broken["verdict"]["status"] == "fail"


def test_wrong_password_through_ansible(pg, tmp_path):
    result = run_module("pg_backup", {**_conn(pg), "password": "not-the-password", "dbname": "app",
                                      "dest": str(tmp_path)})
    assert result["failed"]
    assert "password authentication failed for user 'app'" in result["msg"]
    assert "not-the-password" not in json.dumps(result)
    assert os.listdir(tmp_path) == []


def test_directory_format_through_ansible(pg, tmp_path, list_scratch_dbs):
    backup = run_module("pg_backup", {**_conn(pg), "dbname": "app", "dest": str(tmp_path), "format": "directory",
                                      "jobs": 2})
    assert backup["changed"] and backup["path"].endswith(".dir.tar.zst"), backup.get("msg")
    assert sorted(os.listdir(tmp_path)) == sorted([os.path.basename(backup["path"]),
                                                   os.path.basename(backup["manifest_path"])])
    assert run_module("backup_verify", {"path": backup["path"]})["verdict"]["status"] == "pass"
    proven = run_module("pg_restore_verify", {**_conn(pg, superuser=True), "path": backup["path"], "jobs": 2})
    assert proven["verdict"]["status"] == "pass", proven.get("msg")


def test_s3_dest_through_ansible(pg, s3, tmp_path):
    s3opts = {"endpoint_url": s3["endpoint_url"], "access_key": s3["access_key"], "secret_key": s3["secret_key"]}
    dest = f"s3://{s3['bucket']}/pg-ansible-{os.getpid()}/"
    checked = run_module("pg_backup", {**_conn(pg), "dbname": "app", "dest": dest, "s3": s3opts,
                                       "staging_dir": str(tmp_path)}, check=True)
    assert not checked.get("failed") and checked["plan"]["would_write"].startswith(dest), checked.get("msg")
    backup = run_module("pg_backup", {**_conn(pg), "dbname": "app", "dest": dest, "s3": s3opts,
                                      "staging_dir": str(tmp_path)})
    assert backup["changed"] and backup["path"].startswith(dest), backup.get("msg")
    assert backup["s3"]["manifest_url"] == backup["manifest_path"] and backup["verdict"]["status"] == "pass"
    assert s3["secret_key"] not in json.dumps(backup) and os.listdir(tmp_path) == []
    verified = run_module("backup_verify", {"path": backup["path"], "s3": s3opts, "work_dir": str(tmp_path)})
    assert not verified.get("failed") and verified["verdict"]["status"] == "pass", verified.get("msg")
