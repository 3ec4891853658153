# Copyright: (c) 2026, deploysafe.preflight contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The disaster-recovery drill of playbooks/dr_drill.yml: its clock (RTO/RPO) and its report.

- clock: the restore's start and stop marks, written by the module itself into <run_dir>/drill_clock.json,
  with the backups the restore uses (their manifest's started_at gives the RPO)
- report: the rto_rpo verdict, and the drill's report model (the checklist's model over the drill's
  items), rendered and published by the checklist's renderers
Errors are DrillError.
"""

from __future__ import annotations

from ..errors import PreflightError


class DrillError(PreflightError):
    """A drill clock or report that cannot be used; the message says what and where."""
