# Copyright: (c) 2026, deploysafe.preflight contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Step 6 of the flow: is there a recent, verified backup, and one for every recent day?"""

from __future__ import annotations

from datetime import datetime, timedelta, tzinfo
from typing import Any, Dict, List, Optional

from ..verdict import FAIL, PASS, PENDING, make_verdict, measurement
from .inventory import BackupSet, Inventory
from .plan import FUTURE_TOLERANCE

DEFAULT_MAX_AGE_H = 26.0   # a daily schedule plus slack for a slow or randomly delayed run
DEFAULT_DAYS = 7


def missing_days(sets: List[BackupSet], now: datetime, days: int, tz: Optional[tzinfo]) -> List[str]:
    """Calendar days (in tz) without a complete backup among the last `days` days: ending today when
    today already has one, else yesterday (today's run may still be ahead; max_age judges freshness), so
    that keep_daily N and audit_days N agree. Days before the oldest backup are not judged (a new
    schedule is not missing its past)."""
    if days <= 0 or not sets:
        return []

    def day(t: datetime):
        return (t.astimezone(tz) if tz else t).date()

    have = {day(s.time) for s in sets}
    first = min(have)
    end = day(now) if day(now) in have else day(now) - timedelta(days=1)
    out = []
    for back in range(days - 1, -1, -1):
        candidate = end - timedelta(days=back)
        if candidate >= first and candidate not in have:
            out.append(candidate.isoformat())
    return out


def _artifact_evidence(store, backup: BackupSet) -> Dict[str, Any]:
    art = (backup.manifest or {}).get("artifact") or {}
    return {"path": store.url(backup.name), "sha256": art.get("sha256"), "size_bytes": backup.files["artifact"].size,
            "kind": "backup"}


def audit_verdict(inv: Inventory, store, now: datetime, max_age_h: float = DEFAULT_MAX_AGE_H,
                  days: int = DEFAULT_DAYS, tz: Optional[tzinfo] = None) -> Dict[str, Any]:
    """fail: newest backup older than max_age_h, a day in the last `days` without a backup, the newest
    unverified (or its manifest unusable), or every backup dated in the future; pending: no backup."""
    findings = {"orphans": len(inv.orphans), "partials": len(inv.partials), "damaged": len(inv.damaged)}
    horizon = now + FUTURE_TOLERANCE
    present = [s for s in inv.sets if s.time <= horizon]
    findings["future"] = len(inv.sets) - len(present)
    if not present and not inv.damaged:
        if findings["future"]:
            return make_verdict(FAIL, f"every backup at {inv.where} is dated in the future (clock skew): "
                                "their age cannot be judged", findings=findings)
        return make_verdict(PENDING, f"nothing to judge: no complete backup at {inv.where}", findings=findings)
    candidates = present + [s for s in inv.damaged if s.time and s.time <= horizon]
    newest = max(candidates, key=lambda s: (s.time, s.name))
    age_h = round((now - newest.time).total_seconds() / 3600, 2)
    gaps = missing_days(present, now, days, tz)
    findings["missing_days"] = len(gaps)
    problems = []
    if age_h > max_age_h:
        problems.append(f"the newest backup {newest.name} is {age_h} h old (max_age {max_age_h} h)")
    if newest.problem:
        problems.append(f"the newest backup {newest.name} is unusable: {newest.problem}")
    elif not newest.verified:
        problems.append(f"the newest backup {newest.name} is not verified: {newest.verification_detail}")
    if gaps:
        problems.append(f"no backup on {', '.join(gaps)} (last {days} days)")
    verified_sets = [s for s in present if s.verified]
    measurements = [
        measurement("newest_backup_age", age_h, "h", threshold=max_age_h, comparison="<="),
        measurement("newest_backup_verified", 1 if newest.verified else 0, "bool", threshold=1, comparison="=="),
        measurement("missing_days", len(gaps), "days", threshold=0, comparison="=="),
        measurement("backups", len(present), "count"),
        measurement("verified_backups", len(verified_sets), "count"),
        measurement("stored_bytes", sum(s.size for s in present), "bytes"),
    ]
    if verified_sets:
        last_ok = max(verified_sets, key=lambda s: (s.time, s.name))
        measurements.append(measurement("newest_verified_age", round((now - last_ok.time).total_seconds() / 3600, 2), "h"))
    arts = [_artifact_evidence(store, newest)] if "artifact" in newest.files and newest.manifest else []
    if problems:
        return make_verdict(FAIL, "; ".join(problems), artifacts=arts, findings=findings, measurements=measurements)
    days_text = f", one for each of the last {days} days" if days > 0 else ""
    return make_verdict(PASS, f"newest backup {newest.name} is {age_h} h old and verified{days_text} "
                        f"({len(present)} backups at {inv.where})", artifacts=arts, findings=findings,
                        measurements=measurements)
