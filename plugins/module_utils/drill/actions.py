# Copyright: (c) 2026, deploysafe.preflight contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the dr_drill module does with its parameters, testable without Ansible."""

from __future__ import annotations

import os
from typing import Any, Dict, Optional, Tuple

from ..verdict import artifact, gate_failed, make_verdict, measurement
from .clock import rpo_seconds, rto_seconds, start_restore, stop_restore
from .report import drill_report


def drill_action(params: Dict[str, Any], check: bool, now: Optional[float] = None
                 ) -> Tuple[Dict[str, Any], Optional[str]]:
    """(module result, message when the gate fails the task). Raises DrillError on bad input."""
    action, run_dir, run_id = params["action"], params["run_dir"], params.get("run_id") or ""
    if action == "start_restore":
        clock = start_restore(run_dir, run_id, params.get("backups") or [], check=check,
                              rpo_record=params.get("rpo_record") or "")
        return dict(changed=True, clock=clock, rto_seconds=None, rpo_seconds=rpo_seconds(clock)), None
    if action == "restore_verified":
        clock = stop_restore(run_dir, run_id, check=check)
        return dict(changed=True, clock=clock, rto_seconds=rto_seconds(clock), rpo_seconds=rpo_seconds(clock)), None
    out = drill_report(run_dir, run_id, float(params["rto_target"]), float(params["rpo_target"]),
                       services=params.get("services") or (), report_dir=params.get("report_dir"),
                       formats=tuple(params.get("formats") or ("json",)), title=params.get("title") or "Disaster-recovery drill",
                       stopped_after=params.get("stopped_after") or "",
                       check=check, now=now)
    model, timing, clock = out["model"], out["timing"], out["clock"]
    written = [] if check else [artifact(p, kind=f"report:{f}") for f, p in out["reports"].items() if os.path.exists(p)]
    c = model["counts"]
    verdict = make_verdict(
        model["decision"], f"DR drill {model['decision']}: {model['decision_reason']}",
        artifacts=timing["evidence"]["artifacts"] + written,
        measurements=timing["evidence"]["measurements"] + [measurement("items_evaluated", c["total"], "items")],
        findings={"items_failed": c["fail"], "items_pending": c["pending"]})
    result = dict(changed=out["changed"], clock=clock, rto_seconds=rto_seconds(clock) if clock else None,
                  rpo_seconds=rpo_seconds(clock) if clock else None, decision=model["decision"],
                  decision_reason=model["decision_reason"], items=model["items"], counts=c,
                  reports=out["reports"], verdict=verdict)
    message = None
    if gate_failed(verdict["status"], params.get("fail_on") or "fail"):
        message = f"DR drill is {verdict['status']} (fail_on {params.get('fail_on')}): {model['decision_reason']}"
    return result, message
