# Copyright: (c) 2026, deploysafe.preflight contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The keep policy (GFS) and its evaluation, with restic's `forget` semantics where they overlap.

One pass over the backups newest first; rules are ORed and independent, so one backup can satisfy and
use up several rules at once (its reasons list them all). A count rule with budget left keeps a backup
whose bucket differs from the last bucket that rule kept. The globally oldest backup is kept by a rule
that still has budget (or whose window holds it) even if its bucket was already used ("oldest ...").
keep_within* windows are measured from the newest backup that is not in the future, not from now, so
that backups which stop do not make the policy delete everything.

Our two deliberate differences from restic: buckets are computed in one configured time zone
(default UTC; restic uses each snapshot's own recorded offset), and equal timestamps are ordered by
name, the larger name counting as newer (restic keeps the input order).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, fields
from datetime import datetime, timedelta, tzinfo
from typing import Any, Callable, Dict, List, Mapping, Optional, Sequence, Tuple

from . import RetentionError

UNLIMITED = -1
COUNT_RULES = ("last", "hourly", "daily", "weekly", "monthly", "yearly")
WITHIN_RULES = ("hourly", "daily", "weekly", "monthly", "yearly")
_DURATION = re.compile(r"(\d+)([ymdh])")


@dataclass(frozen=True)
class Duration:
    """restic's duration: calendar years, months and days (Go's AddDate) plus absolute hours."""
    years: int = 0
    months: int = 0
    days: int = 0
    hours: int = 0

    @property
    def zero(self) -> bool:
        return not (self.years or self.months or self.days or self.hours)

    def __str__(self) -> str:
        parts = ((self.years, "y"), (self.months, "m"), (self.days, "d"), (self.hours, "h"))
        text = "".join(f"{n}{u}" for n, u in parts if n)
        return text or "0h"

    def before(self, when: datetime) -> datetime:
        """when minus this duration: calendar steps first (normalised like Go's time.AddDate), then hours."""
        month_index = (when.year - self.years) * 12 + (when.month - 1) - self.months
        year, month = divmod(month_index, 12)
        if year < 1:
            return datetime.min.replace(tzinfo=when.tzinfo)
        base = when.replace(year=year, month=month + 1, day=1)
        return base + timedelta(days=when.day - 1 - self.days) - timedelta(hours=self.hours)


def parse_duration(text: Any, what: str = "duration") -> Duration:
    """'7d', '1y2m3d3h', '36h' -> Duration. Units: y (years), m (months), d (days), h (hours)."""
    if isinstance(text, Duration):
        return text
    raw = str(text if text is not None else "").strip().replace(" ", "")
    parts = _DURATION.findall(raw)
    if not raw or "".join(n + u for n, u in parts) != raw:
        raise RetentionError(f"{what}: {text!r} is not a duration; use numbers with units y, m, d, h "
                             "(for example 7d, 36h or 1y2m)")
    values = {"y": 0, "m": 0, "d": 0, "h": 0}
    for number, unit in parts:
        values[unit] += int(number)
    return Duration(years=values["y"], months=values["m"], days=values["d"], hours=values["h"])


def duration_seconds(duration: Duration, now: datetime) -> float:
    """Length of a duration ending at now, in seconds (calendar-aware)."""
    return (now - duration.before(now)).total_seconds()


@dataclass(frozen=True)
class Policy:
    """Counts: 0 off, N keep N buckets, -1 unlimited. Durations: keep_within* (empty = off)."""
    keep_last: int = 0
    keep_hourly: int = 0
    keep_daily: int = 0
    keep_weekly: int = 0
    keep_monthly: int = 0
    keep_yearly: int = 0
    keep_within: Duration = field(default_factory=Duration)
    keep_within_hourly: Duration = field(default_factory=Duration)
    keep_within_daily: Duration = field(default_factory=Duration)
    keep_within_weekly: Duration = field(default_factory=Duration)
    keep_within_monthly: Duration = field(default_factory=Duration)
    keep_within_yearly: Duration = field(default_factory=Duration)

    @property
    def empty(self) -> bool:
        return all(getattr(self, f"keep_{r}") == 0 for r in COUNT_RULES) and self.keep_within.zero and \
            all(getattr(self, f"keep_within_{r}").zero for r in WITHIN_RULES)

    def describe(self) -> str:
        """'keep 7 daily, 4 weekly, all monthly backups and all backups within 2d of the newest'."""
        counts = []
        for rule in COUNT_RULES:
            value = getattr(self, f"keep_{rule}")
            if value:
                counts.append(("all " if value == UNLIMITED else f"{value} ") + ("latest" if rule == "last" else rule))
        text = f"{', '.join(counts)} backups" if counts else ""
        within = [f"{r} backups within {getattr(self, 'keep_within_' + r)}" for r in WITHIN_RULES
                  if not getattr(self, f"keep_within_{r}").zero]
        if within:
            text = ", ".join(([text] if text else []) + within)
        if not self.keep_within.zero:
            text += (" and " if text else "") + f"all backups within {self.keep_within} of the newest"
        return "keep " + text if text else "keep nothing"


POLICY_KEYS = tuple(f.name for f in fields(Policy))


def make_policy(spec: Optional[Mapping[str, Any]], where: str = "policy") -> Policy:
    """Validate a policy mapping: unknown keys, non-integers, negative counts other than -1 and bad
    durations are errors naming the key; None values mean 'off'; an empty policy is an error."""
    spec = dict(spec or {})
    unknown = sorted(set(spec) - set(POLICY_KEYS))
    if unknown:
        raise RetentionError(f"{where}: unknown key(s) {', '.join(unknown)}; known keys: {', '.join(POLICY_KEYS)}")
    values: Dict[str, Any] = {}
    for rule in COUNT_RULES:
        key, raw = f"keep_{rule}", spec.get(f"keep_{rule}")
        if raw is None:
            continue
        if raw == "unlimited":
            raw = UNLIMITED
        if isinstance(raw, bool) or not isinstance(raw, int):
            try:
                raw = int(str(raw), 10)
            except ValueError:
                raise RetentionError(f"{where}.{key}: {raw!r} is not a whole number (or 'unlimited' / -1)") from None
        if raw < UNLIMITED:
            raise RetentionError(f"{where}.{key}: negative values are not allowed ({raw}); "
                                 "use -1 or 'unlimited' to keep every bucket")
        values[key] = raw
    for key in ("keep_within",) + tuple(f"keep_within_{r}" for r in WITHIN_RULES):
        if spec.get(key) not in (None, ""):
            values[key] = parse_duration(spec[key], f"{where}.{key}")
    policy = Policy(**values)
    if policy.empty:
        raise RetentionError(f"{where}: no rule is set, so every backup would be removed; set at least one of "
                             f"{', '.join(POLICY_KEYS)}")
    return policy


def _hourly(t: datetime) -> int:
    return ((t.year * 100 + t.month) * 100 + t.day) * 100 + t.hour


def _daily(t: datetime) -> int:
    return (t.year * 100 + t.month) * 100 + t.day


def _weekly(t: datetime) -> int:
    iso = t.isocalendar()  # ISO year and week: 2016-01-01..03 belong to 2015-W53
    return iso[0] * 100 + iso[1]


def _monthly(t: datetime) -> int:
    return t.year * 100 + t.month


def _yearly(t: datetime) -> int:
    return t.year


BUCKETS: Dict[str, Callable[[datetime], int]] = {
    "hourly": _hourly, "daily": _daily, "weekly": _weekly, "monthly": _monthly, "yearly": _yearly}


@dataclass
class Decision:
    """The fate of one dated item under the policy: kept with the rules that kept it, or not."""
    name: str
    time: datetime
    keep: bool = False
    reasons: List[str] = field(default_factory=list)


def order_newest_first(items: Sequence[Tuple[str, datetime]]) -> List[Tuple[str, datetime]]:
    """Newest first; equal times: the larger name counts as newer (deterministic, unlike restic's input order)."""
    return sorted(items, key=lambda item: (item[1], item[0]), reverse=True)


def apply_policy(items: Sequence[Tuple[str, datetime]], policy: Policy, tz: Optional[tzinfo] = None) -> List[Decision]:
    """Decide which (name, aware datetime) items the policy keeps. Items must not be in the future
    (the caller sets those aside); buckets are computed in tz (default: the items' own zone).
    Returns one Decision per item, newest first."""
    ordered = order_newest_first(items)
    if not ordered:
        return []
    latest = ordered[0][1]
    counts = {rule: getattr(policy, f"keep_{rule}") for rule in COUNT_RULES}
    last_bucket: Dict[str, Any] = {rule: None for rule in COUNT_RULES}
    within_last: Dict[str, Any] = {rule: None for rule in WITHIN_RULES}
    within_cutoff = {rule: getattr(policy, f"keep_within_{rule}").before(latest) for rule in WITHIN_RULES
                     if not getattr(policy, f"keep_within_{rule}").zero}
    cutoff = None if policy.keep_within.zero else policy.keep_within.before(latest)
    out = []
    oldest_index = len(ordered) - 1
    for index, (name, when) in enumerate(ordered):
        local = when.astimezone(tz) if tz else when
        decision = Decision(name=name, time=when)
        if cutoff is not None and when > cutoff:
            decision.reasons.append(f"within {policy.keep_within}")
        for rule in COUNT_RULES:
            if counts[rule] == 0:
                continue
            value = index if rule == "last" else BUCKETS[rule](local)
            oldest = index == oldest_index
            if value != last_bucket[rule] or oldest:
                label = "last" if rule == "last" else rule
                decision.reasons.append(("oldest " if value == last_bucket[rule] else "") + f"{label} backup")
                last_bucket[rule] = value
                if counts[rule] > 0:
                    counts[rule] -= 1
        for rule, rule_cutoff in within_cutoff.items():
            if when > rule_cutoff:
                value = BUCKETS[rule](local)
                if value != within_last[rule] or index == oldest_index:
                    prefix = "oldest " if value == within_last[rule] else ""
                    decision.reasons.append(f"{prefix}{rule} within {getattr(policy, 'keep_within_' + rule)}")
                    within_last[rule] = value
        decision.keep = bool(decision.reasons)
        out.append(decision)
    return out
