# Copyright: (c) 2026, deploysafe.preflight contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:
    # Notes shared by every check module that returns the evidence contract.
    DOCUMENTATION = r"""
options: {}
notes:
  - Returns C(verdict) with C(status) C(pass), C(fail) or C(pending), a C(summary) and C(evidence)
    (C(artifacts) with path and sha256, C(findings) counts, C(measurements) with units).
    C(pending) means the check could not decide and never counts as a pass.
  - Store the verdict for the checklist with M(deploysafe.preflight.record_verdict).
"""

    # The one gate option of the check modules (verdict.FAIL_ON / verdict.gate_failed); roles expose
    # it as <role>_fail_on and pass fail_on=never to the modules when their own gate decides. One default
    # for every module: a check whose verdict is fail fails its task unless told otherwise.
    FAIL_ON = r"""
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
    default: fail
    version_added: 0.1.0
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
