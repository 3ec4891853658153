# Copyright: (c) 2026, deploysafe.preflight contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The drill's verdict and report: the rto_rpo verdict from the clock, then the checklist's report model
over the drill's items (each a verdict record of this run in the drill's run directory), with the drill's
own decision, rendered by the checklist's renderers into drill.json / .md / .html / .junit.xml."""

from __future__ import annotations

import os
from typing import Any, Dict, List, Optional, Sequence, Tuple

from ..checklist.evaluate import evaluate
from ..checklist.items import ChecklistError, build_items
from ..checklist.publish import default_report_dir, publish
from ..run import RunError, current_run
from ..verdict import (FAIL, PASS, PENDING, artifact, make_verdict, measurement, produced_by, record_path,
                       verdict_record, write_record)
from . import DrillError
from .clock import read_clock, rpo_seconds, rto_seconds

TIMING_ITEM = "rto_rpo"
SERVICES = {"postgresql": "pg_", "s3": "s3_", "pgbackrest": "pgbr_"}
# (name, title): the steps of playbooks/dr_drill.yml in order, each recorded as <run_dir>/<name>.json.
DRILL_ITEMS = (
    ("pg_backup", "PostgreSQL backed up"),
    ("pg_backup_verify", "PostgreSQL backup verified (sha256, decryption, decompression)"),
    ("s3_backup", "Bucket backed up (archive)"),
    ("s3_backup_verify", "Bucket backup verified (sha256, decryption, decompression)"),
    ("pg_scratch_copy", "Scratch database made from the backup, equal to the source"),
    ("s3_scratch_copy", "Scratch bucket made from the backup, equal to the source"),
    ("pg_restore", "Scratch database destroyed, re-created and restored"),
    ("s3_restore", "Scratch bucket destroyed, re-created and restored"),
    ("pg_restore_verify", "Restored database equal to the source (row counts, content hashes)"),
    ("pgbr_backup", "PostgreSQL backed up with pgBackRest, WAL archiving checked, repository verified"),
    ("pgbr_restore_verify", "pgBackRest restore into a scratch cluster proven (recovery to the target, "
                            "pg_amcheck, markers, row counts)"),
    ("s3_restore_verify", "Restored bucket equal to the source (keys, sha256)"),
    (TIMING_ITEM, "RTO and RPO within their targets"),
)
REPORT_BASENAME = "drill"


def timing_verdict(clock: Optional[Dict[str, Any]], rto_target: float, rpo_target: float) -> Dict[str, Any]:
    """pass when RTO and RPO are measured and within their targets, fail naming the measured value of a
    missed target, pending when the restore never started or never reached verified."""
    if clock is None:
        return make_verdict(PENDING, "RTO and RPO not measured: the restore never started "
                                     "(an earlier drill step failed or did not run)")
    backups = [artifact(b["path"], sha256=b["sha256"], kind=f"backup:{b['source']}") if os.path.exists(b["path"])
               else {"path": b["path"], "sha256": b["sha256"], "size_bytes": b["size_bytes"], "kind": f"backup:{b['source']}"}
               for b in clock.get("backups") or []]
    ages = [measurement(f"backup_age_{b['source']}", round(clock["restore_started"]["wall"] - b["started_epoch"], 3), "s")
            for b in clock.get("backups") or []]
    rpo = rpo_seconds(clock)
    rto = rto_seconds(clock)
    parts, measurements = [], list(ages)
    if rpo is None and clock.get("rpo_record") and not clock.get("future_backups"):
        return make_verdict(PENDING, f"RPO not measured: {clock['rpo_record']} recorded no rpo measurement of this run "
                            "(the restore was not verified)", artifacts=backups, measurements=measurements)
    if rpo is None:
        return make_verdict(PENDING, "RPO not measured: backups " + ", ".join(clock.get("future_backups") or ["(none)"])
                            + " start after the restore did (clock skew between hosts?)", artifacts=backups,
                            measurements=measurements)
    measurements.append(measurement("rpo", rpo, "s", rpo_target, "<="))
    parts.append(f"RPO {rpo} s {'<=' if rpo <= rpo_target else 'exceeds the target'} {rpo_target} s")
    if rto is None:
        return make_verdict(PENDING, f"RTO not measured: the restore started at {clock['restore_started']['at']} "
                            "but was never verified (a restore or verification step failed or did not run); "
                            + parts[0], artifacts=backups, measurements=measurements)
    measurements.insert(0, measurement("rto", rto, "s", rto_target, "<="))
    parts.insert(0, f"RTO {rto} s {'<=' if rto <= rto_target else 'exceeds the target'} {rto_target} s")
    ok = rto <= rto_target and rpo <= rpo_target
    return make_verdict(PASS if ok else FAIL, "; ".join(parts), artifacts=backups, measurements=measurements)


