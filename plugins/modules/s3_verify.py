#!/usr/bin/python
# Copyright: (c) 2026, deploysafe.preflight contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: s3_verify
short_description: Prove a bucket or prefix matches an S3 backup's object manifest by re-reading every object
version_added: 0.1.0
description:
  - Reads every object the manifest of a M(deploysafe.preflight.s3_backup) backup lists (current versions) from
    O(bucket) under O(prefix), hashes its content with sha256 and compares size, sha256, content type and user
    metadata. ETags are never trusted as content hashes.
  - Lists the prefix for objects the manifest does not know. Reports C(missing), C(extra) and C(differing) objects,
    each by key.
  - Works on the backed-up source (drift since the backup) and on a restore target.
options:
  manifest:
    description:
      - The backup, an archive path (its object manifest and sealed manifest are found beside it), its
        C(.objects.jsonl), or a mirror's C(s3://<bucket>/<prefix><name>/) folder. The object manifest's sha256 is
        checked against the sealed manifest first.
    type: str
    required: true
  bucket:
    description: Bucket to check.
    type: str
    required: true
  prefix:
    description: Prefix that holds the backed-up keys; default is the backed-up prefix.
    type: str
  concurrency:
    description: Objects read at the same time.
    type: int
    default: 8
  check_extra:
    description: Also report objects under the prefix that the manifest does not list.
    type: bool
    default: true
  compare_metadata:
    description: Compare content type and user metadata as well as content.
    type: bool
    default: true
extends_documentation_fragment:
  - deploysafe.preflight.s3
  - deploysafe.preflight.verdict
  - deploysafe.preflight.verdict.fail_on
  - deploysafe.preflight.attributes
  - deploysafe.preflight.attributes.read_only
requirements:
  - boto3 (Python library)
author:
  - deploysafe.preflight contributors (@deploysafe)
"""

EXAMPLES = r"""
- name: Has the source drifted since the backup?
  deploysafe.preflight.s3_verify:
    endpoint_url: https://minio.internal:9000
    manifest: "{{ s3_archive.location }}"
    bucket: uploads
    fail_on: never
  register: drift
"""

RETURN = r"""
target:
  description: The bucket/prefix checked.
  returned: success
  type: str
  sample: s3://uploads/
expected:
  description: Objects the manifest lists.
  returned: success
  type: int
  sample: 3
matched:
  description: Objects whose size, sha256 (and metadata) match.
  returned: success
  type: int
  sample: 3
missing:
  description: Keys listed in the manifest but absent (up to 1000; RV(counts) has the totals).
  returned: success
  type: list
  elements: str
  sample: []
extra:
  description: Keys present but not in the manifest (up to 1000).
  returned: success
  type: list
  elements: str
  sample: ["tmp/upload.part"]
differing:
  description: Objects that differ (C(key), C(reason)) (up to 1000).
  returned: success
  type: list
  elements: dict
  sample: [{"key": "a.txt", "reason": "size 3 != 4; sha256 ... != ..."}]
counts:
  description: Totals of C(missing), C(extra), C(differing) and C(unsafe) (keys refused because of C(..) segments).
  returned: success
  type: dict
  sample: {"missing": 0, "extra": 1, "differing": 0, "unsafe": 0}
bytes:
  description: Bytes re-read and hashed.
  returned: success
  type: int
  sample: 42
duration:
  description: Seconds spent.
  returned: success
  type: float
  sample: 0.2
verdict:
  description: Evidence contract; C(fail) on any difference, C(pending) when the manifest lists nothing.
  returned: always
  type: dict
  sample: {"status": "pass", "summary": "all 3 objects at s3://uploads/ match the manifest (re-read and hashed)",
           "evidence": {}}
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.deploysafe.preflight.plugins.module_utils.deps import requires
from ansible_collections.deploysafe.preflight.plugins.module_utils.s3.client import (
    S3Conn, failure_message, s3_argument_spec)
from ansible_collections.deploysafe.preflight.plugins.module_utils.s3.verdicts import verify_verdict
from ansible_collections.deploysafe.preflight.plugins.module_utils.s3.verify import VerifyOptions, run_verify
from ansible_collections.deploysafe.preflight.plugins.module_utils.verdict import FAIL_ON, gate_failed


def main():
    spec = s3_argument_spec()
    spec.update(
        manifest=dict(type="str", required=True),
        bucket=dict(type="str", required=True),
        prefix=dict(type="str"),
        concurrency=dict(type="int", default=8),
        check_extra=dict(type="bool", default=True),
        compare_metadata=dict(type="bool", default=True),
        fail_on=dict(type="str", choices=list(FAIL_ON), default="fail"),
    )
    module = AnsibleModule(argument_spec=spec, supports_check_mode=True)
    p = module.params
    requires(module, "boto3")
    conn = S3Conn.from_params(p)
    opts = VerifyOptions(manifest=p["manifest"], bucket=p["bucket"], prefix=p["prefix"], concurrency=p["concurrency"],
                         check_extra=p["check_extra"], compare_metadata=p["compare_metadata"])
    try:
        result = run_verify(conn, opts)
    except Exception as exc:
        msg = failure_message(exc, "s3_verify", f"of bucket {p['bucket']!r} at {conn.where}")
        if msg is None:
            raise
        module.fail_json(msg=msg)
    verdict = verify_verdict(result)
    out = dict(changed=False, target=result.target, expected=result.expected, matched=result.matched,
               missing=result.missing, extra=result.extra, differing=result.differing, counts=result.counts,
               bytes=result.bytes, duration=result.duration_s, verdict=verdict)
    if gate_failed(verdict["status"], p["fail_on"]):
        module.fail_json(msg=f"s3_verify: {verdict['summary']}", **out)
    module.exit_json(**out)


if __name__ == "__main__":
    main()
