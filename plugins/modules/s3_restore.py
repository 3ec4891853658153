#!/usr/bin/python
# Copyright: (c) 2026, deploysafe.preflight contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: s3_restore
short_description: Restore an S3 backup archive or mirror into a bucket, checking every object's sha256
version_added: 0.1.0
description:
  - Restores a backup written by M(deploysafe.preflight.s3_backup) into O(bucket) under O(prefix), preserving each
    key (relative to the backed-up prefix), content type and user metadata. Objects of O(multipart_threshold_mb) or
    more are uploaded in parts, several parts at a time within O(memory_budget_mb).
  - The sha256 of an archive's bytes is first compared with its sealed manifest (O(verify_first)); a corrupted or
    edited archive restores nothing. It is then decrypted and decompressed as a stream (zstd frame checksum, age
    authentication), every object's sha256 is compared with the object manifest while it is uploaded, and the
    whole plaintext's sha256 with the manifest at the end. Check mode runs the full M(deploysafe.preflight.backup_verify)
    check instead.
  - The target bucket/prefix must be empty unless O(force=true). A forced restore into a prefix that holds objects
    first archives that prefix with M(deploysafe.preflight.s3_backup)'s archive code path (the compression level of
    the archive restored), see O(pre_restore_backup); with a mirror O(source) O(pre_restore_dest) is then required.
    C(playbooks/undo_restore.yml) puts it back with O(delete_extra=true). Keys with C(.) or C(..) segments, which could
    escape the target prefix, are refused and reported in RV(rejected_keys).
