"""The drill clock's RPO from a record that measured it (a pgBackRest PITR restore)."""

from __future__ import annotations

import pytest

from ansible_collections.deploysafe.preflight.plugins.module_utils.drill import DrillError
from ansible_collections.deploysafe.preflight.plugins.module_utils.drill.clock import (
    rpo_seconds, start_restore, stop_restore)
from ansible_collections.deploysafe.preflight.plugins.module_utils.drill.report import timing_verdict
from ansible_collections.deploysafe.preflight.plugins.module_utils.run import current_run
from ansible_collections.deploysafe.preflight.plugins.module_utils.verdict import (
    make_verdict, measurement, produced_by, record_path, verdict_record, write_record)


def _record(run_dir, run, rpo, producer=True):
    verdict = make_verdict("pass", "restored", measurements=[measurement("rpo", rpo, "s"), measurement("rto", 3.0, "s")])
    if producer:
        verdict = produced_by(verdict, "pgbackrest_restore_verify")
    write_record(record_path(str(run_dir), "pgbr_restore_verify"),
                 verdict_record("pgbr_restore_verify", verdict, run=run))


def test_rpo_comes_from_the_record_of_this_run(tmp_path):
    run = current_run(str(tmp_path))
    start_restore(str(tmp_path), run["run_id"], [], rpo_record="pgbr_restore_verify")
    _record(tmp_path, run, 4.5)
    clock = stop_restore(str(tmp_path), run["run_id"])
    assert rpo_seconds(clock) == 4.5
    assert timing_verdict(clock, 900, 60)["status"] == "pass"
    assert timing_verdict(clock, 900, 1)["status"] == "fail"


def test_a_hand_written_record_does_not_give_the_rpo(tmp_path):
    run = current_run(str(tmp_path))
    start_restore(str(tmp_path), run["run_id"], [], rpo_record="pgbr_restore_verify")
    _record(tmp_path, run, 0.0, producer=False)
    clock = stop_restore(str(tmp_path), run["run_id"])
    assert rpo_seconds(clock) is None
    verdict = timing_verdict(clock, 900, 60)
    assert verdict["status"] == "pending" and "recorded no rpo measurement" in verdict["summary"]


def test_start_needs_backups_or_a_record(tmp_path):
    with pytest.raises(DrillError, match="rpo_record"):
        start_restore(str(tmp_path), "", [])
