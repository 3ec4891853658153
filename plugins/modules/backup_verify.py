#!/usr/bin/python
# Copyright: (c) 2026, deploysafe.preflight contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: backup_verify
short_description: Prove a backup artifact is intact without restoring it
version_added: 0.1.0
description:
  - Re-reads an artifact written by M(deploysafe.preflight.pg_backup) (or any archive-layer producer), recomputes
    the sha256 of its bytes, decrypts it with O(identity_file) when it is age-encrypted, decompresses it to nowhere,
    and compares sizes and both sha256s with its manifest.
  - A difference fails the task (unless O(fail_on=never)) with a message that says where the stored bytes
    differ (byte ranges of the differing 1 MiB blocks). A missing or edited manifest, a wrong identity, truncation
    and corruption are all reported.
options:
  path:
    description:
      - The artifact, or its S3 URL C(s3://bucket/key) (connection in O(s3)); an S3 artifact and its manifest are
        downloaded into a private temporary directory in O(work_dir), verified, and removed.
    type: path
    required: true
  manifest:
    description: The manifest (a path, or an C(s3://) URL for an S3 artifact); default C(<path>.manifest.json).
    type: path
  work_dir:
    description: Directory for the temporary copy of an S3 artifact; default the system temporary directory.
    type: path
  s3:
    description: S3 connection used when O(path) is C(s3://...) (same options as the S3 modules).
  identity_file:
    description:
      - age identity file (C(AGE-SECRET-KEY-1...) lines) or SSH private key used to decrypt an encrypted artifact.
      - Without it an encrypted artifact is checked only at the byte level and the verdict is C(pending).
    type: path
  record:
    description:
      - Write the outcome beside the artifact as C(<artifact>.verified.json) (status, time, the artifact sha256 and
        manifest digest it is about), for M(deploysafe.preflight.backup_retention), which never deletes the newest
        backup whose record says C(pass), and whose audit fails when the newest backup has no such record.
      - Skipped in check mode.
    type: bool
    default: false
    version_added: 0.1.0
extends_documentation_fragment:
  - deploysafe.preflight.verdict.fail_on_mismatch
  - deploysafe.preflight.verdict
  - deploysafe.preflight.verdict.fail_on
  - deploysafe.preflight.s3.nested
  - deploysafe.preflight.attributes
attributes:
  check_mode:
    support: full
    details: Runs the same checks in check mode and returns the same verdict; O(record) writes nothing then.
  diff_mode:
    support: none
    details: The result carries the checks; no before/after diff is produced.
requirements:
  - zstandard (Python library)
  - pyrage (Python library) for encrypted artifacts
author:
  - deploysafe.preflight contributors (@deploysafe)
"""

EXAMPLES = r"""
- name: Verify last night's backup without restoring it
  deploysafe.preflight.backup_verify:
    path: "{{ backup.path }}"
    identity_file: /etc/preflight/backup-key.txt
  register: verified
"""

RETURN = r"""
checks:
  description: Each verified property with C(ok) (true, false, or null when undecided) and a detail.
  returned: always
  type: list
  elements: dict
  sample: [{"name": "stored_sha256", "ok": false, "detail": "sha256 of ... differs at bytes 1048576-2097151 (block 1)"}]
differing_blocks:
  description: 1 MiB blocks of the stored bytes whose hash differs from the manifest's (C(block), C(start), C(end)).
  returned: always
  type: list
  elements: dict
  sample: [{"block": 1, "start": 1048576, "end": 2097151}]
sha256:
  description: sha256 of the artifact as read now.
  returned: always
  type: str
  sample: 0821ed3ea9ce63f166232451ee0bdd5c3603189d37672dee7be315a31ce350ff
duration:
  description: Seconds spent reading, decrypting and decompressing.
  returned: always
  type: float
  sample: 0.4
record:
  description: Where the verification record was written (O(record=true), not in check mode).
  returned: when written
  type: str
  sample: /var/backups/pg/nightly-app-20261125T140000Z.dump.zst.age.verified.json
verdict:
  description: Evidence contract; C(fail) on any difference, C(pending) when an encrypted artifact could not be decrypted.
  returned: always
  type: dict
  sample: {"status": "pass", "summary": "app.dump.zst.age matches its manifest", "evidence": {}}
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.deploysafe.preflight.plugins.module_utils.archive import verify_artifact, verify_verdict
from ansible_collections.deploysafe.preflight.plugins.module_utils.deps import requires
from ansible_collections.deploysafe.preflight.plugins.module_utils.errors import PreflightError
from ansible_collections.deploysafe.preflight.plugins.module_utils.pg.args import fail_on_from_legacy
from ansible_collections.deploysafe.preflight.plugins.module_utils.pg.s3dest import is_s3_url, verify_s3_artifact
from ansible_collections.deploysafe.preflight.plugins.module_utils.retention import RetentionError
from ansible_collections.deploysafe.preflight.plugins.module_utils.retention.verified import record_backup_verification
from ansible_collections.deploysafe.preflight.plugins.module_utils.s3.client import (
    S3Conn, s3_argument_spec)
from ansible_collections.deploysafe.preflight.plugins.module_utils.verdict import stamp_module_verdicts, FAIL_ON, gate_failed


def main():
    module = AnsibleModule(
        argument_spec=dict(
            path=dict(type="path", required=True),
            manifest=dict(type="path"),
            work_dir=dict(type="path"),
            s3=dict(type="dict", options=s3_argument_spec()),
            identity_file=dict(type="path"),
            fail_on=dict(type="str", choices=list(FAIL_ON), default="fail"),
            fail_on_mismatch=dict(type="bool"),
            record=dict(type="bool", default=False),
        ),
        supports_check_mode=True,
        mutually_exclusive=[("fail_on", "fail_on_mismatch")],
    )
    stamp_module_verdicts(module, "backup_verify")
    p = module.params
    if p["fail_on_mismatch"] is not None:
        module.deprecate("fail_on_mismatch is replaced by fail_on (true: fail, false: never)", version="1.0.0",
                         collection_name="deploysafe.preflight")
    fail_on = fail_on_from_legacy(p["fail_on"], p["fail_on_mismatch"])
    remote = is_s3_url(p["path"])
    requires(module, "zstandard", "pyrage" if p["identity_file"] else None, "boto3" if remote else None)
    try:
        if remote:
            report, verdict = verify_s3_artifact(S3Conn.from_params(p["s3"] or {}), p["path"],
                                                 identity_file=p["identity_file"], manifest_url=p["manifest"],
                                                 work_dir=p["work_dir"])
        else:
            report = verify_artifact(p["path"], manifest_file=p["manifest"], identity_file=p["identity_file"])
            verdict = verify_verdict(report)
    except PreflightError as exc:  # ArchiveError, PgError, S3Error
        module.fail_json(msg=f"backup_verify of {p['path']} failed: {exc}")
    result = dict(changed=False, checks=[c.__dict__ for c in report.checks], differing_blocks=report.differing_blocks,
                  sha256=report.sha256, duration=report.duration_s, verdict=verdict)
    if p["record"] and not module.check_mode:
        try:
            result["record"] = record_backup_verification(p["path"], report, verdict,
                                                          S3Conn.from_params(p["s3"] or {}) if remote else None)
        except RetentionError as exc:
            module.fail_json(msg=f"backup_verify of {p['path']}: cannot write the verification record: {exc}", **result)
        result["changed"] = True
    if gate_failed(verdict["status"], fail_on):
        module.fail_json(msg=f"backup_verify of {p['path']}: verdict {verdict['status']}: {verdict['summary']}", **result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
