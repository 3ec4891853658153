"""The role against the real MinIO: a scratch bucket name that points at real data is refused."""

from __future__ import annotations

import json

from s3_helpers import populate


def _play(s3, src, dest, run_dir, scratch):
    return f"""
- hosts: localhost
  gather_facts: false
  vars:
    preflight_run_dir: {run_dir}
  tasks:
    - ansible.builtin.include_role:
        name: deploysafe.preflight.s3_backup
      vars:
        s3_backup_endpoint_url: "{s3['endpoint_url']}"
        s3_backup_access_key: "{s3['access_key']}"
        s3_backup_secret_key: "{s3['secret_key']}"
        s3_backup_bucket: {src}
        s3_backup_dest: {dest}
        s3_backup_scratch_bucket: {scratch}
"""


def test_role_passes_and_records(s3, client, new_bucket, tmp_path, ansible_playbook):
    src = new_bucket()
    objects = populate(client, src)
    proc = ansible_playbook(_play(s3, src, tmp_path / "b", tmp_path / "run", "scratch-" + src))
    assert proc.returncode == 0, proc.stdout[-3000:]
    record = json.loads((tmp_path / "run" / "s3_backup.json").read_text())
    assert record["verdict"]["status"] == "pass"
    assert record["verdict"]["evidence"]["findings"]["restore_verify.differing"] == 0
    assert {m["name"]: m["value"] for m in record["verdict"]["evidence"]["measurements"]}[
        "restore_verify.matched"] == len(objects)
    assert "scratch-" + src not in [b["Name"] for b in client.list_buckets()["Buckets"]]


def test_role_refuses_a_real_bucket_as_scratch(s3, client, new_bucket, tmp_path, ansible_playbook):
    src, precious = new_bucket(), new_bucket()
    populate(client, src)
    client.put_object(Bucket=precious, Key="keep.txt", Body=b"real data")
    proc = ansible_playbook(_play(s3, src, tmp_path / "b", tmp_path / "run", precious))
    assert proc.returncode != 0
    assert "not a scratch bucket" in proc.stdout
    assert client.get_object(Bucket=precious, Key="keep.txt")["Body"].read() == b"real data"
    assert not (tmp_path / "run" / "s3_backup.json").exists()
