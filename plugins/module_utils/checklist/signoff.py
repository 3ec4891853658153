# Copyright: (c) 2026, deploysafe.preflight contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Record a human sign-off as <run_dir>/signoff.json through the verdict contract.

An approval is refused while a critical item is not pass, unless an override reason is given; the
override is then part of the record and of every report. The record keeps a fingerprint of each
item's verdict, so evidence that changes after the sign-off makes the sign-off pending again.
"""

from __future__ import annotations

import json
import os
from typing import Any, Dict, List, Optional, Tuple

from ansible_collections.deploysafe.preflight.plugins.module_utils.checklist.evaluate import (
    current_fingerprints, evaluate,
)
from ansible_collections.deploysafe.preflight.plugins.module_utils.checklist.items import (
    SIGNOFF_NAME, ChecklistError, Item,
)
from ansible_collections.deploysafe.preflight.plugins.module_utils.run import read_run
from ansible_collections.deploysafe.preflight.plugins.module_utils.verdict import (
    FAIL, PASS, atomic_write_bytes, make_verdict, measurement, produced_by, verdict_record,
)

DECISIONS = ("approve", "reject")
# Keys that make two sign-offs "the same decision"; context (AWX job ids) and the time do not.
_SAME_KEYS = ("decision", "by", "comment", "change_ticket", "override", "override_reason", "fingerprints")


def plan_signoff(run_dir: str, items: List[Item], decision: str, by: str, comment: str = "", change_ticket: str = "",
                 override_reason: str = "", context: Optional[Dict[str, Any]] = None,
                 max_age: Optional[int] = None, now: Optional[float] = None) -> Tuple[bool, Dict[str, Any], Optional[Dict[str, Any]]]:
    """(changed, record to store, record on disk). Raises ChecklistError when the sign-off is refused."""
    if decision not in DECISIONS:
        raise ChecklistError(f"sign-off decision must be approve or reject, not {decision!r}")
    if not (by or "").strip():
        raise ChecklistError("sign-off needs the signer's identity (by): set preflight_signoff_by, "
                             "or run from AWX where awx_user_name is set")
    model = evaluate(run_dir, items, max_age=max_age, now=now)
    not_pass = [f"{r['name']} ({r['status']}: {r['reason'] or r['summary']})" for r in model["items"]
                if r["critical"] and r["name"] != SIGNOFF_NAME and r["status"] != PASS]
    override = bool(not_pass) and decision == "approve"
    if override and not override_reason.strip():
        raise ChecklistError(
            f"sign-off refused: {len(not_pass)} critical item(s) in {run_dir} are not pass: {'; '.join(not_pass)}. "
            "Fix them and re-run the checks, or approve anyway with an override_reason (recorded in the report).")
    details = {
        "decision": decision, "by": by.strip(), "comment": comment, "change_ticket": change_ticket,
        "override": override, "override_reason": override_reason.strip() if override else "",
        "not_pass_at_signoff": [r["name"] for r in model["items"]
                                if r["critical"] and r["name"] != SIGNOFF_NAME and r["status"] != PASS],
        "fingerprints": current_fingerprints(items, run_dir),
        "context": dict(context or {}),
    }
    words = "approved" if decision == "approve" else "rejected"
    summary = f"{words} by {details['by']}"
    if change_ticket:
        summary += f" ({change_ticket})"
    if comment:
        summary += f": {comment}"
    if override:
        summary = f"OVERRIDE {summary} [reason: {details['override_reason']}]"
    critical = [r for r in model["items"] if r["critical"] and r["name"] != SIGNOFF_NAME]
    verdict = produced_by(make_verdict(
        PASS if decision == "approve" else FAIL, summary,
        findings={"override": int(override), "critical_not_pass": len(details["not_pass_at_signoff"])},
        measurements=[measurement("critical_items_reviewed", len(critical), "items")]), "signoff")
    before = _existing(run_dir)
    if before is not None and before.get("verdict") == verdict and all(
            (before.get("details") or {}).get(k) == details[k] for k in _SAME_KEYS):
        return False, before, before
    return True, verdict_record(SIGNOFF_NAME, verdict, details, now=now, run=read_run(run_dir), recorded_by=by.strip()), before


def _existing(run_dir: str) -> Optional[Dict[str, Any]]:
    try:
        with open(os.path.join(run_dir, SIGNOFF_NAME + ".json"), encoding="utf-8") as handle:
            record = json.load(handle)
        return record if isinstance(record, dict) else None
    except (OSError, ValueError):
        return None


def store_signoff(run_dir: str, record: Dict[str, Any]) -> str:
    """Write the planned record (its time included) atomically, formatted as write_verdict does; returns its path."""
    os.makedirs(run_dir, exist_ok=True)
    path = os.path.join(run_dir, SIGNOFF_NAME + ".json")
    atomic_write_bytes(path, (json.dumps(record, indent=2, sort_keys=True, default=str) + "\n").encode())
    return path
