# Copyright: (c) 2026, deploysafe.preflight contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The two entry points of the backup_retention module: prune (plan, then delete unless check mode) and
audit (the step-6 verdict). Both return plain dicts; `now` is injectable for tests (a fake clock)."""

from __future__ import annotations

import os
from datetime import datetime, timezone, tzinfo
from typing import Any, Dict, Mapping, Optional

from ..verdict import FAIL, PASS, make_verdict, measurement
from . import RetentionError
from .audit import DEFAULT_DAYS, audit_verdict
from .inventory import Inventory, take_inventory
from .status import judge_status, read_status
from .store import LocalStore
from .plan import execute, make_plan
from .policy import duration_seconds, make_policy, parse_duration


def resolve_timezone(name: Optional[str]) -> tzinfo:
    """'UTC' (default) or an IANA zone name such as 'Europe/Paris' (zoneinfo, Python 3.9+)."""
    if not name or name.upper() == "UTC":
        return timezone.utc
    try:
        from zoneinfo import ZoneInfo
        return ZoneInfo(name)
    except Exception:
        raise RetentionError(f"timezone {name!r} is not a known IANA time zone (for example UTC or Europe/Paris)") from None


def _now(now: Optional[datetime]) -> datetime:
    return (now or datetime.now(timezone.utc)).astimezone(timezone.utc)


def prune(store, policy_spec: Mapping[str, Any], *, check_mode: bool, tz_name: str = "UTC",
          orphan_age: Optional[str] = "1d", now: Optional[datetime] = None) -> Dict[str, Any]:
    """Plan what the policy keeps at the store and, unless check_mode, delete the rest.
    orphan_age None: orphans and partial files are only reported. Raises RetentionError before any
    deletion when the policy, the time zone or the listing is bad."""
    policy = make_policy(policy_spec)
    tz = resolve_timezone(tz_name)
    cleanup_after = parse_duration(orphan_age, "orphan_age") if orphan_age else None
    clock = _now(now)
    inventory = take_inventory(store)
    plan = make_plan(inventory, policy, clock, tz, cleanup_after)
    doomed = plan.doomed()
    result: Dict[str, Any] = plan.as_dict()
    result.update(changed=bool(doomed), would_remove=doomed, removed=[], remaining=[], errors=[],
                  diff={"before_header": store.where, "after_header": store.where,
                        "before": "".join(n + "\n" for n in plan.files_before),
                        "after": "".join(n + "\n" for n in plan.files_after())})
    if not check_mode and doomed:
        outcome = execute(plan, store)
        result.update(removed=outcome.removed, remaining=outcome.remaining, errors=outcome.errors,
                      changed=bool(outcome.removed))
    measurements = [measurement("backups_kept", len(plan.keep), "count"),
                    measurement("backups_removed" if not check_mode else "backups_to_remove", len(plan.remove), "count"),
                    measurement("files_not_removed", len(result["remaining"]), "count", threshold=0, comparison="==")]
    findings = {"orphans": len(plan.orphans), "partials": len(plan.partials), "damaged": len(plan.damaged),
                "future": len(plan.future), "deletion_errors": len(result["errors"])}
    if result["errors"]:
        summary = (f"retention at {store.where} stopped part-way: {len(result['remaining'])} file(s) remain "
                   f"({'; '.join(result['errors'][:3])}); the next run finishes the job")
        result["verdict"] = make_verdict(FAIL, summary, findings=findings, measurements=measurements)
    else:
        verb = "would remove" if check_mode else "removed"
        summary = (f"{plan.policy}: kept {len(plan.keep)} backup(s), {verb} {len(plan.remove)} at {store.where}"
                   + (f"; newest verified {plan.protected} is protected" if plan.protected else
                      "; no verified backup to protect"))
        result["verdict"] = make_verdict(PASS, summary, findings=findings, measurements=measurements)
    return result


def audit(store, *, max_age: str = "26h", days: int = DEFAULT_DAYS, tz_name: str = "UTC",
          status_file: Optional[str] = None, now: Optional[datetime] = None) -> Dict[str, Any]:
    """The step-6 verdict over the store (read-only), with the inventory it judged; with status_file
    (written by the backup_schedule job) the last scheduled run must also have succeeded."""
    if days < 0:
        raise RetentionError(f"audit_days must be 0 or more, not {days}")
    tz = resolve_timezone(tz_name)
    clock = _now(now)
    max_age_h = duration_seconds(parse_duration(max_age, "max_age"), clock) / 3600
    if isinstance(store, LocalStore) and not os.path.isdir(store.directory):
        # a schedule that has not run yet on a fresh host: nothing to judge, not an error
        inventory = Inventory(where=store.where)
    else:
        inventory = take_inventory(store)
    verdict = audit_verdict(inventory, store, clock, max_age_h=max_age_h, days=days, tz=tz)
    status = None
    if status_file:
        status = read_status(status_file)
        verdict = judge_status(verdict, status, status_file)
    backups = [{"name": s.name, "time": s.time.strftime("%Y-%m-%dT%H:%M:%SZ"), "verification": s.verification,
                "size_bytes": s.size} for s in sorted(inventory.sets, key=lambda s: (s.time, s.name), reverse=True)]
    return {"changed": False, "location": store.where, "backups": backups,
            "orphans": [{"name": o.name, "problem": o.problem, "files": o.file_names()} for o in inventory.orphans],
            "partials": [p.name for p in inventory.partials],
            "damaged": [{"name": d.name, "problem": d.problem} for d in inventory.damaged],
            "status": status, "verdict": verdict}
