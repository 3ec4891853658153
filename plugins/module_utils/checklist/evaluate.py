# Copyright: (c) 2026, deploysafe.preflight contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Evaluate a run directory into the report model: one dict every renderer reads.

An item whose verdict file is missing, unreadable, malformed, from another run (run.json names the
run), from the future or older than max_age is pending, with the reason; it never counts as a pass.
An item recorded per host (<name>@<host>.json) takes the worst of its hosts. The decision is go only when every critical item passes and
an approving sign-off covers the evidence as it is now; no-go when a critical item fails or the
sign-off rejects; pending otherwise. A checklist whose items name no `signoff` (a post-deploy check, say)
requires none: it is go when every critical item passes, though a recorded rejection still makes it no-go.
"""

from __future__ import annotations

import calendar
import os
import time
from typing import Any, Dict, List, Optional, Sequence, Tuple

from ansible_collections.deploysafe.preflight.plugins.module_utils.checklist.evidence_seal import verify_signoff
from ansible_collections.deploysafe.preflight.plugins.module_utils.checklist.items import SIGNOFF_NAME, ChecklistError, Item
from ansible_collections.deploysafe.preflight.plugins.module_utils.checklist.signature import Verifier
from ansible_collections.deploysafe.preflight.plugins.module_utils.run import RunError, read_run
from ansible_collections.deploysafe.preflight.plugins.module_utils.verdict import (
    FAIL, PASS, PENDING, merge, read_verdict, utc_iso, worst,
)

REPORT_FORMAT = 1
GO, NO_GO = "go", "no-go"
MAX_VERDICT_BYTES = 16 << 20
# A record verified further ahead than this is "from the future": clock skew between hosts, or forged.
FUTURE_SKEW = 300


def utc_epoch(text: Any) -> Optional[float]:
    try:
        return float(calendar.timegm(time.strptime(str(text), "%Y-%m-%dT%H:%M:%SZ")))
    except ValueError:
        return None


def load_record(path: str, name: str) -> Tuple[Optional[Dict[str, Any]], str]:
    """(record, "") for a valid verdict record file, else (None, why it cannot be used)."""
    try:
        if os.path.getsize(path) > MAX_VERDICT_BYTES:
            return None, f"verdict file {path} is larger than {MAX_VERDICT_BYTES} bytes"
        record = read_verdict(path)
    except FileNotFoundError:
        return None, "no verdict recorded"
    except OSError as exc:
        return None, f"cannot read verdict file {path}: {exc.strerror or exc}"
    except (ValueError, AttributeError) as exc:  # JSON syntax, contract shape, or not a JSON object
        return None, f"malformed verdict file {path}: {exc}"
    if record.get("name") != name:
        return None, f"malformed verdict file {path}: it names {record.get('name')!r}, not {name!r}"
    for key in ("recorded_at", "verified_at"):
        if utc_epoch(record.get(key)) is None:
            return None, f"verdict file {path}: {key} {record.get(key)!r} is not a UTC timestamp (recorded before format 2?)"
    return record, ""


def record_files(run_dir: str, name: str) -> List[str]:
    """<name>.json and every <name>@<host>.json in run_dir, sorted."""
    paths = [os.path.join(run_dir, name + ".json")]
    try:
        listing = sorted(os.listdir(run_dir))
    except OSError:
        listing = []
    paths += [os.path.join(run_dir, f) for f in listing if f.startswith(name + "@") and f.endswith(".json")]
    return [p for p in paths if os.path.exists(p)] or paths[:1]


def _record_problem(record: Dict[str, Any], run_id: Optional[str], max_age: Optional[int], now: float) -> str:
    """Why a valid record cannot speak for this run ("" when it can)."""
    if not run_id:
        return "no run started in this run directory (run.json missing): nothing can be bound to a run"
    if record.get("run_id") != run_id:
        return f"recorded by another run ({record.get('run_id') or 'none'}), not this run ({run_id})"
    verified = utc_epoch(record["verified_at"])
    if verified is not None and verified > now + FUTURE_SKEW:
        return f"verified_at {record['verified_at']} is in the future (clock skew or a forged record)"
    if max_age is not None and verified is not None and now - verified > max_age:
        return f"stale: verified {record['verified_at']}, older than max_age {max_age} s"
    return ""


def item_records(run_dir: str, name: str, run_id: Optional[str], max_age: Optional[int],
                 now: float) -> List[Dict[str, Any]]:
    """Every record file of one item with what it says: host, status, summary, reason, record."""
    out = []
    for path in record_files(run_dir, name):
        record, reason = load_record(path, name)
        entry: Dict[str, Any] = {"source": path, "host": None, "status": PENDING, "summary": reason,
                                 "reason": reason, "record": record, "current": False}
        if record is not None:
            verdict = record["verdict"]
            problem = _record_problem(record, run_id, max_age, now)
            entry.update(host=record.get("host"), summary=verdict["summary"], reason=problem,
                         status=PENDING if problem else verdict["status"],
                         current=record.get("run_id") == run_id and bool(run_id))
            if problem:
                entry["reason"] = f"{problem} (was {verdict['status']})"
        out.append(entry)
    return out


def _item_result(item: Item, run_dir: str, run_id: Optional[str], max_age: Optional[int],
                 now: float) -> Tuple[Dict[str, Any], Optional[Dict[str, Any]]]:
    """The item's result over all its records; the record returned is the first of this run (or None).

    An item reading several verdicts (item.records) takes the worst of them: each one missing is pending.
    """
    if len(item.sources) == 1:
        return _verdict_result(item, item.sources[0], run_dir, run_id, max_age, now)
    parts = [_verdict_result(item, name, run_dir, run_id, max_age, now) for name in item.sources]
    results = [part[0] for part in parts]
    result = dict(results[0])
    evidence = merge("", [{"status": r["status"], "summary": "", "evidence": r["evidence"]} for r in results])["evidence"]
    verified = [r["verified_at"] for r in results if r["verified_at"]]
    manual = sorted({r["recorded_by"] for r in results if r["manual"] and r["recorded_by"]})
    result.update(
        status=worst(r["status"] for r in results), evidence=evidence,
        summary="; ".join(f"{name}: {r['status']} - {r['summary']}" for name, r in zip(item.sources, results)),
        reason="; ".join(f"{name}: {r['reason']}" for name, r in zip(item.sources, results) if r["reason"]),
        verified_at=min(verified) if len(verified) == len(results) else None,
        hosts=[dict(h, record=name) for name, r in zip(item.sources, results) for h in r["hosts"]],
        ignored=[i for r in results for i in r["ignored"]], manual=any(r["manual"] for r in results),
        recorded_by=", ".join(manual) or None,
        records=[{"name": name, "status": r["status"], "summary": r["summary"], "reason": r["reason"],
                  "source": r["source"]} for name, r in zip(item.sources, results)],
    )
    return result, next((part[1] for part in parts if part[1] is not None), None)


def _verdict_result(item: Item, name: str, run_dir: str, run_id: Optional[str], max_age: Optional[int],
                    now: float) -> Tuple[Dict[str, Any], Optional[Dict[str, Any]]]:
    """One verdict name's result; the record returned is the first of this run (or None).

    Records of this run decide (the worst host wins); records of other runs never stand for this one:
    they are listed as ignored, and a verdict with nothing of this run is pending with their reason.
    """
    entries = item_records(run_dir, name, run_id, max_age, now)
    current = [e for e in entries if e["current"]]
    result: Dict[str, Any] = {
        "id": item.id, "name": item.name, "title": item.title, "critical": item.critical,
        "status": PENDING, "summary": "", "reason": "", "recorded_at": None, "verified_at": None,
        "source": entries[0]["source"], "hosts": [], "ignored": [], "manual": False, "recorded_by": None,
        "producer": {}, "evidence": {"artifacts": [], "findings": {}, "measurements": []},
    }
    if not current:
        reason = entries[0]["reason"] if len(entries) == 1 else "; ".join(
            f"{os.path.basename(e['source'])}: {e['reason']}" for e in entries)
        result.update(summary=reason, reason=reason,
                      ignored=[{"source": e["source"], "reason": e["reason"]} for e in entries if e["record"]])
        return result, None
    result["ignored"] = [{"source": e["source"], "reason": e["reason"]} for e in entries if not e["current"]]
    verdicts = [e["record"]["verdict"] for e in current]
    merged = merge("", verdicts) if len(verdicts) > 1 else verdicts[0]
    status = worst(e["status"] for e in current)
    first = current[0]["record"]
    manual = [e for e in current if e["record"].get("manual")]
    result.update(
        status=status, evidence=merged["evidence"], recorded_at=first["recorded_at"],
        verified_at=min(e["record"]["verified_at"] for e in current), source=current[0]["source"],
        producer=first.get("producer") or {}, manual=bool(manual),
        recorded_by=", ".join(sorted({str(e["record"].get("recorded_by")) for e in manual})) or None,
        hosts=[{"host": e["host"], "status": e["status"], "summary": e["summary"], "reason": e["reason"],
                "source": e["source"], "manual": bool(e["record"].get("manual"))} for e in current],
    )
    if len(current) == 1 and not current[0]["host"]:
        result["summary"] = current[0]["summary"]
    else:
        result["summary"] = "; ".join(f"{e['host'] or '(no host)'}: {e['status']} - {e['summary']}" for e in current)
    problems = [e["reason"] for e in current if e["reason"]]
    if problems:
        result["reason"] = "; ".join(problems)
    if manual:
        result["summary"] = f"[MANUAL, recorded by {result['recorded_by']}] {result['summary']}"
    return result, first


def _signoff(run_dir: str, run_id: str, max_age: Optional[int], now: float,
             signoff_item: Item, verifiers: Sequence[Verifier] = ()) -> Tuple[Dict[str, Any], Dict[str, Any]]:
    """The sign-off item result plus the top-level sign-off summary of the report.

    A recorded sign-off is valid only when its signature verifies with a configured key (when any is
    configured) and every verdict file and artifact it sealed hashes as it did at signing."""
    result, record = _item_result(signoff_item, run_dir, run_id, max_age, now)
    info: Dict[str, Any] = {"recorded": record is not None, "status": result["status"], "decision": None, "by": None,
                            "at": None, "comment": "", "change_ticket": "", "override": False, "override_reason": "",
                            "not_pass_at_signoff": [], "reason": result["reason"], "signature": None, "key_id": None,
                            "run_id": None, "problems": [], "sealed_files": 0, "sealed_artifacts": 0,
                            "artifacts_not_rehashed": []}
    if record is None:
        # keep why a sign-off on disk does not count (another run, stale, malformed)
        reason = result["reason"] if result["reason"] not in ("", "no verdict recorded") else ""
        result["summary"] = result["reason"] = info["reason"] = (
            f"no sign-off of this run: {reason}" if reason else "no sign-off recorded")
        return result, info
    details = record.get("details") or {}
    info.update(decision=details.get("decision"), by=details.get("by"), at=record["recorded_at"],
                comment=details.get("comment") or "", change_ticket=details.get("change_ticket") or "",
                override=bool(details.get("override")), override_reason=details.get("override_reason") or "",
                not_pass_at_signoff=list(details.get("not_pass_at_signoff") or []))
    check = verify_signoff(run_dir, record, verifiers)
    info.update(signature=check["signature"], key_id=check["key_id"], run_id=check["run_id"], problems=check["problems"],
                sealed_files=check["files"], sealed_artifacts=check["artifacts"],
                artifacts_not_rehashed=check["artifacts_not_rehashed"])
    if info["decision"] not in ("approve", "reject") or not info["by"]:
        result.update(status=PENDING, reason="sign-off record has no decision or signer")
    elif (info["decision"] == "approve") != (record["verdict"]["status"] == PASS):
        result.update(status=PENDING, reason="sign-off record contradicts itself (decision vs status)")
    elif check["problems"] and result["status"] != PENDING:
        # a rejection that no longer verifies is not a valid no-go either: it could be forged to block
        result.update(status=PENDING, reason="; ".join(check["problems"]))
    if result["reason"] and result["status"] == PENDING:
        result["summary"] = f"{result['summary']} - not valid: {result['reason']}"
    info.update(status=result["status"], reason=result["reason"])
    return result, info


def evaluate(run_dir: str, items: List[Item], max_age: Optional[int] = None, now: Optional[float] = None,
             title: str = "Pre-deployment checklist", run_id: str = "",
             verifiers: Sequence[Verifier] = ()) -> Dict[str, Any]:
    """The report model for run_dir: items with status and evidence, sign-off, decision, counts, warnings.

    run_id (default: the run of run.json) is the run the verdicts must belong to; verifiers are the keys
    a sign-off must be signed with (none: only its sealed hashes are checked).
    """
    now = time.time() if now is None else now
    try:
        run = read_run(run_dir) or {}
    except RunError as exc:
        raise ChecklistError(str(exc)) from exc
    if run_id and run.get("run_id") not in (None, run_id):
        raise ChecklistError(f"{run_dir}/run.json belongs to run {run.get('run_id')}, not to run {run_id}")
    run_id = run_id or run.get("run_id") or ""
    signoff_required = any(i.name == SIGNOFF_NAME for i in items)
    signoff_item = next((i for i in items if i.name == SIGNOFF_NAME), Item(0, SIGNOFF_NAME, "Human sign-off", True))
    results = []
    signoff_result, signoff = _signoff(run_dir, run_id, max_age, now, signoff_item, verifiers)
    for item in items:
        results.append(signoff_result if item.name == SIGNOFF_NAME else _item_result(item, run_dir, run_id, max_age, now)[0])
    checks = [r for r in results if r["critical"] and r["name"] != SIGNOFF_NAME]
    failed = [r["name"] for r in checks if r["status"] == FAIL]
    open_ = [r["name"] for r in checks if r["status"] == PENDING]
    reasons = []
    if failed:
        reasons.append(f"critical items failed: {', '.join(failed)}")
    if signoff["status"] == FAIL:
        reasons.append(f"sign-off rejected by {signoff['by']}")
    if open_:
        reasons.append(f"critical items open: {', '.join(open_)}")
    if signoff["status"] == PENDING and signoff_required:
        reasons.append(f"sign-off: {signoff['reason']}")
    if failed or signoff["status"] == FAIL:
        decision = NO_GO
    elif not open_ and (signoff["status"] == PASS or not signoff_required):
        decision = GO
        reasons.append(f"every critical item passes; approved by {signoff['by']}" if signoff["status"] == PASS
                       else "every critical item passes; no sign-off required (the checklist has no signoff item)")
    else:
        decision = PENDING
    if signoff["override"] and signoff["status"] != PENDING:
        reasons.append(f"sign-off is an OVERRIDE: {signoff['override_reason']}")
    warnings = [f"{r['name']} (not critical) failed: {r['summary']}" for r in results
                if not r["critical"] and r["status"] == FAIL]
    counts = {s: sum(1 for r in results if r["status"] == s) for s in (PASS, FAIL, PENDING)}
    counts.update(total=len(results), critical_failed=len(failed), critical_open=len(open_), warnings=len(warnings))
    manual = [r["name"] for r in results if r.get("manual")]
    if manual:
        warnings.append(f"recorded by hand (manual, not computed by a check): {', '.join(manual)}")
    counts["manual"] = len(manual)
    return {
        "format": REPORT_FORMAT, "title": title, "generated_at": utc_iso(now), "run_dir": run_dir,
        "run_id": run_id or None, "release": run.get("release") or {}, "run_started_at": run.get("started_at"),
        "max_age": max_age, "decision": decision, "decision_reason": "; ".join(reasons),
        "counts": counts, "warnings": warnings, "signoff": signoff, "items": results,
    }
