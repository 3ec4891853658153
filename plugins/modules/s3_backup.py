#!/usr/bin/python
# Copyright: (c) 2026, deploysafe.preflight contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: s3_backup
short_description: Back up an S3 bucket or prefix with a per-object sha256 manifest
version_added: 0.1.0
description:
  - Lists O(bucket) (paginated, optionally under O(prefix), optionally every version and delete marker) and reads
    every object, computing its sha256 while streaming it (ETags are recorded but not trusted).
  - O(mode=archive) streams all objects as one tar through the collection's archive layer (zstd, optional age
    encryption, sha256 of the stored bytes, atomic publish) into O(dest) as
    C(<name_prefix>-<bucket>-<UTC YYYYmmddTHHMMSSZ>.tar.zst[.age]), with C(.manifest.json) and the object manifest
    C(.objects.jsonl) beside it. Nothing is held in memory beyond a bounded read-ahead of small objects.
  - O(mode=mirror) copies every object to C(s3://<dest_bucket>/<dest_prefix><name>/objects/<key>) and writes
    C(manifest.jsonl) and then C(backup.json) last; a mirror without C(backup.json) is incomplete.
  - The object manifest has one JSON line per object with key, version id, size, sha256, ETag, last-modified,
    content type and user metadata.
  - Objects are read pinned to the listed version or ETag. An object changed after listing is re-read, stored with
    the hash of what was stored, and reported in RV(changed_keys); an object deleted meanwhile is reported in
    RV(vanished_keys).
  - If the endpoint fails during the run the task fails and no artifact, manifest or C(backup.json) is left behind.
options:
  bucket:
    description: Source bucket.
    type: str
    required: true
  prefix:
    description: Back up only keys starting with this prefix.
    type: str
    default: ""
  mode:
    description: C(archive) (one local artifact) or C(mirror) (a copy in another bucket or prefix).
    type: str
    choices: [archive, mirror]
    default: archive
  dest:
    description: Existing local directory of the archive and its manifests (O(mode=archive)).
    type: path
  dest_bucket:
    description: Bucket of the mirror (O(mode=mirror)); it must exist.
    type: str
  dest_prefix:
    description: Prefix under which the mirror's C(<name>/) folder is created.
    type: str
    default: s3-backup/
  name_prefix:
    description: First part of the timestamped backup name.
    type: str
    default: s3
  all_versions:
    description: Back up every version and delete marker (oldest first per key) instead of only the current objects.
    type: bool
    default: false
  concurrency:
    description:
      - Reads (whole objects, or parts of large ones) and, for mirrors, writes in flight at the same time.
      - Objects larger than 4 MiB are read in O(part_size_mb) ranges, each pinned to the listed version or ETag;
        the reads run ahead of the archive stream within 128 MiB, and the archive keeps the listing order.
    type: int
    default: 8
  compression_level:
    description: zstd level of the archive.
    type: int
    default: 3
  compression_threads:
    description: zstd worker threads (-1 all cores, 0 none).
    type: int
    default: -1
  encrypt_recipients:
    description: age (C(age1...)) or SSH public keys; the archive is encrypted to all of them.
    type: list
    elements: str
    default: []
  multipart_threshold_mb:
    description: Objects at least this large are uploaded to the mirror in parts, several parts at a time.
    type: int
    default: 64
  part_size_mb:
    description: Size of each multipart part and of each ranged read of a large object (S3's minimum part is 5 MiB).
    type: int
    default: 16
extends_documentation_fragment:
  - deploysafe.preflight.s3
  - deploysafe.preflight.verdict
  - deploysafe.preflight.verdict.fail_on
  - deploysafe.preflight.attributes
  - deploysafe.preflight.attributes.no_diff
attributes:
  check_mode:
    support: full
    details: Lists the source and checks the destination; reads no content and writes nothing. The plan's verdict is
      C(pending) (nothing was backed up) and O(fail_on) is not applied to it; a problem found fails the task.
requirements:
  - boto3 (Python library)
  - zstandard (Python library)
  - pyrage (Python library) when O(encrypt_recipients) is set
author:
  - deploysafe.preflight contributors (@deploysafe)
"""

EXAMPLES = r"""
- name: Archive the uploads bucket, encrypted
  deploysafe.preflight.s3_backup:
    endpoint_url: https://minio.internal:9000
    access_key: "{{ vault_s3_access_key }}"
    secret_key: "{{ vault_s3_secret_key }}"
    bucket: uploads
    dest: /var/backups/s3
    encrypt_recipients: [age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p]
  register: s3_archive

- name: Mirror every version to the backup bucket
  deploysafe.preflight.s3_backup:
    endpoint_url: https://minio.internal:9000
    bucket: uploads
    mode: mirror
    dest_bucket: uploads-backup
    all_versions: true
"""

RETURN = r"""
mode:
  description: The mode used.
  returned: success and not check mode
  type: str
  sample: archive
name:
  description: Timestamped name of the backup.
  returned: success and not check mode
  type: str
  sample: s3-uploads-20261125T140000Z.tar.zst
location:
  description: The archive's path, or the mirror's C(s3://) folder.
  returned: success and not check mode
  type: str
  sample: /var/backups/s3/s3-uploads-20261125T140000Z.tar.zst
manifest:
  description: The object manifest (JSONL path for archives; the mirror's C(backup.json) URL for mirrors).
  returned: success and not check mode
  type: str
  sample: /var/backups/s3/s3-uploads-20261125T140000Z.tar.zst.objects.jsonl
archive_manifest:
  description: The archive layer's manifest (archives only).
  returned: success and not check mode
  type: str
  sample: /var/backups/s3/s3-uploads-20261125T140000Z.tar.zst.manifest.json
objects:
  description: Objects (or versions) stored.
  returned: success and not check mode
  type: int
  sample: 10000
delete_markers:
  description: Delete markers recorded (O(all_versions)).
  returned: success and not check mode
  type: int
  sample: 0
bytes:
  description: Object bytes read.
  returned: success and not check mode
  type: int
  sample: 335544320
duration:
  description: Seconds the backup took.
  returned: success and not check mode
  type: float
  sample: 4.2
throughput:
  description: Object bytes per second, in MB/s.
  returned: success and not check mode
  type: float
  sample: 79.9
objects_per_second:
  description: Objects per second.
  returned: success and not check mode
  type: float
  sample: 2380.9
changed_keys:
  description: Keys that changed between listing and reading (stored as re-read).
  returned: success and not check mode
  type: list
  elements: str
  sample: []
vanished_keys:
  description: Keys deleted between listing and reading (not stored).
  returned: success and not check mode
  type: list
  elements: str
  sample: []
sha256:
  description: sha256 of the stored archive bytes (archives only).
  returned: success and not check mode
  type: str
  sample: 0821ed3ea9ce63f166232451ee0bdd5c3603189d37672dee7be315a31ce350ff
plan:
  description: In check mode, what would be written and the problems found.
  returned: check mode
  type: dict
  sample: {"would_write": "/var/backups/s3/s3-uploads-20261125T140000Z.tar.zst", "objects": 3, "bytes": 42, "problems": []}
verdict:
  description: Evidence contract (artifacts, object counts, duration, throughput); C(pending) when the source has no objects.
  returned: always
  type: dict
  sample: {"status": "pass", "summary": "archive s3-uploads-20261125T140000Z.tar.zst: 3 objects, 42 bytes",
           "evidence": {"artifacts": [], "findings": {"objects": 3}, "measurements": []}}
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.deploysafe.preflight.plugins.module_utils.deps import requires
from ansible_collections.deploysafe.preflight.plugins.module_utils.s3.backup import BackupOptions, plan_backup, run_backup
from ansible_collections.deploysafe.preflight.plugins.module_utils.s3.client import (
    S3Conn, failure_message, s3_argument_spec)
from ansible_collections.deploysafe.preflight.plugins.module_utils.s3.verdicts import backup_verdict, plan_verdict
from ansible_collections.deploysafe.preflight.plugins.module_utils.verdict import stamp_module_verdicts, FAIL_ON, gate_failed

MB = 1024 * 1024


def main():
    spec = s3_argument_spec()
    spec.update(
        bucket=dict(type="str", required=True),
        prefix=dict(type="str", default=""),
        mode=dict(type="str", choices=["archive", "mirror"], default="archive"),
        dest=dict(type="path"),
        dest_bucket=dict(type="str"),
        dest_prefix=dict(type="str", default="s3-backup/"),
        name_prefix=dict(type="str", default="s3"),
        all_versions=dict(type="bool", default=False),
        concurrency=dict(type="int", default=8),
        compression_level=dict(type="int", default=3),
        compression_threads=dict(type="int", default=-1),
        encrypt_recipients=dict(type="list", elements="str", default=[]),
        multipart_threshold_mb=dict(type="int", default=64),
        part_size_mb=dict(type="int", default=16),
        fail_on=dict(type="str", choices=list(FAIL_ON), default="fail"),
    )
    module = AnsibleModule(argument_spec=spec, supports_check_mode=True,
                           required_if=[("mode", "archive", ["dest"]), ("mode", "mirror", ["dest_bucket"])])
    stamp_module_verdicts(module, "s3_backup")
    p = module.params
    requires(module, "boto3", "zstandard", "pyrage" if p["encrypt_recipients"] else None)
    opts = BackupOptions(bucket=p["bucket"], prefix=p["prefix"], mode=p["mode"], dest=p["dest"],
                         dest_bucket=p["dest_bucket"], dest_prefix=p["dest_prefix"], name_prefix=p["name_prefix"],
                         all_versions=p["all_versions"], concurrency=p["concurrency"],
                         compression_level=p["compression_level"], compression_threads=p["compression_threads"],
                         encrypt_recipients=p["encrypt_recipients"], multipart_threshold=p["multipart_threshold_mb"] * MB,
                         part_size=p["part_size_mb"] * MB)
    conn = S3Conn.from_params(p)
    try:
        if module.check_mode:
            plan = plan_backup(conn, opts)
            verdict = plan_verdict(plan)
            if plan["problems"]:
                module.fail_json(msg="; ".join(plan["problems"]), plan=plan, verdict=verdict)
            module.exit_json(changed=True, plan=plan, verdict=verdict)
        result = run_backup(conn, opts)
    except Exception as exc:
        msg = failure_message(exc, "s3_backup", f"of bucket {p['bucket']!r} at {conn.where}")
        if msg is None:
            raise
        module.fail_json(msg=msg)
    verdict = backup_verdict(result)
    out = dict(changed=True, mode=result.mode, name=result.name, location=result.location, manifest=result.manifest,
               archive_manifest=result.archive_manifest, objects=result.objects, delete_markers=result.delete_markers,
               bytes=result.bytes, duration=result.duration_s, throughput=result.throughput_mb_s,
               objects_per_second=result.objects_per_s, changed_keys=result.changed_keys,
               vanished_keys=result.vanished_keys, sha256=result.sha256, verdict=verdict)
    if gate_failed(verdict["status"], p["fail_on"]):
        module.fail_json(msg=f"s3_backup of bucket {p['bucket']!r}: {verdict['summary']}", **out)
    module.exit_json(**out)


if __name__ == "__main__":
    main()
