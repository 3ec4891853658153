"""The drill's clock, its rto_rpo verdict and its report, on real files in a temporary run directory."""

from __future__ import annotations

import json
import os

import pytest

from ansible_collections.deploysafe.preflight.plugins.module_utils.archive import manifest_path, write_manifest
from ansible_collections.deploysafe.preflight.plugins.module_utils.drill import DrillError
from ansible_collections.deploysafe.preflight.plugins.module_utils.drill.actions import drill_action
from ansible_collections.deploysafe.preflight.plugins.module_utils.drill.clock import (
    elapsed, read_clock, rpo_seconds, rto_seconds, start_restore, stop_restore, take_mark,
)
from ansible_collections.deploysafe.preflight.plugins.module_utils.drill.report import (
    drill_items, drill_report, timing_verdict,
)
from ansible_collections.deploysafe.preflight.plugins.module_utils.run import start_or_join, store_run
from ansible_collections.deploysafe.preflight.plugins.module_utils.verdict import (
    make_verdict, measurement, produced_by, record_path, utc_iso, verdict_record, write_record,
)

T0 = 1_800_000_000.0


def backup(tmp_path, name: str, started: float, kind: str = "postgresql") -> str:
    """A real artifact with a sealed manifest whose started_at is `started`."""
    path = tmp_path / name
    path.write_bytes(b"dump bytes")
    stamp = utc_iso(started).replace("Z", ".250000Z")
    write_manifest(manifest_path(str(path)), {
        "format": "deploysafe.preflight/archive-manifest", "format_version": 1, "tool": {"name": "t"},
        "artifact": {"name": name, "bytes": 10, "sha256": "ab" * 32}, "plaintext": {}, "compression": {},
        "encryption": None, "source_identity": {"kind": kind}, "source": {}, "started_at": stamp,
        "finished_at": stamp})
    return str(path)


def run(tmp_path) -> tuple:
    run_dir = tmp_path / "drill"
    _changed, record, _before = start_or_join(str(run_dir), now=T0)
    store_run(str(run_dir), record)
    return str(run_dir), record["run_id"]


def mark(wall: float, monotonic: float, boot: str = "boot-1") -> dict:
    return dict(take_mark(wall, monotonic), boot_id=boot, host="h")


def put(run_dir: str, run_id: str, name: str, status: str = "pass") -> None:
    verdict = produced_by(make_verdict(status, f"{name} {status}", measurements=[measurement("checked", 1, "items")]), "t")
    write_record(record_path(run_dir, name), verdict_record(name, verdict, run={"run_id": run_id, "release": {}}))


def test_rto_uses_the_monotonic_clock_within_one_boot_and_the_wall_clock_across_boots():
    start, stop = mark(T0, 100.0), mark(T0 + 50, 103.5)  # the wall clock stepped 46.5 s (NTP) meanwhile
    assert elapsed(start, stop) == 3.5
    assert elapsed(start, dict(stop, boot_id="boot-2")) == 50


def test_clock_marks_backups_and_measures_rto_and_rpo(tmp_path):
    run_dir, run_id = run(tmp_path)
    pg = backup(tmp_path, "pg.dump.zst", T0 - 120)
    s3 = backup(tmp_path, "s3.tar.zst", T0 - 30, kind="s3")
    clock = start_restore(run_dir, run_id, [pg, s3], mark=mark(T0, 10.0))
    assert rto_seconds(clock) is None
    assert rpo_seconds(clock) == 119.75  # the oldest backup used, from its manifest's started_at
    stopped = stop_restore(run_dir, run_id, mark=mark(T0 + 7, 17.25))
    assert rto_seconds(stopped) == 7.25 and read_clock(run_dir)["restore_verified"]["monotonic"] == 17.25
    assert [b["sha256"] for b in stopped["backups"]] == ["ab" * 32] * 2


def test_clock_refuses_bad_input(tmp_path):
    run_dir, run_id = run(tmp_path)
    with pytest.raises(DrillError, match="needs the backups"):
        start_restore(run_dir, run_id, [])
    with pytest.raises(DrillError, match="manifest missing"):
        start_restore(run_dir, run_id, [str(tmp_path / "nope.dump.zst")])
    with pytest.raises(DrillError, match="needs an earlier start_restore"):
        stop_restore(run_dir, run_id)
    with pytest.raises(DrillError, match="belongs to run"):
        start_restore(run_dir, "20270101T000000Z-000000000000", [backup(tmp_path, "a", T0)])


def test_timing_verdict_passes_within_targets_and_fails_naming_the_measured_value(tmp_path):
    run_dir, run_id = run(tmp_path)
    start_restore(run_dir, run_id, [backup(tmp_path, "pg", T0 - 60)], mark=mark(T0, 10.0))
    clock = stop_restore(run_dir, run_id, mark=mark(T0 + 4, 14.0))
    ok = timing_verdict(clock, 900, 86400)
    assert ok["status"] == "pass", ok
    values = {m["name"]: (m["value"], m["unit"], m.get("ok")) for m in ok["evidence"]["measurements"]}
    assert values["rto"] == (4.0, "s", True) and values["rpo"] == (59.75, "s", True)
    assert ok["evidence"]["artifacts"][0]["sha256"] == "ab" * 32
    missed = timing_verdict(clock, 0.001, 86400)
    assert missed["status"] == "fail" and "RTO 4.0 s exceeds the target 0.001 s" in missed["summary"]
    stale = timing_verdict(clock, 900, 30)
    assert stale["status"] == "fail" and "RPO 59.75 s exceeds the target 30 s" in stale["summary"]


