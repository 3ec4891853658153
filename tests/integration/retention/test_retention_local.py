"""backup_retention logic on a real local directory of real archive-layer backups (fake clock only)."""

from __future__ import annotations

import json
import os
from datetime import timedelta

import pytest

from retention_helpers import NOW, daily_timeline, plant

from ansible_collections.deploysafe.preflight.plugins.module_utils.retention import RetentionError
from ansible_collections.deploysafe.preflight.plugins.module_utils.retention.run import audit, prune
from ansible_collections.deploysafe.preflight.plugins.module_utils.retention.store import LocalStore

GFS = {"keep_daily": 7, "keep_weekly": 4}


def files(directory):
    return sorted(os.listdir(directory))


def test_check_mode_plans_then_prune_removes_exactly_that_and_a_second_run_nothing(tmp_path):
    names = daily_timeline(tmp_path, 30)
    store = LocalStore(str(tmp_path))
    before = files(tmp_path)
    plan = prune(store, GFS, check_mode=True, now=NOW)
    assert files(tmp_path) == before  # check mode touches nothing
    assert plan["changed"] and plan["removed"] == []
    kept = [k["name"] for k in plan["keep"]]
    assert kept[:7] == [names[i] for i in range(7)]
    assert plan["keep"][0]["reasons"] == ["daily backup", "weekly backup", "newest verified backup (never deleted)"]
    # 7 dailies (Thu 12-03 .. Fri 11-27) cover ISO weeks 49 and 48; weekly adds Sun 11-22 and Sun 11-15
    assert len(kept) == 9 and kept[7:] == [names[11], names[18]]
    # artifact, manifest and record go together; the manifest before the artifact
    for item in plan["remove"]:
        assert item["files"] == [item["name"] + ".verified.json", item["name"] + ".manifest.json", item["name"]]
    assert plan["diff"]["after"].splitlines() == sorted(set(before) - set(plan["would_remove"]))
    assert plan["diff"]["before"].splitlines() == before
    done = prune(store, GFS, check_mode=False, now=NOW)
    assert done["removed"] == plan["would_remove"] and done["errors"] == [] and done["verdict"]["status"] == "pass"
    assert files(tmp_path) == plan["diff"]["after"].splitlines()
    again = prune(store, GFS, check_mode=False, now=NOW)
    assert again["changed"] is False and again["would_remove"] == [] and [k["name"] for k in again["keep"]] == kept
    verdict = audit(store, now=NOW)["verdict"]
    assert verdict["status"] == "pass", verdict["summary"]


def test_newest_verified_is_never_deleted_even_by_keep_last_1(tmp_path):
    names = daily_timeline(tmp_path, 6, unverified=(0, 1, 2))
    store = LocalStore(str(tmp_path))
    result = prune(store, {"keep_last": 1}, check_mode=False, now=NOW)
    kept = {k["name"]: k["reasons"] for k in result["keep"]}
    assert kept == {names[0]: ["last backup"], names[3]: ["newest verified backup (never deleted)"]}
    assert result["protected"] == names[3]
    assert os.path.exists(tmp_path / names[3]) and os.path.exists(tmp_path / (names[3] + ".manifest.json"))
    verdict = audit(store, now=NOW)["verdict"]
    assert verdict["status"] == "fail" and "is not verified" in verdict["summary"]


def test_audit_fails_on_a_missing_day_and_names_it(tmp_path):
    daily_timeline(tmp_path, 10, skip=(3,))
    verdict = audit(LocalStore(str(tmp_path)), now=NOW)["verdict"]
    missing = (NOW - timedelta(days=3)).date().isoformat()
    assert verdict["status"] == "fail" and f"no backup on {missing}" in verdict["summary"]
    ok = audit(LocalStore(str(tmp_path)), now=NOW, days=2)["verdict"]
    assert ok["status"] == "pass", ok["summary"]


