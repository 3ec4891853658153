#!/usr/bin/python
# Copyright: (c) 2026, deploysafe.preflight contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: dr_drill
short_description: The clock and the report of a disaster-recovery drill (RTO and RPO against targets)
version_added: 0.1.0
description:
  - The timing and reporting part of C(playbooks/dr_drill.yml); run it on the controller, in the drill's run
    directory (a run started with M(deploysafe.preflight.start_run), whose steps recorded their verdicts with
    M(deploysafe.preflight.record_verdict)).
  - O(action=start_restore) marks the start of the restore in C(<run_dir>/drill_clock.json) and records the
    backups the restore uses (path, sha256, size and C(started_at) from their sealed manifests).
    O(action=restore_verified) marks the end (and reads the RPO of O(rpo_record)). The marks are taken by this
    module when it runs (wall and monotonic clocks, with the boot id), never passed in by the play, so a value
    computed early or late by a template cannot stand for them.
  - B(RTO) is the time from the start mark to the verified mark, on the monotonic clock when both marks come
    from the same boot of the same host; it includes everything between them (re-creating the targets,
    restoring, verifying, and the Ansible overhead between those tasks). B(RPO) is the age, at the start mark,
    of the oldest backup used, dated by its manifest's C(started_at).
  - O(action=report) records the C(rto_rpo) verdict (C(fail) naming the measured value when a target is
    missed; C(pending) when the restore never started or was never verified) and evaluates the drill's items,
    each C(<run_dir>/<name>.json) of this run, with the checklist's rules (a missing, malformed or other-run
    record is C(pending)). The drill's decision is C(pass) only when every item passes, C(fail) when one fails,
    C(pending) otherwise. Writes C(drill.json) (the checklist's report model), C(drill.md), C(drill.html) and
    C(drill.junit.xml) into O(report_dir).
options:
  run_dir:
    description: The drill's run directory.
    type: path
    required: true
  run_id:
    description: The drill's run; must match C(<run_dir>/run.json). Empty uses the run of C(run.json).
    type: str
    default: ""
  action:
    description: C(start_restore), C(restore_verified) or C(report).
    type: str
    choices: [start_restore, restore_verified, report]
    required: true
  backups:
    description: With O(action=start_restore), the local backup artifacts the restore uses (their manifests lie beside them).
    type: list
    elements: path
    default: []
  rpo_record:
    description:
      - With O(action=start_restore), the record of this run whose C(rpo) measurement is the RPO of a restore that
        measures its own (C(pgbr_restore_verify), written from M(deploysafe.preflight.pgbackrest_restore_verify) - the
        WAL not archived yet at the target). Read at O(action=restore_verified); the RPO is the worse of it and the
        age of O(backups). Only a record of this run computed by a module of the collection counts.
    type: str
    default: ""
    version_added: 0.1.0
  rto_target:
    description: Longest acceptable RTO, in seconds (O(action=report)).
    type: float
    default: 900
  rpo_target:
    description: Oldest acceptable backup at the start of the restore, in seconds (O(action=report)).
    type: float
    default: 86400
  services:
    description:
      - What the drill covers (O(action=report)). C(postgresql) and C(s3) add five items each (backup, backup verified,
        scratch copy, restore, restored data verified; C(pg_*) or C(s3_*)); C(pgbackrest) (PostgreSQL through
        pgBackRest instead of C(pg_dump)) adds two (C(pgbr_backup), C(pgbr_restore_verify)). Each is read from
        C(<run_dir>/<name>.json); C(rto_rpo) is always an item. Every item is critical.
    type: list
    elements: str
    choices: [postgresql, s3, pgbackrest]
    default: [postgresql, s3]
  stopped_after:
    description:
      - With O(action=report), the step after which the drill stopped (it failed or errored); the items left
        without a record are shown as not run because of it (still C(pending)).
    type: str
    default: ""
  title:
    description: Title of the report.
    type: str
    default: Disaster-recovery drill
extends_documentation_fragment:
  - deploysafe.preflight.report
  - deploysafe.preflight.verdict.fail_on
  - deploysafe.preflight.verdict
  - deploysafe.preflight.attributes
  - deploysafe.preflight.attributes.no_diff
attributes:
  check_mode:
    support: full
    details: Computes the marks, the verdict and the report; writes no clock, record or report.
author:
  - deploysafe.preflight contributors (@deploysafe)
"""

EXAMPLES = r"""
- name: Start the restore clock (the backups give the RPO)
  deploysafe.preflight.dr_drill:
    run_dir: "{{ dr_drill_run_dir }}"
    action: start_restore
    backups: ["{{ pg.path }}", "{{ s3.path }}"]

- name: Stop it once the restored data is proven equal
  deploysafe.preflight.dr_drill:
    run_dir: "{{ dr_drill_run_dir }}"
    action: restore_verified

- name: Report against the targets
  deploysafe.preflight.dr_drill:
    run_dir: "{{ dr_drill_run_dir }}"
    action: report
    rto_target: 900
    rpo_target: 86400
    fail_on: never
  register: drill
"""

RETURN = r"""
clock:
  description: The drill clock (C(restore_started), C(restore_verified) marks, C(backups) used).
  returned: always
  type: dict
  sample: {"restore_started": {"at": "2026-12-03T10:00:00Z"}, "restore_verified": null, "backups": []}
rto_seconds:
  description: Measured RTO (null until the restore is verified).
  returned: always
  type: float
  sample: 3.412
rpo_seconds:
  description: Measured RPO (null before the restore started).
  returned: always
  type: float
  sample: 12.8
decision:
  description: The drill's decision, C(pass), C(fail) or C(pending).
  returned: when action is report
  type: str
  sample: pass
decision_reason:
  description: Why, in one line.
  returned: when action is report
  type: str
  sample: "every drill step passed; RTO 3.412 s <= 900.0 s; RPO 12.8 s <= 86400.0 s"
items:
  description: Every item with C(name), C(title), C(status), C(summary), C(reason) and C(evidence).
  returned: when action is report
  type: list
  elements: dict
  sample: [{"name": "pg_backup", "status": "pass", "summary": "backup written"}]
counts:
  description: Items per status and C(total).
  returned: when action is report
  type: dict
  sample: {"pass": 11, "fail": 0, "pending": 0, "total": 11}
reports:
  description: Path of each report by format (also in check mode, where nothing is written).
  returned: when action is report
  type: dict
  sample: {"json": "/var/lib/drill/report/drill.json", "html": "/var/lib/drill/report/drill.html"}
verdict:
  description: The drill's verdict (status = the decision; the RTO/RPO measurements and the backups used).
  returned: when action is report
  type: dict
  sample: {"status": "pass", "summary": "DR drill pass: every drill step passed", "evidence": {}}
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.deploysafe.preflight.plugins.module_utils.checklist.publish import report_argument_spec
from ansible_collections.deploysafe.preflight.plugins.module_utils.drill import DrillError
from ansible_collections.deploysafe.preflight.plugins.module_utils.drill.actions import drill_action
from ansible_collections.deploysafe.preflight.plugins.module_utils.verdict import FAIL_ON, stamp_module_verdicts


def main():
    module = AnsibleModule(
        argument_spec=dict(
            run_dir=dict(type="path", required=True),
            run_id=dict(type="str", default=""),
            action=dict(type="str", choices=["start_restore", "restore_verified", "report"], required=True),
            backups=dict(type="list", elements="path", default=[]),
            rpo_record=dict(type="str", default=""),
            rto_target=dict(type="float", default=900),
            rpo_target=dict(type="float", default=86400),
            services=dict(type="list", elements="str", choices=["postgresql", "s3", "pgbackrest"],
                          default=["postgresql", "s3"]),
            stopped_after=dict(type="str", default=""),
            **report_argument_spec("Disaster-recovery drill"),
            fail_on=dict(type="str", choices=list(FAIL_ON), default="fail"),
        ),
        supports_check_mode=True,
    )
    stamp_module_verdicts(module, "dr_drill")
    try:
        result, gate_message = drill_action(module.params, module.check_mode)
    except DrillError as exc:
        module.fail_json(msg=f"dr_drill {module.params['action']}: {exc}")
    if gate_message:
        module.fail_json(msg=gate_message, **result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
