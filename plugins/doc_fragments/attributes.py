# Copyright: (c) 2026, deploysafe.preflight contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:
    # What the attributes mean; every module extends this one and states its own `support` (and,
    # when it says something specific, `details`), or adds one of the variants below.
    # (community.docker's `attributes` fragment does the same.)
    DOCUMENTATION = r"""
options: {}
attributes:
  check_mode:
    description: Can run in check mode and report what it would do without changing anything.
  diff_mode:
    description: Returns details on what changed (or would change) when run in diff mode.
"""

    # Checks that only read (a service, an artifact, a bucket): check mode runs the very same check.
    READ_ONLY = r"""
options: {}
attributes:
  check_mode:
    support: full
    details: Only reads; runs the same checks in check mode and returns the same verdict.
  diff_mode:
    support: N/A
    details: Nothing on the target changes, so there is nothing to diff.
"""

    # Modules that write something (an artifact, a report, a bucket) but have no before/after state
    # to show; they state their own check_mode support and details.
    NO_DIFF = r"""
options: {}
attributes:
  diff_mode:
    support: none
    details: The result says what was written or changed (or would be, in check mode); no before/after diff is produced.
"""