def test_audit_fails_when_the_newest_is_too_old_and_is_pending_without_backups(tmp_path):
    assert audit(LocalStore(str(tmp_path)), now=NOW)["verdict"]["status"] == "pending"
    daily_timeline(tmp_path, 3, end=NOW - timedelta(hours=30))
    verdict = audit(LocalStore(str(tmp_path)), now=NOW)["verdict"]
    assert verdict["status"] == "fail" and "30.0 h old (max_age 26.0 h)" in verdict["summary"]
    assert audit(LocalStore(str(tmp_path)), now=NOW, max_age="2d")["verdict"]["status"] == "pass"


def test_orphans_and_partials_are_reported_young_and_removed_old(tmp_path):
    names = daily_timeline(tmp_path, 4)
    os.unlink(tmp_path / names[3])  # old orphan manifest (+ its record)
    old = (NOW - timedelta(days=3)).timestamp()
    young = (NOW - timedelta(hours=1)).timestamp()
    (tmp_path / "nightly-app-20261201T020000Z.dump.zst.partial").write_bytes(b"killed")
    os.utime(tmp_path / "nightly-app-20261201T020000Z.dump.zst.partial", (old, old))
    (tmp_path / "nightly-app-20261203T050000Z.dump.zst.partial").write_bytes(b"running")
    os.utime(tmp_path / "nightly-app-20261203T050000Z.dump.zst.partial", (young, young))
    (tmp_path / "README.txt").write_text("not ours")
    plan = prune(LocalStore(str(tmp_path)), {"keep_last": 10}, check_mode=True, now=NOW)
    assert plan["orphans"] == [{"name": names[3], "problem": "manifest without artifact", "age_h": 76.0,
                                "action": "remove", "files": [names[3] + ".verified.json", names[3] + ".manifest.json"]}]
    actions = {p["name"]: p["action"] for p in plan["partials"]}
    assert actions == {"nightly-app-20261201T020000Z.dump.zst.partial": "remove",
                       "nightly-app-20261203T050000Z.dump.zst.partial": "report"}
    only_report = prune(LocalStore(str(tmp_path)), {"keep_last": 10}, check_mode=True, now=NOW, orphan_age=None)
    assert only_report["would_remove"] == []
    prune(LocalStore(str(tmp_path)), {"keep_last": 10}, check_mode=False, now=NOW)
    left = files(tmp_path)
    assert "README.txt" in left and "nightly-app-20261203T050000Z.dump.zst.partial" in left
    assert not any(n.startswith(names[3]) for n in left)
    assert "nightly-app-20261201T020000Z.dump.zst.partial" not in left
    orphan_view = audit(LocalStore(str(tmp_path)), now=NOW)
    assert orphan_view["partials"] == ["nightly-app-20261203T050000Z.dump.zst.partial"]


def test_damaged_manifest_is_reported_and_never_deleted(tmp_path):
    names = daily_timeline(tmp_path, 5)
    manifest = tmp_path / (names[4] + ".manifest.json")
    doc = json.loads(manifest.read_text())
    doc["artifact"]["bytes"] += 1
    manifest.write_text(json.dumps(doc))
    result = prune(LocalStore(str(tmp_path)), {"keep_last": 1}, check_mode=False, now=NOW)
    assert [d["name"] for d in result["damaged"]] == [names[4]]
    assert "modified after it was written" in result["damaged"][0]["problem"]
    assert os.path.exists(tmp_path / names[4]) and manifest.exists()


def test_stale_verification_record_counts_as_unverified(tmp_path):
    names = daily_timeline(tmp_path, 2)
    other = plant(tmp_path / "..", NOW - timedelta(days=9), subject="other")
    (tmp_path / (names[0] + ".verified.json")).write_bytes((tmp_path / ".." / (other + ".verified.json")).read_bytes())
    view = audit(LocalStore(str(tmp_path)), now=NOW)
    assert view["backups"][0]["verification"] is None
    assert view["verdict"]["status"] == "fail" and "stale" in view["verdict"]["summary"]


