"""Properties over random timelines (seeded, so failures reproduce; hypothesis is not in the venv):
deterministic, order-independent, idempotent, exactly what each count rule promises, and the plan never
removes the newest verified backup nor half a set."""

from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone

import pytest

from ansible_collections.deploysafe.preflight.plugins.module_utils.retention.inventory import BackupSet, Inventory
from ansible_collections.deploysafe.preflight.plugins.module_utils.retention.plan import PROTECT_REASON, make_plan
from ansible_collections.deploysafe.preflight.plugins.module_utils.retention.policy import (
    BUCKETS, apply_policy, make_policy)
from ansible_collections.deploysafe.preflight.plugins.module_utils.retention.store import Entry

START = datetime(2024, 1, 1, tzinfo=timezone.utc)
SEEDS = range(60)


def timeline(rng: random.Random):
    count = rng.randint(1, 120)
    span_h = rng.choice([48, 24 * 20, 24 * 400, 24 * 1500])
    times = [START + timedelta(hours=rng.uniform(0, span_h)) for _ in range(count)]
    if rng.random() < 0.3 and times:  # duplicates: equal times exercise the tie-breaker
        times += rng.sample(times, min(3, len(times)))
    return [(f"b{i:04d}", t.replace(microsecond=0)) for i, t in enumerate(times)]


def random_policy(rng: random.Random):
    spec = {}
    for key in ("keep_last", "keep_hourly", "keep_daily", "keep_weekly", "keep_monthly", "keep_yearly"):
        if rng.random() < 0.35:
            spec[key] = rng.choice([-1, 1, 2, 3, 5, 10])
    for key in ("keep_within", "keep_within_daily", "keep_within_weekly", "keep_within_monthly"):
        if rng.random() < 0.2:
            spec[key] = rng.choice(["1d", "7d", "36h", "1m", "1y2m"])
    return spec or {"keep_daily": 3}


def kept_names(items, policy):
    return [d.name for d in apply_policy(items, policy) if d.keep]


@pytest.mark.parametrize("seed", SEEDS)
def test_deterministic_order_independent_and_idempotent(seed):
    rng = random.Random(seed)
    items, policy = timeline(rng), make_policy(random_policy(rng))
    first = kept_names(items, policy)
    shuffled = list(items)
    rng.shuffle(shuffled)
    assert kept_names(shuffled, policy) == first
    assert first, "a non-empty policy keeps at least the newest backup"
    survivors = [item for item in items if item[0] in set(first)]
    assert kept_names(survivors, policy) == first  # a second run removes nothing more


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("rule", ["daily", "weekly", "monthly", "hourly", "yearly"])
def test_count_rule_keeps_the_newest_of_the_newest_n_buckets(seed, rule):
    rng = random.Random(seed * 7 + len(rule))
    items = timeline(rng)
    n = rng.choice([1, 2, 4, 7])
    decisions = apply_policy(items, make_policy({f"keep_{rule}": n}))
    bucket = BUCKETS[rule]
    # oracle: newest first with the name as tie-breaker, first item of each new bucket, n of them
    ordered = sorted(items, key=lambda i: (i[1], i[0]), reverse=True)
    expected, seen = [], []
    for name, when in ordered:
        if len(seen) < n and bucket(when) not in seen:
            seen.append(bucket(when))
            expected.append(name)
    by_bucket = [d.name for d in decisions if f"{rule} backup" in d.reasons]
    assert by_bucket == expected
    oldest = [d for d in decisions if d.reasons == [f"oldest {rule} backup"]]
    # the oldest backup is added only while budget is left, and only when its bucket was already used
    assert len(oldest) == (1 if len(seen) < n and ordered[-1][0] not in expected else 0)


def _set(name, when, verified):
    files = {"artifact": Entry(name, 10, when), "manifest": Entry(name + ".manifest.json", 1, when)}
    if verified:
        files["record"] = Entry(name + ".verified.json", 1, when)
    return BackupSet(name=name, files=files, time=when, verification="pass" if verified else None)


@pytest.mark.parametrize("seed", SEEDS)
def test_plan_never_removes_the_newest_verified_nor_half_a_set(seed):
    rng = random.Random(1000 + seed)
    items = timeline(rng)
    sets = [_set(name, when, rng.random() < 0.3) for name, when in items]
    now = max(t for _, t in items) + timedelta(hours=rng.uniform(0, 100))
    plan = make_plan(Inventory(where="mem", sets=sets), make_policy(random_policy(rng)), now)
    verified = [s for s in sets if s.verified]
    doomed = set(plan.doomed())
    if verified:
        newest = max(verified, key=lambda s: (s.time, s.name))
        assert plan.protected == newest.name
        assert not doomed & set(newest.file_names())
        assert PROTECT_REASON in next(k["reasons"] for k in plan.keep if k["name"] == newest.name)
    for backup in sets:
        gone = [n in doomed for n in backup.file_names()]
        assert all(gone) or not any(gone), backup.name
    assert len(plan.keep) + len(plan.remove) == len(sets)
