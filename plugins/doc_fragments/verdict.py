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
