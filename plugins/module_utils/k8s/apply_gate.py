# Copyright: (c) 2026, deploysafe.preflight contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""May the release be applied to production? Only on the checklist's `go` for this very run: the report
<run_dir>/report/checklist.json must say decision `go` and name the run that is current now, so a `go`
of an earlier run (or of another release's run directory) can never open the gate."""

from __future__ import annotations

import json
import os
from typing import Any, Dict, Optional

from ..checklist.evaluate import GO
from ..checklist.publish import FORMATS
from ..run import RunError, current_run
from . import K8sError

REPORT_SUBDIR = "report"  # where the checklist role publishes by default (<run_dir>/report)


class ApplyRefused(K8sError):
    """The apply was not allowed; nothing was applied."""


def default_decision_file(run_dir: str) -> str:
    """<run_dir>/report/checklist.json: where the checklist role writes its report by default."""
    return os.path.join(run_dir, REPORT_SUBDIR, FORMATS["json"][0]) if run_dir else ""


def this_run(run_dir: str, run_id: str) -> str:
    """The id of the current run: run.json's in run_dir (checked against run_id when both are given), else
    run_id. Raises ApplyRefused when neither names one; never starts a run."""
    record: Optional[Dict[str, Any]] = None
    if run_dir:
        try:
            record = current_run(run_dir, run_id, create=False)
        except RunError as exc:
            raise ApplyRefused(f"apply refused: {exc}") from None
    if record is not None:
        return record["run_id"]
    if run_id:
        return run_id
    raise ApplyRefused("apply refused: no current run to check the go decision against "
                       f"({'no run.json in ' + run_dir if run_dir else 'set run_dir or run_id'})")


def require_go(decision_file: str, run_dir: str = "", run_id: str = "") -> Dict[str, Any]:
    """The checklist report's decision, run_id and reason when it is a `go` for the current run; raises
    ApplyRefused with what is wrong otherwise."""
    current = this_run(run_dir, run_id)
    path = decision_file or default_decision_file(run_dir)
    if not path:
        raise ApplyRefused("apply refused: no decision_file (the checklist report) and no run_dir to find it in")
    try:
        with open(path, encoding="utf-8") as handle:
            report = json.load(handle)
    except FileNotFoundError:
        raise ApplyRefused(f"apply refused: no checklist report at {path}; run the checklist for run {current} "
                           "first") from None
    except (OSError, ValueError) as exc:
        raise ApplyRefused(f"apply refused: checklist report {path} is unreadable: {exc}") from None
    if not isinstance(report, dict):
        raise ApplyRefused(f"apply refused: {path} is not a checklist report")
    decision, reason = report.get("decision"), report.get("decision_reason") or ""
    if decision != GO:
        raise ApplyRefused(f"apply refused: the checklist decision in {path} is {decision or 'missing'}, not {GO}"
                           + (f" ({reason})" if reason else ""))
    if report.get("run_id") != current:
        raise ApplyRefused(f"apply refused: the go in {path} belongs to run {report.get('run_id') or 'none'}, "
                           f"not to the current run {current}")
    return {"decision": decision, "run_id": current, "decision_file": path, "reason": reason,
            "generated_at": report.get("generated_at")}
