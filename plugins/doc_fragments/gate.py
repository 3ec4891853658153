# Copyright: (c) 2026, deploysafe.preflight contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:
    # The one gate option of the check modules (verdict.FAIL_ON, gate_failed()). Checks that only
    # report (the roles record first, then gate with <role>_fail_on) default to never.
    DOCUMENTATION = r"""
options:
  fail_on:
    description:
      - When the task itself fails, after returning the verdict. V(fail) fails it when the verdict is C(fail),
        V(pending) also when it is C(pending) (anything but C(pass)), V(never) leaves the decision to the caller
        or the checklist.
      - The collection's roles leave it at V(never), record the verdict, then gate with C(<role>_fail_on).
    type: str
    default: never
    choices: [fail, pending, never]
"""

    # Verification modules, which have always failed the task on a difference: default fail.
    VERIFY = r"""
options:
  fail_on:
    description:
      - When the task itself fails, after returning the verdict. V(fail) fails it when the verdict is C(fail)
        (a difference was found), V(pending) also when it is C(pending) (nothing could be proven), V(never)
        leaves the decision to the caller or the checklist.
      - The collection's roles set V(never), record the verdict, then gate with C(<role>_fail_on).
    type: str
    default: fail
    choices: [fail, pending, never]
  fail_on_mismatch:
    description:
      - Deprecated, use O(fail_on). V(true) means O(fail_on=fail), V(false) means O(fail_on=never).
        Not together with O(fail_on).
    type: bool
"""