def test_backup_from_the_future_is_kept_and_judges_nothing(tmp_path):
    names = daily_timeline(tmp_path, 3)
    future = plant(tmp_path, NOW + timedelta(days=2), verified=True, subject="skewed")
    result = prune(LocalStore(str(tmp_path)), {"keep_within": "1d"}, check_mode=True, now=NOW)
    assert result["future"] == [future]
    assert result["keep"][0] == {"name": future, "time": "2026-12-05T06:00:00Z", "verification": "pass",
                                 "size_bytes": result["keep"][0]["size_bytes"],
                                 "reasons": ["in the future (clock skew): not judged by age"]}
    # keep_within is measured from the newest backup that is not in the future
    assert [k["name"] for k in result["keep"][1:]] == [names[0]]
    assert result["protected"] == names[0]
    verdict = audit(LocalStore(str(tmp_path)), now=NOW)["verdict"]
    assert verdict["evidence"]["findings"]["future"] == 1 and verdict["status"] == "pass"


def test_a_verified_backup_from_the_future_does_not_unprotect_the_real_newest_verified(tmp_path):
    names = daily_timeline(tmp_path, 3, unverified=(0, 1))
    future = plant(tmp_path, NOW + timedelta(days=2), verified=True, subject="skewed")
    result = prune(LocalStore(str(tmp_path)), {"keep_last": 1}, check_mode=True, now=NOW)
    assert result["protected"] == names[2]
    assert [k["name"] for k in result["keep"]] == [future, names[0], names[2]]


class FlakyStore(LocalStore):
    """A real directory whose delete of one chosen file fails once (a faked disk error)."""

    def __init__(self, directory, fail_on):
        super().__init__(directory)
        self.fail_on = fail_on

    def delete(self, name):
        if name == self.fail_on:
            self.fail_on = None
            raise RetentionError(f"cannot delete {self.url(name)}: Input/output error")
        super().delete(name)


def test_deletion_failing_half_way_is_reported_and_the_next_run_finishes(tmp_path):
    names = daily_timeline(tmp_path, 5)
    store = FlakyStore(str(tmp_path), fail_on=names[3])  # the artifact, after its manifest went
    result = prune(store, {"keep_last": 2}, check_mode=False, now=NOW)
    assert result["verdict"]["status"] == "fail" and result["remaining"] == [names[3]]
    assert "Input/output error" in result["errors"][0] and "the next run finishes" in result["verdict"]["summary"]
    assert not os.path.exists(tmp_path / names[4])
    # now an orphan artifact (no manifest): not a backup any more, cleaned by the next run (old enough)
    again = prune(store, {"keep_last": 2}, check_mode=False, now=NOW)
    assert again["orphans"][0]["name"] == names[3] and again["removed"] == [names[3]]
    assert again["verdict"]["status"] == "pass"


def test_bad_input_is_a_clear_error_before_anything_is_deleted(tmp_path):
    daily_timeline(tmp_path, 3)
    before = files(tmp_path)
    store = LocalStore(str(tmp_path))
    for spec, message in (({"keep_daily": -3}, "negative"), ({}, "no rule is set"), ({"keep_dayly": 1}, "unknown key")):
        with pytest.raises(RetentionError, match=message):
            prune(store, spec, check_mode=False, now=NOW)
    with pytest.raises(RetentionError, match="not a known IANA time zone"):
        prune(store, GFS, check_mode=False, now=NOW, tz_name="Mars/Olympus")
    with pytest.raises(RetentionError, match="does not exist"):
        prune(LocalStore(str(tmp_path / "nope")), GFS, check_mode=False, now=NOW)
    assert files(tmp_path) == before


def test_day_buckets_follow_the_configured_time_zone(tmp_path):
    # 23:30 UTC on two consecutive days = 00:30 the next day in Paris (UTC+1 in December)
    first = plant(tmp_path, NOW.replace(hour=0, minute=30) - timedelta(days=1))
    second = plant(tmp_path, NOW.replace(hour=0, minute=0) - timedelta(minutes=30))
    third = plant(tmp_path, NOW.replace(hour=12) - timedelta(days=2))  # the oldest, 12-01 everywhere
    utc = prune(LocalStore(str(tmp_path)), {"keep_daily": 5}, check_mode=True, now=NOW)
    paris = prune(LocalStore(str(tmp_path)), {"keep_daily": 5}, check_mode=True, now=NOW, tz_name="Europe/Paris")
    assert [k["name"] for k in utc["keep"]] == [second, third]  # first and second share 2026-12-02 in UTC
    assert [k["name"] for k in paris["keep"]] == [second, first, third]
