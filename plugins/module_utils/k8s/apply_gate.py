# Copyright: (c) 2026, deploysafe.preflight contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""May the release be applied to production? Only on the checklist's `go` for this very run: the report
<run_dir>/report/checklist.json must say decision `go` and name the run that is current now, so a `go`
of an earlier run (or of another release's run directory) can never open the gate; and the manifests to
apply must hash as the ones the run recorded (run.json's release), so a go cannot be spent on other files."""

from __future__ import annotations

import json
from typing import Any, Dict, List, Optional

from ..checklist.evaluate import GO
from ..checklist.publish import default_report_dir, report_path
from ..run import RunError, current_run, tree_sha256
from . import K8sError


class ApplyRefused(K8sError):
    """The apply was not allowed; nothing was applied."""


def default_decision_file(run_dir: str) -> str:
    """<run_dir>/report/checklist.json: where the checklist role writes its report by default."""
    return report_path(default_report_dir(run_dir)) if run_dir else ""


def this_run(run_dir: str, run_id: str) -> Dict[str, Any]:
    """The current run's record: run.json's in run_dir (checked against run_id when both are given).
    Raises ApplyRefused when there is none; never starts a run."""
    record: Optional[Dict[str, Any]] = None
    if run_dir:
        try:
            record = current_run(run_dir, run_id, create=False)
        except RunError as exc:
            raise ApplyRefused(f"apply refused: {exc}") from None
    if record is not None:
        return record
    raise ApplyRefused("apply refused: no current run to check the go decision against "
                       f"({'no run.json in ' + run_dir if run_dir else 'set run_dir'})")


def require_same_manifests(run: Dict[str, Any], paths: List[str], content: Optional[str]) -> str:
    """The manifests hash when `paths` hash as the run recorded; raises ApplyRefused otherwise."""
    recorded = (run.get("release") or {}).get("manifests_sha256")
    if not recorded:
        raise ApplyRefused(f"apply refused: run {run['run_id']} recorded no manifests hash (started without "
                           "manifests), so its go cannot vouch for what would be applied")
    if content or not paths:
        raise ApplyRefused("apply refused: give the manifests as paths (not content), so they can be matched "
                           f"against the hash run {run['run_id']} recorded")
    try:
        now = tree_sha256(paths)
    except OSError as exc:
        raise ApplyRefused(f"apply refused: cannot hash the manifests: {exc}") from None
    if now != recorded:
        raise ApplyRefused(f"apply refused: the manifests hash {now}, not {recorded} as run {run['run_id']} "
                           "recorded: these are not the manifests its checks passed")
    return now


def require_go(decision_file: str, run_dir: str = "", run_id: str = "", paths: Optional[List[str]] = None,
               content: Optional[str] = None) -> Dict[str, Any]:
    """The checklist report's decision, run_id and reason when it is a `go` for the current run and the
    manifests are the run's; raises ApplyRefused with what is wrong otherwise."""
    run = this_run(run_dir, run_id)
    current = run["run_id"]
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
    manifests_sha256 = require_same_manifests(run, list(paths or []), content)
    return {"decision": decision, "run_id": current, "decision_file": path, "reason": reason,
            "generated_at": report.get("generated_at"), "manifests_sha256": manifests_sha256}
