# Copyright: (c) 2026, deploysafe.preflight contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Evaluate a run directory into the report model: one dict every renderer reads.

An item whose verdict file is missing, unreadable, malformed or older than max_age is pending, with
the reason; it never counts as a pass. The decision is go only when every critical item passes and
an approving sign-off covers the evidence as it is now; no-go when a critical item fails or the
sign-off rejects; pending otherwise.
"""

from __future__ import annotations

import calendar
import hashlib
import json
import os
import time
from typing import Any, Dict, List, Optional, Sequence, Tuple

from ansible_collections.deploysafe.preflight.plugins.module_utils.checklist.evidence_seal import verify_signoff
from ansible_collections.deploysafe.preflight.plugins.module_utils.checklist.items import SIGNOFF_NAME, Item
from ansible_collections.deploysafe.preflight.plugins.module_utils.checklist.signature import Verifier
from ansible_collections.deploysafe.preflight.plugins.module_utils.verdict import FAIL, PASS, PENDING, read_verdict

REPORT_FORMAT = 1
GO, NO_GO = "go", "no-go"
MAX_VERDICT_BYTES = 16 << 20


def _timestamp(text: Any) -> Optional[float]:
    try:
        return float(calendar.timegm(time.strptime(str(text), "%Y-%m-%dT%H:%M:%SZ")))
    except ValueError:
        return None


def _iso(epoch: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch))


def load_record(run_dir: str, name: str) -> Tuple[Optional[Dict[str, Any]], str]:
    """(record, "") for a valid <run_dir>/<name>.json, else (None, why it cannot be used)."""
    path = os.path.join(run_dir, name + ".json")
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
    if _timestamp(record.get("recorded_at")) is None:
        return None, f"malformed verdict file {path}: recorded_at {record.get('recorded_at')!r} is not a UTC timestamp"
    return record, ""


def fingerprint(record: Optional[Dict[str, Any]]) -> Optional[str]:
    """sha256 of a verdict's canonical JSON; a sign-off stores these to notice evidence that changed later."""
    if record is None:
        return None
    return hashlib.sha256(json.dumps(record["verdict"], sort_keys=True, default=str).encode()).hexdigest()


def _item_result(item: Item, run_dir: str, max_age: Optional[int], now: float) -> Tuple[Dict[str, Any], Optional[Dict[str, Any]]]:
    record, reason = load_record(run_dir, item.name)
    result: Dict[str, Any] = {
        "id": item.id, "name": item.name, "title": item.title, "critical": item.critical,
        "status": PENDING, "summary": "", "reason": reason, "recorded_at": None,
        "source": os.path.join(run_dir, item.name + ".json"),
        "evidence": {"artifacts": [], "findings": {}, "measurements": []},
    }
    if record is None:
        result["summary"] = reason
        return result, None
    verdict = record["verdict"]
    result.update(status=verdict["status"], summary=verdict["summary"], recorded_at=record["recorded_at"],
                  evidence=verdict["evidence"])
    recorded = _timestamp(record["recorded_at"])
    if max_age is not None and recorded is not None and now - recorded > max_age:
        result.update(status=PENDING, reason=f"stale: recorded {record['recorded_at']}, older than max_age {max_age} s "
                                             f"(was {verdict['status']})")
    return result, record


def current_fingerprints(items: List[Item], run_dir: str) -> Dict[str, Optional[str]]:
    """Fingerprint of every non-sign-off item's verdict as it is on disk now."""
    return {i.name: fingerprint(load_record(run_dir, i.name)[0]) for i in items if i.name != SIGNOFF_NAME}


def _signoff(items: List[Item], run_dir: str, max_age: Optional[int], now: float,
             signoff_item: Item, verifiers: Sequence[Verifier] = ()) -> Tuple[Dict[str, Any], Dict[str, Any]]:
    """The sign-off item result plus the top-level sign-off summary of the report.

    A recorded sign-off is valid only when its signature verifies with a configured key (when any is
    configured) and every verdict file and artifact it sealed hashes as it did at signing."""
    result, record = _item_result(signoff_item, run_dir, max_age, now)
    info: Dict[str, Any] = {"recorded": record is not None, "status": result["status"], "decision": None, "by": None,
                            "at": None, "comment": "", "change_ticket": "", "override": False, "override_reason": "",
                            "not_pass_at_signoff": [], "reason": result["reason"], "signature": None, "key_id": None,
                            "run_id": None, "problems": [], "sealed_files": 0, "sealed_artifacts": 0,
                            "artifacts_not_rehashed": []}
    if record is None:
        result["summary"] = result["reason"] = info["reason"] = "no sign-off recorded"
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
             title: str = "Pre-deployment checklist", verifiers: Sequence[Verifier] = ()) -> Dict[str, Any]:
    """The report model for run_dir: items with status and evidence, sign-off, decision, counts, warnings."""
    now = time.time() if now is None else now
    signoff_item = next((i for i in items if i.name == SIGNOFF_NAME), Item(0, SIGNOFF_NAME, "Human sign-off", True))
    results = []
    signoff_result, signoff = _signoff(items, run_dir, max_age, now, signoff_item, verifiers)
    for item in items:
        results.append(signoff_result if item.name == SIGNOFF_NAME else _item_result(item, run_dir, max_age, now)[0])
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
    if signoff["status"] == PENDING:
        reasons.append(f"sign-off: {signoff['reason']}")
    if failed or signoff["status"] == FAIL:
        decision = NO_GO
    elif not open_ and signoff["status"] == PASS:
        decision = GO
        reasons.append(f"every critical item passes; approved by {signoff['by']}")
    else:
        decision = PENDING
    if signoff["override"] and signoff["status"] != PENDING:
        reasons.append(f"sign-off is an OVERRIDE: {signoff['override_reason']}")
    warnings = [f"{r['name']} (not critical) failed: {r['summary']}" for r in results
                if not r["critical"] and r["status"] == FAIL]
    counts = {s: sum(1 for r in results if r["status"] == s) for s in (PASS, FAIL, PENDING)}
    counts.update(total=len(results), critical_failed=len(failed), critical_open=len(open_), warnings=len(warnings))
    return {
        "format": REPORT_FORMAT, "title": title, "generated_at": _iso(now), "run_dir": run_dir,
        "max_age": max_age, "decision": decision, "decision_reason": "; ".join(reasons),
        "counts": counts, "warnings": warnings, "signoff": signoff, "items": results,
    }
