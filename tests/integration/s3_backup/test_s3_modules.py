"""The modules end to end through ansible-playbook (check mode, backup_verify on an S3 archive, failures)."""

from __future__ import annotations

import json
import os

from s3_helpers import populate


def _run(ansible_playbook, s3, tmp_path, tasks: str, expect_rc: int = 0):
    """Run tasks (with {C} replaced by the connection options) and return the registered vars listed in
    the last line `# RESULT a b c` as a list."""
    conn = "".join(f"\n        {k}: \"{s3[k]}\"" for k in ("endpoint_url", "access_key", "secret_key"))
    names = tasks.strip().splitlines()[-1].split("RESULT", 1)[1].split()
    out = tmp_path / "results.json"
    play = ("- hosts: localhost\n  gather_facts: false\n  tasks:\n" + tasks.replace("{C}", conn)
            + f"\n    - ansible.builtin.copy:\n        dest: {out}\n        mode: '0600'\n"
            + "        content: \"{{ [" + ", ".join(names) + "] | to_json }}\"\n")
    proc = ansible_playbook(play)
    assert proc.returncode == expect_rc, proc.stdout[-4000:] + proc.stderr[-2000:]
    assert "Traceback" not in proc.stdout
    return json.loads(out.read_text()), proc


def test_modules_backup_verify_restore_cycle(s3, client, new_bucket, tmp_path, ansible_playbook):
    src, scratch = new_bucket(), "scratch-" + os.urandom(4).hex()
    objects = populate(client, src)
    dest = tmp_path / "backups"
    dest.mkdir()
    tasks = f"""
    - name: Backup in check mode writes nothing
      deploysafe.preflight.s3_backup: {{C}}
        bucket: {src}
        dest: {dest}
      check_mode: true
      register: planned
    - deploysafe.preflight.s3_backup: {{C}}
        bucket: {src}
        dest: {dest}
      register: backup
    - deploysafe.preflight.backup_verify:
        path: "{{{{ backup.location }}}}"
      register: archive_ok
    - deploysafe.preflight.s3_scratch_bucket: {{C}}
        name: {scratch}
    - name: Restore in check mode writes nothing
      deploysafe.preflight.s3_restore: {{C}}
        source: "{{{{ backup.location }}}}"
        bucket: {scratch}
      check_mode: true
      register: restore_plan
    - deploysafe.preflight.s3_restore: {{C}}
        source: "{{{{ backup.location }}}}"
        bucket: {scratch}
      register: restored
    - deploysafe.preflight.s3_verify: {{C}}
        manifest: "{{{{ backup.location }}}}"
        bucket: {scratch}
      register: verified
    - deploysafe.preflight.s3_scratch_bucket: {{C}}
        name: {scratch}
        state: absent
      register: removed
    # RESULT planned backup archive_ok restore_plan restored verified removed
"""
    (planned, backup, archive_ok, restore_plan, restored, verified, removed), _ = _run(
        ansible_playbook, s3, tmp_path, tasks)
    assert planned["plan"]["objects"] == len(objects) and planned["verdict"]["status"] == "pending"
    assert backup["objects"] == len(objects) and backup["verdict"]["status"] == "pass"
    assert sorted(os.listdir(dest)) == sorted(os.path.basename(backup[k]) for k in
                                              ("location", "manifest", "archive_manifest"))
    assert archive_ok["verdict"]["status"] == "pass"
    assert restore_plan["plan"]["objects"] == len(objects) and restore_plan["plan"]["problems"] == []
    assert restored["objects"] == len(objects) and restored["verdict"]["status"] == "pass"
    assert verified["matched"] == len(objects) and verified["verdict"]["status"] == "pass"
    assert removed["changed"] and removed["deleted_objects"] == len(objects)
    assert scratch not in [b["Name"] for b in client.list_buckets()["Buckets"]]


def test_module_failures_are_clear_and_keep_secrets(s3, client, new_bucket, tmp_path, ansible_playbook):
    src = new_bucket()
    populate(client, src)
    backup_dir = tmp_path / "b"
    backup_dir.mkdir()
    tasks = f"""
    - deploysafe.preflight.s3_backup: {{C}}
        bucket: {src}
        dest: {backup_dir}
      register: backup
    - deploysafe.preflight.s3_backup:
        endpoint_url: "{s3['endpoint_url']}"
        access_key: "{s3['access_key']}"
        secret_key: WRONG-SECRET-abcdef
        bucket: {src}
        dest: {tmp_path}
      register: wrong
      ignore_errors: true
    - deploysafe.preflight.s3_restore: {{C}}
        source: "{{{{ backup.location }}}}"
        bucket: {src}
      register: nonempty
      ignore_errors: true
    - deploysafe.preflight.s3_scratch_bucket: {{C}}
        name: {src}
        state: absent
      register: refused
      ignore_errors: true
    - name: Change one object, then look for drift
      ansible.builtin.command: "true"
      changed_when: false
    # RESULT backup wrong nonempty refused
"""
    (backup, wrong, nonempty, refused), proc = _run(ansible_playbook, s3, tmp_path, tasks)
    assert wrong["failed"] and "SignatureDoesNotMatch" in wrong["msg"] and "wrong credentials" in wrong["msg"]
    assert "WRONG-SECRET" not in proc.stdout.replace("secret_key: WRONG", "")
    assert nonempty["failed"] and "is not empty" in nonempty["msg"]
    assert refused["failed"] and "not a scratch bucket" in refused["msg"]
    assert client.head_bucket(Bucket=src)  # still there

    client.put_object(Bucket=src, Key="plain.txt", Body=b"changed!")
    empty = new_bucket()
    drift = f"""
    - deploysafe.preflight.s3_verify: {{C}}
        manifest: "{backup['location']}"
        bucket: {src}
        fail_on: never
      register: drift
    - name: The default gate (fail_on=fail) fails the task on the same drift, verdict included
      deploysafe.preflight.s3_verify: {{C}}
        manifest: "{backup['location']}"
        bucket: {src}
      register: gated
      ignore_errors: true
    - name: A backup of an empty bucket is pending, and fail_on=pending fails on it
      deploysafe.preflight.s3_backup: {{C}}
        bucket: {empty}
        mode: mirror
        dest_bucket: {src}
        fail_on: pending
      register: empty_gated
      ignore_errors: true
    # RESULT drift gated empty_gated
"""
    (result, gated, empty_gated), _ = _run(ansible_playbook, s3, tmp_path, drift)
    assert result["verdict"]["status"] == "fail" and [d["key"] for d in result["differing"]] == ["plain.txt"]
    assert not result.get("failed")
    assert gated["failed"] and gated["verdict"]["status"] == "fail" and "differs" in gated["msg"]
    assert empty_gated["failed"] and empty_gated["verdict"]["status"] == "pending"
    assert "no objects" in empty_gated["msg"]
