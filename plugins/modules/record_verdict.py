#!/usr/bin/python
# Copyright: (c) 2026, deploysafe.preflight contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: record_verdict
short_description: Store a check's verdict as C(<run_dir>/<name>.json) for the checklist
version_added: 0.1.0
description:
  - Writes the evidence contract (O(verdict) with C(status), C(summary) and C(evidence)) of one check or
    role to C(<run_dir>/<name>.json), atomically (temporary name, fsync, rename).
  - The checklist and the report are assembled from these files, so roles run in separate playbooks or
    AWX jobs can contribute to one report.
  - A file that already holds the same verdict and details is left alone, so the task is idempotent.
options:
  run_dir:
    description: Directory of the pre-deployment run; created when missing.
    type: path
    required: true
  name:
    description: Name of the check or role; the file is C(<name>.json). Letters, digits, C(_), C(-) and C(.).
    type: str
    required: true
  verdict:
    description:
      - The verdict returned by a check module, a dict with C(status) (C(pass), C(fail) or C(pending)),
        C(summary) and C(evidence) (C(artifacts), C(findings), C(measurements)).
    type: dict
    required: true
  details:
    description: Extra data stored beside the verdict (for example the module's full result).
    type: dict
    default: {}
extends_documentation_fragment:
  - deploysafe.preflight.attributes
attributes:
  check_mode:
    support: full
    details: Reports whether the file would change; writes nothing.
  diff_mode:
    support: full
    details: Shows the stored record before and after.
author:
  - deploysafe.preflight contributors (@deploysafe)
"""

EXAMPLES = r"""
- name: Record the backup verdict for the checklist
  deploysafe.preflight.record_verdict:
    run_dir: "{{ preflight_run_dir }}"
    name: pg_backup
    verdict: "{{ backup_result.verdict }}"
  when: preflight_run_dir | default('') | length > 0
"""

RETURN = r"""
path:
  description: Path of the stored record.
  returned: always
  type: str
  sample: /var/lib/preflight/run-20261125/pg_backup.json
record:
  description: The stored document (C(format), C(name), C(recorded_at), C(verdict), C(details)).
  returned: always
  type: dict
  sample: {"format": 1, "name": "pg_backup", "recorded_at": "2026-11-25T14:00:00Z",
           "verdict": {"status": "pass", "summary": "backup verified", "evidence": {}}, "details": {}}
"""

import json
import os
import re

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.deploysafe.preflight.plugins.module_utils.verdict import verdict_record, write_verdict


def main():
    module = AnsibleModule(
        argument_spec=dict(
            run_dir=dict(type="path", required=True),
            name=dict(type="str", required=True),
            verdict=dict(type="dict", required=True),
            details=dict(type="dict", default={}),
        ),
        supports_check_mode=True,
    )
    run_dir, name = module.params["run_dir"], module.params["name"]
    if not re.fullmatch(r"[A-Za-z0-9_.-]+", name) or name.startswith("."):
        module.fail_json(msg=f"name {name!r} must be a plain file name (letters, digits, _ - .)")
    try:
        record = verdict_record(name, module.params["verdict"], module.params["details"])
    except ValueError as exc:
        module.fail_json(msg=f"verdict for {name!r} does not follow the evidence contract: {exc}")
    path = os.path.join(run_dir, name + ".json")
    before = None
    if os.path.exists(path):
        try:
            with open(path, encoding="utf-8") as handle:
                before = json.load(handle)
        except (OSError, ValueError):
            before = {"unreadable": True}
    same = before is not None and all(before.get(k) == record[k] for k in ("format", "name", "verdict", "details"))
    if same:
        record = before
    result = dict(changed=not same, path=path, record=record)
    if module._diff:
        result["diff"] = dict(before=json.dumps(before, indent=2, sort_keys=True) + "\n" if before else "",
                              after=json.dumps(record, indent=2, sort_keys=True) + "\n",
                              before_header=path, after_header=path)
    if not same and not module.check_mode:
        try:
            write_verdict(run_dir, name, module.params["verdict"], module.params["details"])
        except OSError as exc:
            module.fail_json(msg=f"cannot write verdict to {path}: {exc.strerror or exc}")
    module.exit_json(**result)


if __name__ == "__main__":
    main()
