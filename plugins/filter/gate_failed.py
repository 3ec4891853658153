# Copyright: (c) 2026, deploysafe.preflight contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: gate_failed
short_description: Whether a verdict status must fail the task under a gate option
version_added: 0.1.0
description:
  - The one definition of the gate option C(fail_on) that every role and check module shares, for
    roles to use in conditions.
  - C(fail) fails on a C(fail) status; C(pending) also on C(pending) (anything but C(pass)); C(never)
    never fails.
options:
  _input:
    description: The verdict status, C(pass), C(fail) or C(pending).
    type: str
    required: true
  fail_on:
    description: The gate option.
    type: str
    choices: [fail, pending, never]
    required: true
author:
  - deploysafe.preflight contributors (@deploysafe)
"""

EXAMPLES = r"""
- name: Stop when the verdict is not acceptable
  ansible.builtin.assert:
    that: not (my_verdict.status | deploysafe.preflight.gate_failed(my_role_fail_on))
"""

RETURN = r"""
_value:
  description: True when the task must fail.
  type: bool
"""

from ansible.errors import AnsibleFilterError
from ansible_collections.deploysafe.preflight.plugins.module_utils.verdict import gate_failed as _gate_failed


def gate_failed(status, fail_on):
    try:
        return _gate_failed(str(status), str(fail_on))
    except ValueError as exc:
        raise AnsibleFilterError(f"gate_failed: {exc}") from exc


class FilterModule:
    def filters(self):
        return {"gate_failed": gate_failed}
