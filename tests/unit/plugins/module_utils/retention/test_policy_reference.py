"""The 15 reference cases of ../shared/notes/backup-retention.md (restic's TestApplyPolicy timeline and
its golden files policy_keep_snapshots_N, and the doc/060_forget example), reproduced on our engine."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from ansible_collections.deploysafe.preflight.plugins.module_utils.retention import RetentionError
from ansible_collections.deploysafe.preflight.plugins.module_utils.retention.policy import (
    Duration, apply_policy, make_policy, parse_duration)

# restic internal/data/snapshot_policy_test.go TestApplyPolicy, in input order (103 UTC times).
RESTIC_TIMES = """
2014-09-01 10:20:30,2014-09-02 10:20:30,2014-09-05 10:20:30,2014-09-06 10:20:30,2014-09-08 10:20:30,
2014-09-09 10:20:30,2014-09-10 10:20:30,2014-09-11 10:20:30,2014-09-20 10:20:30,2014-09-22 10:20:30,
2014-08-08 10:20:30,2014-08-10 10:20:30,2014-08-12 10:20:30,2014-08-13 10:20:30,2014-08-13 10:20:30.1,
2014-08-15 10:20:30,2014-08-18 10:20:30,2014-08-20 10:20:30,2014-08-21 10:20:30,2014-08-22 10:20:30,
2014-10-01 10:20:30,2014-10-02 10:20:30,2014-10-05 10:20:30,2014-10-06 10:20:30,2014-10-08 10:20:30,
2014-10-09 10:20:30,2014-10-10 10:20:30,2014-10-11 10:20:30,2014-10-20 10:20:30,2014-10-22 10:20:30,
2014-11-08 10:20:30,2014-11-10 10:20:30,2014-11-12 10:20:30,2014-11-13 10:20:30,2014-11-13 10:20:30.1,
2014-11-15 10:20:30,2014-11-18 10:20:30,2014-11-20 10:20:30,2014-11-21 10:20:30,2014-11-22 10:20:30,
2015-09-01 10:20:30,2015-09-02 10:20:30,2015-09-05 10:20:30,2015-09-06 10:20:30,2015-09-08 10:20:30,
2015-09-09 10:20:30,2015-09-10 10:20:30,2015-09-11 10:20:30,2015-09-20 10:20:30,2015-09-22 10:20:30,
2015-08-08 10:20:30,2015-08-10 10:20:30,2015-08-12 10:20:30,2015-08-13 10:20:30,2015-08-13 10:20:30.1,
2015-08-15 10:20:30,2015-08-18 10:20:30,2015-08-20 10:20:30,2015-08-21 10:20:30,2015-08-22 10:20:30,
2015-10-01 10:20:30,2015-10-02 10:20:30,2015-10-05 10:20:30,2015-10-06 10:20:30,2015-10-08 10:20:30,
2015-10-09 10:20:30,2015-10-10 10:20:30,2015-10-11 10:20:30,2015-10-20 10:20:30,2015-10-22 10:20:30,
2015-10-22 10:20:30,2015-10-22 10:20:30,2015-10-22 10:20:30,2015-10-22 10:20:30,
2015-11-08 10:20:30,2015-11-10 10:20:30,2015-11-12 10:20:30,2015-11-13 10:20:30,2015-11-13 10:20:30.1,
2015-11-15 10:20:30,2015-11-18 10:20:30,2015-11-20 10:20:30,2015-11-21 10:20:30,2015-11-22 10:20:30,
2016-01-01 01:02:03,2016-01-01 01:03:03,2016-01-01 07:08:03,2016-01-03 07:02:03,2016-01-04 10:23:03,
2016-01-04 11:23:03,2016-01-04 12:23:03,2016-01-04 12:24:03,2016-01-04 12:28:03,2016-01-04 12:30:03,
2016-01-04 16:23:03,2016-01-05 09:02:03,2016-01-06 08:02:03,2016-01-07 10:02:03,2016-01-08 20:02:03,
2016-01-09 21:02:03,2016-01-12 21:02:03,2016-01-12 21:08:03,2016-01-18 12:02:03
"""


def _parse(text: str) -> datetime:
    fmt = "%Y-%m-%d %H:%M:%S.%f" if "." in text else "%Y-%m-%d %H:%M:%S"
    return datetime.strptime(text, fmt).replace(tzinfo=timezone.utc)


def restic_timeline():
    """(name, time): restic counts the earlier of equal times in its input as newer; our tie-breaker is
    the larger name, so names count down with the input position to reproduce its golden files."""
    times = [t.strip() for t in RESTIC_TIMES.replace("\n", "").split(",") if t.strip()]
    assert len(times) == 103
    return [(f"b{999 - index:03d}", _parse(t)) for index, t in enumerate(times)]


def kept(policy_spec, items=None):
    decisions = apply_policy(items or restic_timeline(), make_policy(policy_spec))
    return [(d.time, d.reasons) for d in decisions if d.keep]


def stamps(result):
    return [t.strftime("%Y-%m-%d %H:%M:%S") for t, _ in result]


def test_01_keep_last():
    result = kept({"keep_last": 10})
    assert len(result) == 10
    assert stamps(result)[0] == "2016-01-18 12:02:03" and stamps(result)[-1] == "2016-01-04 12:30:03"
    assert all(reasons == ["last backup"] for _, reasons in result)
    assert len(kept({"keep_last": -1})) == 103
    assert len(kept({"keep_last": "unlimited"})) == 103


def test_02_keep_hourly():
    result = stamps(kept({"keep_hourly": 20}))
    assert len(result) == 20
    assert "2016-01-04 12:30:03" in result
    assert not {"2016-01-04 12:23:03", "2016-01-04 12:24:03", "2016-01-04 12:28:03"} & set(result)
    assert "2016-01-01 01:03:03" in result and "2016-01-01 01:02:03" not in result


def test_03_keep_daily():
    assert stamps(kept({"keep_daily": 3})) == ["2016-01-18 12:02:03", "2016-01-12 21:08:03", "2016-01-09 21:02:03"]


def test_04_last_and_daily():
    result = kept({"keep_last": 5, "keep_daily": 5})
    assert [(t.strftime("%m-%d %H:%M"), r) for t, r in result] == [
        ("01-18 12:02", ["last backup", "daily backup"]),
        ("01-12 21:08", ["last backup", "daily backup"]),
        ("01-12 21:02", ["last backup"]),
        ("01-09 21:02", ["last backup", "daily backup"]),
        ("01-08 20:02", ["last backup", "daily backup"]),
        ("01-07 10:02", ["daily backup"]),
    ]


def test_05_keep_weekly_iso_weeks():
    assert stamps(kept({"keep_weekly": 4})) == [
        "2016-01-18 12:02:03", "2016-01-12 21:08:03", "2016-01-09 21:02:03", "2016-01-03 07:02:03"]


def test_06_daily_and_weekly():
    result = kept({"keep_daily": 3, "keep_weekly": 4})
    assert len(result) == 4
    assert all(r == ["daily backup", "weekly backup"] for _, r in result[:3])
    assert stamps(result)[3] == "2016-01-03 07:02:03" and result[3][1] == ["weekly backup"]


def test_07_keep_monthly_first_of_identical_times():
    items = restic_timeline()
    decisions = [d for d in apply_policy(items, make_policy({"keep_monthly": 6})) if d.keep]
    assert stamps([(d.time, d.reasons) for d in decisions]) == [
        "2016-01-18 12:02:03", "2015-11-22 10:20:30", "2015-10-22 10:20:30", "2015-09-22 10:20:30",
        "2015-08-22 10:20:30", "2014-11-22 10:20:30"]
    # the first of the five identical 2015-10-22 entries in restic's input (index 69) wins the month
    assert decisions[2].name == f"b{999 - 69:03d}"
    assert not any(r.startswith("oldest") for d in decisions for r in d.reasons)


def test_08_keep_yearly_oldest():
    result = kept({"keep_yearly": 10})
    assert stamps(result) == ["2016-01-18 12:02:03", "2015-11-22 10:20:30", "2014-11-22 10:20:30", "2014-08-08 10:20:30"]
    assert result[-1][1] == ["oldest yearly backup"]


def test_09_gfs():
    result = kept({"keep_daily": 7, "keep_weekly": 2, "keep_monthly": 3, "keep_yearly": 10})
    short = {"daily backup": "d", "weekly backup": "w", "monthly backup": "m", "yearly backup": "y"}
    got = [(t.strftime("%Y-%m-%d"), [short.get(r, r) for r in reasons]) for t, reasons in result]
    assert got == [
        ("2016-01-18", ["d", "w", "m", "y"]), ("2016-01-12", ["d", "w"]), ("2016-01-09", ["d"]),
        ("2016-01-08", ["d"]), ("2016-01-07", ["d"]), ("2016-01-06", ["d"]), ("2016-01-05", ["d"]),
        ("2015-11-22", ["m", "y"]), ("2015-10-22", ["m"]), ("2014-11-22", ["y"]),
        ("2014-08-08", ["oldest yearly backup"])]


def test_10_unlimited_monthly_and_yearly():
    result = kept({"keep_daily": 3, "keep_weekly": 2, "keep_monthly": -1, "keep_yearly": -1})
    assert len(result) == 12
    days = [t.strftime("%Y-%m-%d") for t, _ in result]
    assert days[:3] == ["2016-01-18", "2016-01-12", "2016-01-09"]
    assert days[3:11] == ["2015-11-22", "2015-10-22", "2015-09-22", "2015-08-22",
                          "2014-11-22", "2014-10-22", "2014-09-22", "2014-08-22"]
    assert result[3][1] == ["monthly backup", "yearly backup"] and result[7][1] == ["monthly backup", "yearly backup"]
    assert result[11] == (_parse("2014-08-08 10:20:30"), ["oldest monthly backup", "oldest yearly backup"])


def test_11_keep_within():
    assert stamps(kept({"keep_within": "1d"})) == ["2016-01-18 12:02:03"]
    result = kept({"keep_within": "7d"})
    assert stamps(result) == ["2016-01-18 12:02:03", "2016-01-12 21:08:03", "2016-01-12 21:02:03"]
    assert result[0][1] == ["within 7d"]


def test_12_keep_within_hours_and_months():
    result = stamps(kept({"keep_within": "13d23h"}))
    assert len(result) == 9 and "2016-01-04 16:23:03" in result and "2016-01-04 12:30:03" not in result
    result = stamps(kept({"keep_within": "2m2h"}))
    assert len(result) == 23 and result[-1] == "2015-11-18 10:20:30"


def test_13_within_monthly_no_oldest_outside_window():
    result = kept({"keep_within_monthly": "1y2m3d3h"})
    assert [t.strftime("%Y-%m-%d") for t, _ in result] == [
        "2016-01-18", "2015-11-22", "2015-10-22", "2015-09-22", "2015-08-22", "2014-11-22"]
    assert all(r == ["monthly within 1y2m3d3h"] for _, r in result)


def test_14_all_within_rules():
    result = kept({"keep_within": "1h", "keep_within_hourly": "1d", "keep_within_daily": "7d",
                   "keep_within_weekly": "1m", "keep_within_monthly": "1y", "keep_within_yearly": "9999y"})
    got = [(t.strftime("%Y-%m-%d"), r) for t, r in result]
    assert len(got) == 10
    assert got[0] == ("2016-01-18", ["within 1h", "hourly within 1d", "daily within 7d", "weekly within 1m",
                                     "monthly within 1y", "yearly within 9999y"])
    assert got[1] == ("2016-01-12", ["daily within 7d", "weekly within 1m"])
    assert got[2] == ("2016-01-09", ["weekly within 1m"]) and got[3] == ("2016-01-03", ["weekly within 1m"])
    assert got[4] == ("2015-11-22", ["monthly within 1y", "yearly within 9999y"])
    assert [g[0] for g in got[5:8]] == ["2015-10-22", "2015-09-22", "2015-08-22"]
    assert got[8] == ("2014-11-22", ["yearly within 9999y"])
    assert got[9] == ("2014-08-08", ["oldest yearly within 9999y"])


def forget_doc_timeline():
    """doc/060_forget example: weekday runs at 11:00 from Mon 2025-04-21 to Fri 2025-05-02, none on
    04-30, plus 23:00 runs on 04-25 and 05-02 (11 backups; the weekend gap is what the documented
    result requires)."""
    days = ["04-21", "04-22", "04-23", "04-24", "04-25", "04-28", "04-29", "05-01", "05-02"]
    times = [f"2025-{d} 11:00:00" for d in days] + ["2025-04-25 23:00:00", "2025-05-02 23:00:00"]
    return [(f"b{i:02d}", _parse(t)) for i, t in enumerate(times)]


def test_15_forget_doc_example_and_empty_policy():
    items = forget_doc_timeline()
    assert len(items) == 11
    assert stamps(kept({"keep_daily": 5}, items)) == [
        "2025-05-02 23:00:00", "2025-05-01 11:00:00", "2025-04-29 11:00:00", "2025-04-28 11:00:00",
        "2025-04-25 23:00:00"]
    # 04-25 23:00 lies exactly on the cutoff (newest - 7d) and is not strictly after it
    assert stamps(kept({"keep_within_daily": "7d"}, items)) == [
        "2025-05-02 23:00:00", "2025-05-01 11:00:00", "2025-04-29 11:00:00", "2025-04-28 11:00:00"]
    with pytest.raises(RetentionError, match="no rule is set"):
        make_policy({})


@pytest.mark.parametrize("spec, message", [
    ({"keep_dayly": 3}, "unknown key.*keep_dayly"),
    ({"keep_daily": -2}, "keep_daily: negative values are not allowed"),
    ({"keep_daily": "seven"}, "keep_daily: 'seven' is not a whole number"),
    ({"keep_within": "2w"}, "keep_within: '2w' is not a duration"),
    ({"keep_within": "7"}, "not a duration"),
    ({"keep_last": 0}, "no rule is set"),
])
def test_bad_policies_name_the_key(spec, message):
    with pytest.raises(RetentionError, match=message):
        make_policy(spec)


def test_duration_calendar_steps_like_go_adddate():
    assert parse_duration("1y2m3d3h") == Duration(1, 2, 3, 3)
    # Go normalises 2016-03-31 minus one month to "2016-02-31" = 2016-03-02
    assert Duration(months=1).before(_parse("2016-03-31 00:00:00")) == _parse("2016-03-02 00:00:00")
    assert Duration(years=9999).before(_parse("2016-01-18 12:02:03")).year == 1
