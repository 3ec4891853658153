#!/usr/bin/python
# Copyright: (c) 2026, deploysafe.preflight contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: signoff
short_description: Record a human go/no-go sign-off for the pre-deployment checklist
version_added: 0.1.0
description:
  - Stores who decided, when, the decision (C(approve) or C(reject)), a comment and a change ticket as
    C(<run_dir>/signoff.json) through the verdict contract (approve is C(pass), reject is C(fail)).
  - An approval is refused while a critical checklist item is not C(pass), unless O(override_reason) is
    given; the sign-off is then recorded as an override and every report shows it. An override does not
    turn failed evidence into a pass; the checklist decision still follows the items.
  - The record keeps a fingerprint of each item's verdict; when evidence changes after the sign-off,
    M(deploysafe.preflight.checklist_report) treats the sign-off as pending until it is given again.
  - Recording the same decision again (same signer, comment, ticket, override and evidence) leaves the
    file alone.
options:
  run_dir:
    description: Directory of the pre-deployment run holding the verdict files.
    type: path
    required: true
  decision:
    description: The human decision.
    type: str
    required: true
    choices: [approve, reject]
  by:
    description:
      - Identity of the person signing (AWX C(awx_user_name) or a survey answer; on the command line
        C(-e preflight_signoff_by=...)).
    type: str
    required: true
  comment:
    description: Free-text comment stored with the sign-off.
    type: str
    default: ""
  change_ticket:
    description: Change ticket or request this sign-off belongs to.
    type: str
    default: ""
  override_reason:
    description: Required to approve while critical items are not C(pass); recorded as an override.
    type: str
    default: ""
  context:
    description: Extra context stored with the record (for example AWX job ids); not compared for idempotence.
    type: dict
    default: {}
  items:
    description: The checklist items, as in M(deploysafe.preflight.checklist_report).
    type: list
    elements: dict
    default: []
  critical:
    description: Criticality overrides, as in M(deploysafe.preflight.checklist_report).
    type: dict
    default: {}
  max_age:
    description: Verdicts older than this are not pass (see M(deploysafe.preflight.checklist_report)).
    type: str
    default: ""
extends_documentation_fragment:
  - deploysafe.preflight.verdict
  - deploysafe.preflight.attributes
  - deploysafe.preflight.attributes.no_diff
attributes:
  check_mode:
    support: full
    details: Evaluates and refuses exactly as a real run would; writes nothing.
author:
  - deploysafe.preflight contributors (@deploysafe)
"""

EXAMPLES = r"""
- name: Approve the deployment
  deploysafe.preflight.signoff:
    run_dir: "{{ preflight_run_dir }}"
    decision: approve
    by: "{{ preflight_signoff_by | default(awx_user_name) }}"
    change_ticket: CHG-1234
    comment: reviewed the report with the on-call DBA

- name: Approve despite an open item, recorded as an override
  deploysafe.preflight.signoff:
    run_dir: "{{ preflight_run_dir }}"
    decision: approve
    by: alice
    override_reason: load test environment down; accepted by the service owner
"""

RETURN = r"""
path:
  description: Path of the sign-off record.
  returned: always
  type: str
  sample: /var/lib/preflight/run1/signoff.json
record:
  description: The stored (or, in check mode, planned) record with C(verdict) and C(details).
  returned: always
  type: dict
  sample: {"name": "signoff", "verdict": {"status": "pass", "summary": "approved by alice"},
           "details": {"decision": "approve", "by": "alice", "override": false}}
override:
  description: Whether the approval was given while critical items were not pass.
  returned: always
  type: bool
  sample: false
verdict:
  description: The sign-off verdict (C(pass) for approve, C(fail) for reject).
  returned: always
  type: dict
  sample: {"status": "pass", "summary": "approved by alice (CHG-1234)", "evidence": {"artifacts": [], "findings": {"override": 0}, "measurements": []}}
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.deploysafe.preflight.plugins.module_utils.checklist.module_support import run_signoff


def main():
    module = AnsibleModule(
        argument_spec=dict(
            run_dir=dict(type="path", required=True),
            decision=dict(type="str", required=True, choices=["approve", "reject"]),
            by=dict(type="str", required=True),
            comment=dict(type="str", default=""),
            change_ticket=dict(type="str", default=""),
            override_reason=dict(type="str", default=""),
            context=dict(type="dict", default={}),
            items=dict(type="list", elements="dict", default=[]),
            critical=dict(type="dict", default={}),
            max_age=dict(type="str", default=""),
        ),
        supports_check_mode=True,
    )
    result, error = run_signoff(module.params, module.check_mode)
    if error:
        module.fail_json(msg=error)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
