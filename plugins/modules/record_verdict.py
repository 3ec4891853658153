#!/usr/bin/python
# Copyright: (c) 2026, deploysafe.preflight contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: record_verdict
short_description: Store a check's verdict for the checklist, bound to the release run
version_added: 0.1.0
description:
  - Writes the evidence contract (O(verdict) with C(status), C(summary) and C(evidence)) of one check or
    role to C(<run_dir>/<name>.json), or C(<run_dir>/<name>@<host>.json) with O(host), atomically
    (temporary name, fsync, rename).
  - The record carries the C(run_id) and release identity of the run it belongs to (from
    C(<run_dir>/run.json), see M(deploysafe.preflight.start_run); a run is started on the spot when the
    directory has none), the host, the producer (the modules that computed the verdict), C(recorded_at)
    (when this content was first recorded) and C(verified_at) (refreshed on every call, also when
    nothing else changed). The checklist treats a record from another run, from the future or older
    than its C(max_age) as C(pending).
  - The contract is enforced, not trusted. A C(pass) that names no artifact and no measurement is
    refused; a C(pass) carrying a measurement with C(ok=false) is stored as C(fail). A verdict without a producer
    (written by hand, not returned by a module of this collection) is stored as C(manual) with
    O(recorded_by), and every report shows it as manual.
  - Run it on the controller (C(delegate_to=localhost)) when the role ran against a managed host, so
    the checklist finds every host's record in one place; the C(deploysafe.preflight.verdict_gate) role
    does this.
  - The task reports C(changed) when the stored verdict, details, run or host differ; refreshing
    C(verified_at) alone is not a change.
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
        C(summary) and C(evidence) (C(artifacts), C(findings), C(measurements)), and C(producer) when a
        module of this collection computed it.
    type: dict
    required: true
  details:
    description: Extra data stored beside the verdict (for example the module's full result).
    type: dict
    default: {}
  run_id:
    description:
      - The run this verdict belongs to. Must match C(<run_dir>/run.json) when that exists. Empty uses
        the run of C(run.json), or starts one when there is none.
    type: str
    default: ""
  host:
    description:
      - The managed host the verdict is about. One record per host (C(<name>@<host>.json)), so hosts
        never overwrite each other; the checklist item fails when any host's record fails.
    type: str
  recorded_by:
    description:
      - Who recorded a manual verdict (one without a producer). Defaults to the user running the module.
    type: str
extends_documentation_fragment:
  - deploysafe.preflight.attributes
attributes:
  check_mode:
    support: full
    details: Reports whether the record would change; writes nothing.
  diff_mode:
    support: full
    details: Shows the stored record before and after.
author:
  - deploysafe.preflight contributors (@deploysafe)
"""

EXAMPLES = r"""
- name: Record the backup verdict on the controller, one record per database host
  deploysafe.preflight.record_verdict:
    run_dir: "{{ preflight_run_dir }}"
    run_id: "{{ preflight_run_id | default('') }}"
    name: pg_backup
    host: "{{ inventory_hostname }}"
    verdict: "{{ backup_result.verdict }}"
  delegate_to: localhost

- name: Record a decision taken by hand (shown as manual in every report)
  deploysafe.preflight.record_verdict:
    run_dir: "{{ preflight_run_dir }}"
    name: backup_schedule
    recorded_by: "{{ awx_user_name | default(lookup('ansible.builtin.env', 'USER')) }}"
    verdict:
      status: fail
      summary: nightly backup timer not installed on db2 yet (CHG-1234)
      evidence: {artifacts: [], findings: {missing_timers: 1}, measurements: []}
"""

RETURN = r"""
path:
  description: Path of the stored record.
  returned: always
  type: str
  sample: /var/lib/preflight/run-20261125/pg_backup@db1.json
record:
  description:
    - The stored document (C(format), C(name), C(host), C(run_id), C(release), C(producer), C(manual),
      C(recorded_by), C(recorded_at), C(verified_at), C(verdict), C(details)).
  returned: always
  type: dict
  sample: {"format": 2, "name": "pg_backup", "host": "db1", "run_id": "20261203T074512Z-9f3a61c2b0d4",
           "manual": false, "recorded_at": "2026-12-03T08:00:00Z", "verified_at": "2026-12-03T08:00:00Z",
           "verdict": {"status": "pass", "summary": "backup verified", "evidence": {}}, "details": {}}
run_id:
  description: The run the verdict was recorded under.
  returned: always
  type: str
"""

import getpass
import json
import os
import re

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.deploysafe.preflight.plugins.module_utils.run import RunError, current_run
from ansible_collections.deploysafe.preflight.plugins.module_utils.verdict import (
    earned, failed_measurements, record_path, verdict_record, write_record,
)

# What makes a record "the same"; the timestamps do not.
_SAME_KEYS = ("format", "name", "host", "run_id", "verdict", "details", "manual", "recorded_by")


def _read(path):
    if not os.path.exists(path):
        return None
    try:
        with open(path, encoding="utf-8") as handle:
            record = json.load(handle)
        return record if isinstance(record, dict) else {"unreadable": True}
    except (OSError, ValueError):
        return {"unreadable": True}


def main():
    module = AnsibleModule(
        argument_spec=dict(
            run_dir=dict(type="path", required=True),
            name=dict(type="str", required=True),
            verdict=dict(type="dict", required=True),
            details=dict(type="dict", default={}),
            run_id=dict(type="str", default=""),
            host=dict(type="str"),
            recorded_by=dict(type="str"),
        ),
        supports_check_mode=True,
    )
    p = module.params
    run_dir, name = p["run_dir"], p["name"]
    if not re.fullmatch(r"[A-Za-z0-9_.-]+", name) or name.startswith(".") or name in ("run", "signoff"):
        module.fail_json(msg=f"name {name!r} must be a plain file name (letters, digits, _ - .), not run or signoff")
    verdict = p["verdict"]
    manual = not (verdict.get("producer") or {}).get("modules")
    recorded_by = (p["recorded_by"] or getpass.getuser()) if manual else p["recorded_by"]
    try:
        # A measurement that is not ok makes the verdict fail; a pass without evidence is refused (validate).
        if isinstance(verdict.get("evidence"), dict) and failed_measurements(verdict["evidence"]):
            verdict = earned(verdict)
        run = current_run(run_dir, p["run_id"], create=not module.check_mode) or {
            "run_id": p["run_id"] or "(new run)", "release": {}}
        record = verdict_record(name, verdict, p["details"], run=run, host=p["host"], recorded_by=recorded_by)
    except RunError as exc:
        module.fail_json(msg=f"record_verdict {name}: {exc}")
    except ValueError as exc:
        module.fail_json(msg=f"verdict for {name!r} does not follow the evidence contract: {exc}")
    path = record_path(run_dir, name, p["host"])
    before = _read(path)
    same = before is not None and all(before.get(k) == record[k] for k in _SAME_KEYS)
    if same:
        record["recorded_at"] = before.get("recorded_at", record["recorded_at"])
    result = dict(changed=not same, path=path, record=record, run_id=record["run_id"])
    if module._diff:
        result["diff"] = dict(before=json.dumps(before, indent=2, sort_keys=True) + "\n" if before else "",
                              after=json.dumps(record, indent=2, sort_keys=True) + "\n",
                              before_header=path, after_header=path)
    if not module.check_mode:
        try:
            write_record(path, record)
        except OSError as exc:
            module.fail_json(msg=f"cannot write verdict to {path}: {exc.strerror or exc}")
    module.exit_json(**result)


if __name__ == "__main__":
    main()
