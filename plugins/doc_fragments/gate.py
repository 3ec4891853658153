# Copyright: (c) 2026, deploysafe.preflight contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:
    # fail_on for the checks that only report (health_check, prometheus_gate, pg_health): default never,
    # because their roles record the verdict first and gate with <role>_fail_on afterwards. The
    # verification modules use deploysafe.preflight.verdict.fail_on (default fail).
    DOCUMENTATION = r"""
options:
  fail_on:
    description:
      - Which verdicts fail the task. C(fail) fails it when the verdict is C(fail); C(pending) also when it is
        C(pending), that is whenever the check did not earn a C(pass); C(never) only returns the verdict, for
        the checklist or a role's gate to decide.
      - The verdict is returned in every case. Errors (bad input, an unreachable service) fail the task whatever
        this says.
    type: str
    choices: [fail, pending, never]
    default: never
"""

    # The boolean the verification modules had before fail_on, kept so existing tasks keep working.
    FAIL_ON_MISMATCH = r"""
options:
  fail_on_mismatch:
    description:
      - Deprecated, use O(fail_on). V(true) means O(fail_on=fail), V(false) means O(fail_on=never).
        Not together with O(fail_on).
    type: bool
"""
