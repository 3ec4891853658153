# Copyright: (c) 2026, deploysafe.preflight contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The verdict of a PITR drill: one decided property per proof, RTO and RPO as measurements."""

from __future__ import annotations

from typing import Any, Dict, List, Optional

from ..verdict import FAIL, PASS, PENDING, make_verdict, measurement, status_from
from .restore_verify import DrillResult

_DECIDED = {PASS: True, FAIL: False, PENDING: None}


def _state(ok: Optional[bool]) -> str:
    return PENDING if ok is None else PASS if ok else FAIL


def drill_properties(r: DrillResult) -> Dict[str, str]:
    """pass/fail/pending per property; a property that could not be reached (the restore failed) is fail."""
    props: Dict[str, str] = {}
    if r.verify is not None:
        props["repository_verified"] = _state(r.verify.ok)
        if not r.verify.ok:
            return props
    props["wal_archived"] = _state(bool(r.wal.get("archived")))
    if not r.wal.get("archived"):
        return props
    props["restored"] = _state(not r.restore_error)
    if r.proof is not None:
        props["databases_connectable"] = _state(bool(r.proof.databases) and not r.proof.unconnectable)
        present = set(r.proof.marker_tokens)
        before = r.markers.get("before") or []
        props["markers_before_target_present"] = _state(all(m["token"] in present for m in before) if before else None)
        if r.markers.get("after"):
            props["markers_after_target_absent"] = _state(not any(m["token"] in present for m in r.markers["after"]))
    if r.amcheck is not None:
        props["amcheck_clean"] = _state(r.amcheck.clean)
    replayed = r.recovery.get("last_replayed_xact_at")
    if r.target.kind == "time" and replayed is not None:
        props["recovery_stopped_at_target"] = _state(replayed <= r.target.epoch)
    props["scratch_removed"] = _state(bool(r.cleanup.get("stopped") and r.cleanup.get("removed")
                                           and r.cleanup.get("port_free")))
    return props


def _problems(r: DrillResult, props: Dict[str, str]) -> List[str]:
    parts = []
    if props.get("repository_verified") == FAIL:
        named = ", ".join(f"{f['file']} ({f['problem']})" for f in r.verify.bad_files[:10])
        parts.append(f"repository damaged (verify status {r.verify.status}): {named or r.verify.text[-300:]}")
    if props.get("wal_archived") == FAIL:
        parts.append(f"WAL segment {r.wal.get('segment')} was not archived within the wait "
                     f"(last failed: {r.wal.get('last_failed_wal')}): WAL archiving broken")
    if r.restore_error:
        parts.append(f"restore of {r.backup_label} failed: {r.restore_error}")
    if props.get("databases_connectable") == FAIL:
        parts.append("databases not connectable: " + ", ".join(
            f"{u['database']} ({u['error']})" for u in r.proof.unconnectable) if r.proof.unconnectable else "no database")
    if props.get("markers_before_target_present") == FAIL:
        missing = [m["token"] for m in r.markers["before"] if m["token"] not in r.proof.marker_tokens]
        parts.append(f"markers written before the target are missing: {', '.join(missing)}")
    elif props.get("markers_before_target_present") == PENDING:
        parts.append("no marker was written before the target: presence of data not proven")
    if props.get("markers_after_target_absent") == FAIL:
        found = [m["token"] for m in r.markers["after"] if m["token"] in r.proof.marker_tokens]
        parts.append(f"markers written after the target are present (recovery went too far): {', '.join(found)}")
    if props.get("amcheck_clean") == FAIL:
        parts.append(f"pg_amcheck found problems (exit {r.amcheck.exit_code}): {' / '.join(r.amcheck.problems[:5])}")
    if props.get("recovery_stopped_at_target") == FAIL:
        parts.append("the last replayed transaction is later than the target")
    if props.get("scratch_removed") == FAIL:
        parts.append(f"scratch cluster not fully removed: {r.cleanup}")
    return parts


def drill_verdict(r: DrillResult, where: str, rto_target: Optional[float] = None,
                  rpo_target: Optional[float] = None) -> Dict[str, Any]:
    props = drill_properties(r)
    status = status_from(_DECIDED[v] for v in props.values())
    measurements = [measurement(name, 1 if value == PASS else 0, "bool") for name, value in props.items()
                    if value != PENDING]
    if r.rto_s is not None:
        measurements.append(measurement("rto", r.rto_s, "s", rto_target, "<=") if rto_target else
                            measurement("rto", r.rto_s, "s"))
    if r.rpo_s is not None:
        measurements.append(measurement("rpo", r.rpo_s, "s", rpo_target, "<=") if rpo_target else
                            measurement("rpo", r.rpo_s, "s"))
    if r.proof is not None:
        measurements.append(measurement("tables_counted", sum(len(t) for t in r.proof.row_counts.values()), "tables"))
        measurements.append(measurement("databases_connected", len(r.proof.databases) - len(r.proof.unconnectable),
                                        "databases"))
    findings = {name: 1 for name, value in props.items() if value == FAIL}
    target = r.target.kind if r.target.kind in ("latest", "immediate") else f"{r.target.kind} {r.target.value}"
    if status == PASS:
        summary = (f"{where}: backup {r.backup_label} restored to {target}, recovered and promoted; "
                   f"{len(r.proof.databases)} databases connectable, pg_amcheck clean, "
                   f"{len(r.markers.get('before') or [])} marker(s) before the target present, "
                   f"{len(r.markers.get('after') or [])} after it absent; RTO {r.rto_s} s, RPO {r.rpo_s} s")
    else:
        summary = f"{where}, target {target}: " + "; ".join(_problems(r, props) or ["not decided"])
    return make_verdict(status, summary, findings=findings, measurements=measurements)