def _run(run_dir: str, run_id: str, check: bool) -> Dict[str, Any]:
    """The drill's run (run.json, checked against run_id)."""
    try:
        run = current_run(run_dir, run_id, create=not check)
    except RunError as exc:
        raise DrillError(str(exc)) from None
    return run or {"run_id": run_id or "(new run)", "release": {}}


def drill_decision(items: List[Dict[str, Any]]) -> Tuple[str, str]:
    """pass only when every item passed; fail when one failed (with its summary); pending otherwise."""
    failed = [i for i in items if i["status"] == FAIL]
    open_ = [i for i in items if i["status"] == PENDING]
    timing = next((i for i in items if i["name"] == TIMING_ITEM), None)
    if failed:
        reason = "failed: " + "; ".join(f"{i['name']} ({i['summary']})" for i in failed)
        if open_:
            reason += "; not run or undecided: " + ", ".join(i["name"] for i in open_)
        return FAIL, reason
    if open_:
        return PENDING, "not run or undecided: " + "; ".join(f"{i['name']} ({i['reason'] or i['summary']})" for i in open_)
    return PASS, f"every drill step passed; {timing['summary'] if timing else 'no timing item'}"


def drill_items(services: Sequence[str] = tuple(SERVICES)) -> List[Dict[str, Any]]:
    """The drill's items for the services it covers (postgresql, s3), plus rto_rpo; all critical."""
    unknown = sorted(set(services) - set(SERVICES))
    if unknown or not services:
        raise DrillError(f"services must be a non-empty list of {sorted(SERVICES)}, got {list(services)}")
    prefixes = tuple(SERVICES[s] for s in services)
    return [{"id": n, "name": name, "title": title, "critical": True} for n, (name, title) in enumerate(
        [i for i in DRILL_ITEMS if i[0] == TIMING_ITEM or i[0].startswith(prefixes)], 1)]


def drill_report(run_dir: str, run_id: str, rto_target: float, rpo_target: float, *,
                 services: Sequence[str] = tuple(SERVICES),
                 report_dir: Optional[str] = None, formats: Tuple[str, ...] = ("json", "markdown", "html", "junit"),
                 title: str = "Disaster-recovery drill", stopped_after: str = "", check: bool = False,
                 now: Optional[float] = None) -> Dict[str, Any]:
    """Record the rto_rpo verdict, evaluate the drill's items into the report model, publish it.

    Returns {model, timing, clock, changed, reports}. The model is the checklist's (items, counts, evidence);
    its decision is the drill's (pass/fail/pending), since a drill has no sign-off. stopped_after names the
    step after which the drill stopped: the items it left without a record say so.
    """
    if rto_target <= 0 or rpo_target <= 0:
        raise DrillError(f"rto_target and rpo_target must be positive seconds, got {rto_target} and {rpo_target}")
    run = _run(run_dir, run_id, check)
    clock = read_clock(run_dir)
    if clock is not None and clock.get("run_id") != run["run_id"]:
        clock = None  # an earlier drill's clock in a reused directory never times this one
    timing = produced_by(timing_verdict(clock, rto_target, rpo_target), "dr_drill")
    if not check:
        write_record(record_path(run_dir, TIMING_ITEM), verdict_record(TIMING_ITEM, timing, {}, run=run))
    try:
        model = evaluate(run_dir, build_items(drill_items(services)), now=now, title=title,
                         run_id=run_id)
        if stopped_after:
            for item in model["items"]:
                if item["status"] == PENDING and item["recorded_at"] is None:  # nothing of this run
                    reason = f"not run: the drill stopped after {stopped_after}"
                    if item["reason"] != "no verdict recorded":
                        reason += f" ({item['reason']})"
                    item["summary"] = item["reason"] = reason
        decision, reason = drill_decision(model["items"])
        model.update(decision=decision, decision_reason=reason)
        changed, paths = publish(model, report_dir or default_report_dir(run_dir), formats,
                                 check_mode=check, basename=REPORT_BASENAME)
    except ChecklistError as exc:
        raise DrillError(str(exc)) from None
    return {"model": model, "timing": timing, "clock": clock, "changed": changed, "reports": paths}