def test_timing_is_pending_when_not_measured(tmp_path):
    run_dir, run_id = run(tmp_path)
    assert timing_verdict(None, 900, 86400)["status"] == "pending"
    started = start_restore(run_dir, run_id, [backup(tmp_path, "pg", T0 - 60)], mark=mark(T0, 10.0))
    never_verified = timing_verdict(started, 900, 86400)
    assert never_verified["status"] == "pending" and "never verified" in never_verified["summary"]
    future = start_restore(run_dir, run_id, [backup(tmp_path, "late", T0 + 600)], mark=mark(T0, 10.0))
    skewed = timing_verdict(future, 900, 86400)
    assert skewed["status"] == "pending" and "clock skew" in skewed["summary"]


def test_drill_items_follow_the_services():
    assert [i["name"] for i in drill_items(["postgresql"])] == [
        "pg_backup", "pg_backup_verify", "pg_scratch_copy", "pg_restore", "pg_restore_verify", "rto_rpo"]
    assert len(drill_items(["postgresql", "s3"])) == 11
    with pytest.raises(DrillError, match="services"):
        drill_items(["mysql"])


def _measured_drill(tmp_path, rto_end: float = 12.0):
    run_dir, run_id = run(tmp_path)
    for item in drill_items(["postgresql"])[:-1]:
        put(run_dir, run_id, item["name"])
    start_restore(run_dir, run_id, [backup(tmp_path, "pg", T0 - 60)], mark=mark(T0, 10.0))
    stop_restore(run_dir, run_id, mark=mark(T0 + 2, rto_end))
    return run_dir, run_id


def test_report_passes_when_every_step_passed_within_targets(tmp_path):
    run_dir, run_id = _measured_drill(tmp_path)
    out = drill_report(run_dir, run_id, 900, 86400, services=["postgresql"], now=T0 + 5)
    model = out["model"]
    assert model["decision"] == "pass", model["decision_reason"]
    assert "RTO 2.0 s <= 900" in model["decision_reason"]
    assert sorted(os.path.basename(p) for p in out["reports"].values()) == [
        "drill.html", "drill.json", "drill.junit.xml", "drill.md"]
    stored = json.loads(open(out["reports"]["json"], encoding="utf-8").read())
    assert stored["decision"] == "pass" and stored["items"][-1]["name"] == "rto_rpo"
    assert "PASS" in open(out["reports"]["markdown"], encoding="utf-8").read()
    assert json.load(open(record_path(run_dir, "rto_rpo"), encoding="utf-8"))["run_id"] == run_id


def test_report_fails_on_a_missed_target_and_on_a_failed_step(tmp_path):
    run_dir, run_id = _measured_drill(tmp_path, rto_end=15.5)
    missed = drill_report(run_dir, run_id, 0.001, 86400, services=["postgresql"], now=T0 + 5)["model"]
    assert missed["decision"] == "fail" and "RTO 5.5 s exceeds the target 0.001 s" in missed["decision_reason"]
    put(run_dir, run_id, "pg_restore_verify", status="fail")
    failed = drill_report(run_dir, run_id, 900, 86400, services=["postgresql"], now=T0 + 5)["model"]
    assert failed["decision"] == "fail" and "pg_restore_verify (pg_restore_verify fail)" in failed["decision_reason"]


def test_report_is_pending_for_steps_that_did_not_run_and_ignores_an_earlier_drill(tmp_path):
    run_dir, old_run = _measured_drill(tmp_path)
    # a new drill in the same directory: the earlier records and clock never stand for it
    _changed, record, _before = start_or_join(run_dir, now=T0 + 100)
    store_run(run_dir, record)
    put(run_dir, record["run_id"], "pg_backup", status="fail")
    result, gate = drill_action({"action": "report", "run_dir": run_dir, "run_id": "", "services": ["postgresql"],
                                 "rto_target": 900, "rpo_target": 86400, "stopped_after": "pg_backup",
                                 "formats": ["json"], "fail_on": "pending"}, check=False, now=T0 + 105)
    status = {i["name"]: (i["status"], i["reason"]) for i in result["items"]}
    assert result["decision"] == "fail" and gate and "pg_backup" in gate
    assert status["pg_restore"][0] == "pending"
    assert status["pg_restore"][1].startswith("not run: the drill stopped after pg_backup (recorded by another run")
    assert status["rto_rpo"][0] == "pending" and result["rto_seconds"] is None
    assert result["verdict"]["status"] == "fail"


def test_report_refuses_targets_that_are_not_positive(tmp_path):
    run_dir, run_id = run(tmp_path)
    with pytest.raises(DrillError, match="positive"):
        drill_report(run_dir, run_id, 0, 86400)
