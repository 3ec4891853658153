# Copyright: (c) 2026, deploysafe.preflight contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Turn an inventory and a policy into a plan (what stays, what goes and why), and carry it out."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta, tzinfo
from typing import Any, Dict, List, Optional

from . import RetentionError
from .inventory import BackupSet, Inventory
from .policy import Duration, Policy, apply_policy

PROTECT_REASON = "newest verified backup (never deleted)"
FUTURE_REASON = "in the future (clock skew): not judged by age"
# Backups dated up to this far ahead of the clock still count as "now" (small clock differences).
FUTURE_TOLERANCE = timedelta(minutes=5)


@dataclass
class Plan:
    where: str
    policy: str
    keep: List[Dict[str, Any]] = field(default_factory=list)
    remove: List[Dict[str, Any]] = field(default_factory=list)
    orphans: List[Dict[str, Any]] = field(default_factory=list)
    partials: List[Dict[str, Any]] = field(default_factory=list)
    damaged: List[Dict[str, Any]] = field(default_factory=list)
    future: List[str] = field(default_factory=list)
    protected: Optional[str] = None
    files_before: List[str] = field(default_factory=list)

    def doomed(self) -> List[str]:
        """Every file the plan deletes, in order: whole sets first, then stale orphans and partials."""
        names = [n for item in self.remove for n in item["files"]]
        names += [n for item in self.orphans if item["action"] == "remove" for n in item["files"]]
        names += [item["name"] for item in self.partials if item["action"] == "remove"]
        return names

    def files_after(self) -> List[str]:
        gone = set(self.doomed())
        return [n for n in self.files_before if n not in gone]

    def as_dict(self) -> Dict[str, Any]:
        return {"location": self.where, "policy": self.policy, "keep": self.keep, "remove": self.remove,
                "orphans": self.orphans, "partials": self.partials, "damaged": self.damaged,
                "future": self.future, "protected": self.protected}


def _iso(when: Optional[datetime]) -> Optional[str]:
    return when.strftime("%Y-%m-%dT%H:%M:%SZ") if when else None


def _age_h(now: datetime, when: datetime) -> float:
    return round((now - when).total_seconds() / 3600, 2)


def newest_verified(sets: List[BackupSet]) -> Optional[BackupSet]:
    """The newest complete set whose verification record says pass."""
    verified = [s for s in sets if s.verified]
    return max(verified, key=lambda s: (s.time, s.name)) if verified else None


def make_plan(inv: Inventory, policy: Policy, now: datetime, tz: Optional[tzinfo] = None,
              cleanup_after: Optional[Duration] = None) -> Plan:
    """Decide every file of the inventory. now: aware datetime. cleanup_after: orphans and partial
    files whose newest file is older than this are removed; None reports them only."""
    plan = Plan(where=inv.where, policy=policy.describe())
    plan.files_before = sorted([n for s in inv.sets + inv.damaged + inv.orphans for n in s.file_names()]
                               + [p.name for p in inv.partials])
    horizon = now + FUTURE_TOLERANCE
    present = [s for s in inv.sets if s.time <= horizon]
    future = [s for s in inv.sets if s.time > horizon]
    # Future-dated sets are kept anyway; protecting one of them must not leave the real newest verified
    # backup to the policy, so the invariant looks at sets that are not in the future first.
    protected = newest_verified(present) or newest_verified(future)
    plan.protected = protected.name if protected else None
    by_name = {s.name: s for s in present}
    decisions = apply_policy([(s.name, s.time) for s in present], policy, tz)
    for decision in decisions:
        backup = by_name[decision.name]
        reasons = list(decision.reasons)
        if protected is not None and backup.name == protected.name:
            reasons.append(PROTECT_REASON)
        entry = {"name": backup.name, "time": _iso(backup.time), "verification": backup.verification,
                 "size_bytes": backup.size}
        if reasons:
            plan.keep.append({**entry, "reasons": reasons})
        else:
            plan.remove.append({**entry, "files": backup.file_names()})
    for backup in sorted(future, key=lambda s: (s.time, s.name), reverse=True):
        plan.future.append(backup.name)
        plan.keep.insert(0, {"name": backup.name, "time": _iso(backup.time), "verification": backup.verification,
                             "size_bytes": backup.size, "reasons": [FUTURE_REASON]})
    limit = None if cleanup_after is None else cleanup_after.before(now)
    for orphan in inv.orphans:
        newest = orphan.newest_mtime()
        stale = limit is not None and newest < limit
        plan.orphans.append({"name": orphan.name, "problem": orphan.problem, "files": orphan.file_names(),
                             "age_h": _age_h(now, newest), "action": "remove" if stale else "report"})
    for partial in inv.partials:
        stale = limit is not None and partial.mtime < limit
        plan.partials.append({"name": partial.name, "age_h": _age_h(now, partial.mtime),
                              "action": "remove" if stale else "report"})
    for backup in inv.damaged:
        plan.damaged.append({"name": backup.name, "problem": backup.problem, "files": backup.file_names(),
                             "action": "report"})
    _check_invariant(plan, protected)
    return plan


def _check_invariant(plan: Plan, protected: Optional[BackupSet]) -> None:
    """Belt and braces: no code path may put the newest verified set, or half a set, on the list."""
    if protected is None:
        return
    doomed = set(plan.doomed())
    if any(name in doomed for name in protected.file_names()):
        raise RetentionError(f"internal error: the plan would delete the newest verified backup {protected.name}; "
                             "nothing was deleted")


@dataclass
class Outcome:
    removed: List[str] = field(default_factory=list)
    errors: List[str] = field(default_factory=list)
    remaining: List[str] = field(default_factory=list)


def execute(plan: Plan, store) -> Outcome:
    """Delete what the plan says, set by set (manifest before artifact). A failure is recorded and the
    rest of that set is left for the next run; other sets are still processed."""
    outcome = Outcome()
    groups = [item["files"] for item in plan.remove]
    groups += [item["files"] for item in plan.orphans if item["action"] == "remove"]
    groups += [[item["name"]] for item in plan.partials if item["action"] == "remove"]
    for files in groups:
        for index, name in enumerate(files):
            try:
                store.delete(name)
            except RetentionError as exc:
                outcome.errors.append(str(exc))
                outcome.remaining.extend(files[index:])
                break
            outcome.removed.append(name)
    return outcome