options:
  source:
    description:
      - The backup, an archive path (C(*.tar.zst[.age]) or its C(.objects.jsonl)) or a mirror's
        C(s3://<bucket>/<prefix><name>/) folder (or its C(backup.json)).
    type: str
    required: true
  bucket:
    description: Target bucket.
    type: str
    required: true
  prefix:
    description: Target prefix that replaces the backed-up prefix; default is the backed-up prefix (same keys).
    type: str
  force:
    description:
      - Restore even when the target bucket/prefix already holds objects (same keys are overwritten). The prefix is
        first backed up (O(pre_restore_backup)).
    type: bool
    default: false
  delete_extra:
    description:
      - After the restore, delete the current objects under the target prefix that the backup does not hold, so the
        prefix holds exactly the backup (an undo must also remove what a bad restore added). Into a versioned
        bucket a deletion adds a delete marker; older versions stay.
      - Nothing is deleted when a key was rejected or an object differs from the manifest
        (RV(delete_extra_skipped) says so). Check mode lists what would be deleted in RV(plan).
    type: bool
    default: false
    version_added: 0.1.0
  create_bucket:
    description: Create O(bucket) when it does not exist.
    type: bool
    default: false
  identity_file:
    description: age identity file (or SSH private key) of an encrypted archive.
    type: path
  verify_first:
    description: Compare the archive's bytes with the sha256 of its manifest before writing anything.
    type: bool
    default: true
  versions:
    description:
      - C(latest) restores the current objects. C(all) replays every backed-up version and delete marker in order
        (into a versioned bucket this rebuilds the history).
    type: str
    choices: [latest, all]
    default: latest
  concurrency:
    description: Objects uploaded at the same time.
    type: int
    default: 8
  memory_budget_mb:
    description:
      - Memory for object bodies and parts read ahead and uploaded in the background (at most
        2 x O(concurrency) uploads queued or running); larger objects are uploaded in parts, several at a time.
    type: int
    default: 256
  multipart_threshold_mb:
    description: Objects at least this large are uploaded in parts.
    type: int
    default: 16
  part_size_mb:
    description: Size of each part.
    type: int
    default: 8
extends_documentation_fragment:
  - deploysafe.preflight.s3
  - deploysafe.preflight.verdict
  - deploysafe.preflight.verdict.fail_on
  - deploysafe.preflight.pre_restore
  - deploysafe.preflight.attributes
  - deploysafe.preflight.attributes.no_diff
attributes:
  check_mode:
    support: full
    details: Verifies the backup and checks the target, plans the pre-restore backup (s3_backup's check mode) and
      lists the objects O(delete_extra) would delete; writes nothing. The plan's verdict is C(pending) (nothing was
      restored) and O(fail_on) is not applied to it; a problem found fails the task.
requirements:
  - boto3 (Python library)
  - zstandard (Python library)
  - pyrage (Python library) for encrypted archives
author:
  - deploysafe.preflight contributors (@deploysafe)
"""

EXAMPLES = r"""
- name: Restore last night's archive into a scratch bucket
  deploysafe.preflight.s3_restore:
    endpoint_url: https://minio.internal:9000
    source: "{{ s3_archive.location }}"
    bucket: restore-check
    create_bucket: true
    identity_file: /etc/preflight/backup-key.txt

- name: Restore over the live bucket; it is archived first (undo with playbooks/undo_restore.yml)
  deploysafe.preflight.s3_restore:
    endpoint_url: https://minio.internal:9000
    source: /var/backups/s3/nightly-uploads-20261125T140000Z.tar.zst.age
    bucket: uploads
    force: true
    identity_file: /etc/preflight/backup-key.txt
  register: restored

- name: Put an archive back exactly (objects it does not hold are deleted)
  deploysafe.preflight.s3_restore:
    endpoint_url: https://minio.internal:9000
    source: "{{ restored.pre_restore_backup.path }}"
    bucket: uploads
    force: true
    delete_extra: true
    identity_file: /etc/preflight/backup-key.txt
"""

RETURN = r"""
target:
  description: Where the objects were restored.
  returned: success
  type: str
  sample: s3://restore-check/
objects:
  description: Objects restored.
  returned: success and not check mode
  type: int
  sample: 10000
bytes:
  description: Bytes restored.
  returned: success and not check mode
  type: int
  sample: 335544320
delete_markers:
  description: Delete markers replayed (O(versions=all)).
  returned: success and not check mode
  type: int
  sample: 0
skipped_versions:
  description: Older versions and delete markers not restored (O(versions=latest)).
  returned: success and not check mode
  type: int
  sample: 0
duration:
  description: Seconds the restore took.
  returned: success and not check mode
  type: float
  sample: 5.1
throughput:
  description: MB/s restored.
  returned: success and not check mode
  type: float
  sample: 65.8
objects_per_second:
  description: Objects restored per second.
  returned: success and not check mode
  type: float
  sample: 1960.8
rejected_keys:
  description: Keys refused because they could escape the target prefix (C(key), C(reason)).
  returned: always
  type: list
  elements: dict
  sample: []
differing:
  description: Objects whose restored content does not hash to the manifest's sha256 (C(key), C(reason)).
  returned: success and not check mode
  type: list
  elements: dict
  sample: []
pre_restore_backup:
  description:
    - The safety net. C(taken) says whether the target prefix was archived before the restore, C(reason) why (or
      why not - an empty prefix, a missing bucket, O(pre_restore_backup=false), check mode with C(would_write)).
    - When taken, C(path), C(manifest) (the archive manifest), C(objects_manifest), C(sha256) and C(size) of the
      verified archive, C(target), C(bucket), C(prefix), C(kind) (C(s3)), C(objects), C(encrypted), C(verified),
      C(plaintext_checked) and C(duration).
  returned: success
  type: dict
  sample: {"taken": true, "kind": "s3", "target": "s3://uploads/", "bucket": "uploads", "prefix": "",
           "path": "/var/backups/s3/pre-restore/pre-restore-uploads-20261203T101500Z.tar.zst.age",
           "manifest": "/var/backups/s3/pre-restore/pre-restore-uploads-20261203T101500Z.tar.zst.age.manifest.json",
           "objects_manifest": "/var/backups/s3/pre-restore/pre-restore-uploads-20261203T101500Z.tar.zst.age.objects.jsonl",
           "sha256": "0821ed3ea9ce63f166232451ee0bdd5c3603189d37672dee7be315a31ce350ff", "size": 73728,
           "objects": 6, "encrypted": true, "verified": true, "plaintext_checked": true, "duration": 0.4,
           "reason": "s3://uploads/ was not empty: backed up before the restore overwrote it"}
extra_deleted:
  description: Objects deleted by O(delete_extra).
  returned: success and not check mode
  type: int
  sample: 2
deleted_extra:
  description: Keys deleted by O(delete_extra) (the first 1000).
  returned: success and not check mode
  type: list
  elements: str
  sample: ["added-by-the-bad-restore.txt"]
delete_extra_skipped:
  description: Why O(delete_extra) deleted nothing (a rejected key or a differing object), else null.
  returned: success and not check mode
  type: str
  sample: null
plan:
  description:
    - In check mode, the target, object count and problems found, the planned C(pre_restore_backup), and with
      O(delete_extra) C(extra_count) and C(extra_keys) (the first 1000) that would be deleted.
  returned: check mode
  type: dict
  sample: {"target": "s3://restore-check/", "objects": 3, "bytes": 42, "problems": [], "rejected_keys": [],
           "pre_restore_backup": {"taken": false, "reason": "target s3://restore-check/ is empty or its bucket does
           not exist: nothing to protect"}}
verdict:
  description:
    - Evidence contract; C(fail) when a key was rejected or an object differs, C(pending) when the backup holds no
      objects. A pre-restore archive and its manifest are among the artifacts when one was taken.
  returned: always
  type: dict
  sample: {"status": "pass", "summary": "restored 3 objects (42 bytes) into s3://restore-check/", "evidence": {}}
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.deploysafe.preflight.plugins.module_utils.archive.prerestore import (
    pre_restore_argument_spec, pre_restore_options)
from ansible_collections.deploysafe.preflight.plugins.module_utils.deps import requires
from ansible_collections.deploysafe.preflight.plugins.module_utils.s3.client import (
    S3Conn, failure_message, s3_argument_spec)
from ansible_collections.deploysafe.preflight.plugins.module_utils.s3.restore import (
    RestoreOptions, plan_restore, run_restore)
from ansible_collections.deploysafe.preflight.plugins.module_utils.s3.verdicts import plan_verdict, restore_verdict
from ansible_collections.deploysafe.preflight.plugins.module_utils.verdict import stamp_module_verdicts, FAIL_ON, gate_failed

MB = 1024 * 1024


def main():
    spec = s3_argument_spec()
    spec.update(
        source=dict(type="str", required=True),
        bucket=dict(type="str", required=True),
        prefix=dict(type="str"),
        force=dict(type="bool", default=False),
        create_bucket=dict(type="bool", default=False),
        identity_file=dict(type="path"),
        verify_first=dict(type="bool", default=True),
        versions=dict(type="str", choices=["latest", "all"], default="latest"),
        concurrency=dict(type="int", default=8),
        memory_budget_mb=dict(type="int", default=256),
        multipart_threshold_mb=dict(type="int", default=16),
        part_size_mb=dict(type="int", default=8),
        delete_extra=dict(type="bool", default=False),
        fail_on=dict(type="str", choices=list(FAIL_ON), default="fail"),
    )
    spec.update(pre_restore_argument_spec())
    module = AnsibleModule(argument_spec=spec, supports_check_mode=True)
    stamp_module_verdicts(module, "s3_restore")
    p = module.params
    requires(module, "boto3", "zstandard",
             "pyrage" if p["identity_file"] or p["pre_restore_encrypt_recipients"] else None)
    opts = RestoreOptions(source=p["source"], bucket=p["bucket"], prefix=p["prefix"], force=p["force"],
                          create_bucket=p["create_bucket"], identity_file=p["identity_file"],
                          verify_first=p["verify_first"], versions=p["versions"], concurrency=p["concurrency"],
                          memory_budget=p["memory_budget_mb"] * MB, multipart_threshold=p["multipart_threshold_mb"] * MB,
                          part_size=p["part_size_mb"] * MB, pre_restore=pre_restore_options(p),
                          delete_extra=p["delete_extra"])
    conn = S3Conn.from_params(p)
    try:
        if module.check_mode:
            plan = plan_restore(conn, opts)
            verdict = plan_verdict(plan)
            if plan["problems"]:
                module.fail_json(msg="; ".join(plan["problems"]), plan=plan, verdict=verdict,
                                 rejected_keys=plan["rejected_keys"])
            module.exit_json(changed=True, plan=plan, target=plan["target"], rejected_keys=plan["rejected_keys"],
                             pre_restore_backup=plan["pre_restore_backup"], verdict=verdict)
        result = run_restore(conn, opts)
    except Exception as exc:
        msg = failure_message(exc, "s3_restore", f"of {p['source']} into bucket {p['bucket']!r} at {conn.where}")
        if msg is None:
            raise
        module.fail_json(msg=msg)
    verdict = restore_verdict(result)
    record = result.pre_restore_backup
    if record and record.get("unprotected"):
        module.warn(f"s3_restore overwrote {result.target} without a pre-restore backup (pre_restore_backup: false): "
                    "it cannot be undone")
    out = dict(changed=result.objects > 0 or result.delete_markers > 0 or result.extra_deleted > 0,
               target=result.target, objects=result.objects, pre_restore_backup=record,
               extra_deleted=result.extra_deleted, deleted_extra=result.deleted_extra,
               delete_extra_skipped=result.delete_extra_skipped,
               bytes=result.bytes, delete_markers=result.delete_markers, skipped_versions=result.skipped_versions,
               duration=result.duration_s, throughput=result.throughput_mb_s, objects_per_second=result.objects_per_s,
               rejected_keys=result.rejected_keys, differing=result.differing, verdict=verdict)
    if gate_failed(verdict["status"], p["fail_on"]):
        module.fail_json(msg=f"s3_restore into {result.target}: {verdict['summary']}", **out)
    module.exit_json(**out)


if __name__ == "__main__":
    main()
