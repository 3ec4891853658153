#!/usr/bin/python
# Copyright: (c) 2026, deploysafe.preflight contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: s3_scratch_bucket
short_description: Create or remove a tagged scratch bucket for restore rehearsals
version_added: 0.1.0
description:
  - O(state=present) creates O(name) tagged C(deploysafe-scratch=true); an existing bucket without that tag is refused.
  - O(state=absent) deletes every object version, delete marker and unfinished multipart upload of O(name) and then
    the bucket, but only when it carries the tag, so a mistyped name cannot delete real data.
options:
  name:
    description: Bucket name.
    type: str
    required: true
  state:
    description: C(present) or C(absent).
    type: str
    choices: [present, absent]
    default: present
extends_documentation_fragment:
  - deploysafe.preflight.s3
  - deploysafe.preflight.attributes
  - deploysafe.preflight.attributes.no_diff
attributes:
  check_mode:
    support: full
    details: Reports what would be created or deleted.
requirements:
  - boto3 (Python library)
author:
  - deploysafe.preflight contributors (@deploysafe)
"""

EXAMPLES = r"""
- name: Remove the restore rehearsal bucket
  deploysafe.preflight.s3_scratch_bucket:
    endpoint_url: https://minio.internal:9000
    name: restore-check-20261125
    state: absent
"""

RETURN = r"""
deleted_objects:
  description: Object versions and delete markers removed (O(state=absent)).
  returned: when state is absent
  type: int
  sample: 42
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.deploysafe.preflight.plugins.module_utils.deps import requires
from ansible_collections.deploysafe.preflight.plugins.module_utils.s3.client import (
    S3Conn, failure_message, make_client, s3_argument_spec)
from ansible_collections.deploysafe.preflight.plugins.module_utils.s3.scratch import ensure_scratch, remove_scratch


def main():
    spec = s3_argument_spec()
    spec.update(name=dict(type="str", required=True),
                state=dict(type="str", choices=["present", "absent"], default="present"))
    module = AnsibleModule(argument_spec=spec, supports_check_mode=True)
    p = module.params
    requires(module, "boto3")
    conn = S3Conn.from_params(p)
    try:
        client = make_client(conn)
        if p["state"] == "present":
            result = ensure_scratch(client, p["name"], check=module.check_mode)
        else:
            result = remove_scratch(client, p["name"], check=module.check_mode)
    except Exception as exc:
        msg = failure_message(exc, f"s3_scratch_bucket state={p['state']}", f"for bucket {p['name']!r} at {conn.where}")
        if msg is None:
            raise
        module.fail_json(msg=msg)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
