# Copyright: (c) 2026, deploysafe.preflight contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Record a human sign-off as <run_dir>/signoff.json through the verdict contract, sealed and signed.

An approval is refused while a critical item is not pass, unless an override reason is given; the
override is then part of the record and of every report. The record seals the sha256 of every verdict
file and evidence artifact of the run (evidence_seal.py) and, with a signing key, is signed whole
(signature.py), so evidence changed after the sign-off, or a record edited or written without the key,
makes the sign-off not valid.
"""

from __future__ import annotations

import json
import os
from typing import Any, Dict, List, Optional, Sequence, Tuple

from ansible_collections.deploysafe.preflight.plugins.module_utils.checklist.evaluate import evaluate
from ansible_collections.deploysafe.preflight.plugins.module_utils.checklist.evidence_seal import (
    hash_evidence, sealed_payload,
)
from ansible_collections.deploysafe.preflight.plugins.module_utils.checklist.items import (
    SIGNOFF_NAME, ChecklistError, Item,
)
from ansible_collections.deploysafe.preflight.plugins.module_utils.checklist.signature import Signer, Verifier
from ansible_collections.deploysafe.preflight.plugins.module_utils.run import read_run
from ansible_collections.deploysafe.preflight.plugins.module_utils.verdict import (
    FAIL, PASS, atomic_write_bytes, make_verdict, measurement, produced_by, verdict_record,
)

DECISIONS = ("approve", "reject")
# Keys that make two sign-offs "the same decision"; context (AWX job ids) and the time do not.
_SAME_KEYS = ("decision", "by", "comment", "change_ticket", "override", "override_reason", "evidence")


def plan_signoff(run_dir: str, items: List[Item], decision: str, by: str, comment: str = "", change_ticket: str = "",
                 override_reason: str = "", context: Optional[Dict[str, Any]] = None,
                 max_age: Optional[int] = None, now: Optional[float] = None,
                 signer: Optional[Signer] = None) -> Tuple[bool, Dict[str, Any], Optional[Dict[str, Any]]]:
    """(changed, record to store, record on disk). Raises ChecklistError when the sign-off is refused."""
    if decision not in DECISIONS:
        raise ChecklistError(f"sign-off decision must be approve or reject, not {decision!r}")
    if not (by or "").strip():
        raise ChecklistError("sign-off needs the signer's identity (by): set preflight_signoff_by (an extra var or "
                             "an AWX survey answer), or run from AWX where awx_user_name is set")
    model = evaluate(run_dir, items, max_age=max_age, now=now)
    not_pass = [f"{r['name']} ({r['status']}: {r['reason'] or r['summary']})" for r in model["items"]
                if r["critical"] and r["name"] != SIGNOFF_NAME and r["status"] != PASS]
    override = bool(not_pass) and decision == "approve"
    if override and not override_reason.strip():
        raise ChecklistError(
            f"sign-off refused: {len(not_pass)} critical item(s) in {run_dir} are not pass: {'; '.join(not_pass)}. "
            "Fix them and re-run the checks, or approve anyway with an override_reason (recorded in the report).")
    evidence, tampered = hash_evidence(run_dir)
    if tampered:
        # no override for this: the approver would be signing bytes no check ever looked at
        raise ChecklistError(f"sign-off refused: the evidence in {run_dir} cannot be sealed: "
                             f"{'; '.join(tampered)}. Re-run the checks that produced it.")
    details = {
        "decision": decision, "by": by.strip(), "comment": comment, "change_ticket": change_ticket,
        "override": override, "override_reason": override_reason.strip() if override else "",
        "not_pass_at_signoff": [r["name"] for r in model["items"]
                                if r["critical"] and r["name"] != SIGNOFF_NAME and r["status"] != PASS],
        "evidence": evidence,
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
    # the reviewed items and the hashed files are what this sign-off vouches for: its evidence
    critical = [r for r in model["items"] if r["critical"] and r["name"] != SIGNOFF_NAME]
    verdict = produced_by(make_verdict(
        PASS if decision == "approve" else FAIL, summary,
        findings={"override": int(override), "critical_not_pass": len(details["not_pass_at_signoff"])},
        measurements=[measurement("critical_items_reviewed", len(critical), "items"),
                      measurement("verdict_files_sealed", len(evidence["files"]), "files"),
                      measurement("artifacts_sealed", len(evidence["artifacts"]), "files")]), "signoff")
    run = read_run(run_dir)
    before = _existing(run_dir)
    if before is not None and before.get("run_id") == (run or {}).get("run_id") and _same(before, verdict, details, signer):
        return False, before, before
    record = verdict_record(SIGNOFF_NAME, verdict, details, now=now, run=run, recorded_by=by.strip())
    if signer is not None:
        record["details"]["signature"] = signer.sign(sealed_payload(record))
    return True, record, before


def _same(before: Dict[str, Any], verdict: Dict[str, Any], details: Dict[str, Any], signer: Optional[Signer]) -> bool:
    """The stored record already says this, signed by this key (and still verifies), or unsigned when no key is given."""
    old = before.get("details") or {}
    if before.get("verdict") != verdict or any(old.get(k) != details[k] for k in _SAME_KEYS):
        return False
    block = old.get("signature")
    if signer is None:
        return block is None
    return (isinstance(block, dict) and block.get("key_id") == signer.key_id
            and signer.verifier().verify(sealed_payload(before), str(block.get("value"))))


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


def verify_stored_signoff(run_dir: str, items: List[Item], verifiers: Sequence[Verifier],
                          max_age: Optional[int] = None, now: Optional[float] = None) -> Dict[str, Any]:
    """The sign-off as the checklist sees it (model["signoff"]): status pass/fail when valid, pending with the reasons."""
    return evaluate(run_dir, items, max_age=max_age, now=now, verifiers=verifiers)["signoff"]
