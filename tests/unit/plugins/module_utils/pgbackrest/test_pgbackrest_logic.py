"""pgBackRest logic without pgBackRest: configuration reading, backup choice for a target, marker
classification, restore options, verify parsing and the drill verdict."""

from __future__ import annotations

import pytest

from ansible_collections.deploysafe.preflight.plugins.module_utils.pgbackrest import PgBackRestError
from ansible_collections.deploysafe.preflight.plugins.module_utils.pgbackrest.command import Run, parse_verify
from ansible_collections.deploysafe.preflight.plugins.module_utils.pgbackrest.config import (
    archive_command, read_config)
from ansible_collections.deploysafe.preflight.plugins.module_utils.pgbackrest.drill_verdict import (
    drill_properties, drill_verdict)
from ansible_collections.deploysafe.preflight.plugins.module_utils.pgbackrest.probe import AmcheckReport, DataProof
from ansible_collections.deploysafe.preflight.plugins.module_utils.pgbackrest.restore_verify import (
    DrillResult, Target, choose_backup, restore_options)
from ansible_collections.deploysafe.preflight.plugins.module_utils.pgbackrest.source import classify_markers

CONF = """[global]
repo1-path=/var/lib/pgbackrest
repo1-retention-full=2

[main]
pg1-path=/var/lib/postgresql/15/main
pg1-port=5433
pg1-socket-path=/run/postgresql
"""


def _backup(label, start, stop, lsn_stop="0/3000088", kind="full"):
    return {"label": label, "type": kind, "timestamp": {"start": start, "stop": stop}, "lsn": {"stop": lsn_stop}}


INFO = {"name": "main", "backup": [_backup("F1", 100, 110, "0/3000000"), _backup("I2", 200, 210, "0/5000000", "incr")]}


def test_read_config(tmp_path):
    path = tmp_path / "pgbackrest.conf"
    path.write_text(CONF)
    config = read_config(str(path), "main")
    assert (config.pg_path, config.pg_port, config.pg_socket_path, config.repo_path) == (
        "/var/lib/postgresql/15/main", 5433, "/run/postgresql", "/var/lib/pgbackrest")
    with pytest.raises(PgBackRestError, match=r"has no \[other\] section \(sections: global, main\)"):
        read_config(str(path), "other")
    with pytest.raises(PgBackRestError, match="does not exist"):
        read_config(str(tmp_path / "missing.conf"), "main")


def test_archive_command_quotes_paths():
    assert archive_command("/etc/pg br/x.conf", "main") == "pgbackrest --config='/etc/pg br/x.conf' --stanza=main archive-push %p"


def test_choose_backup_for_time_lsn_and_latest():
    assert choose_backup(INFO, Target("time", "t", 150.0))["label"] == "F1"
    assert choose_backup(INFO, Target("time", "t", 300.0))["label"] == "I2"
    assert choose_backup(INFO, Target("latest"))["label"] == "I2"
    assert choose_backup(INFO, Target("lsn", "0/4000000"))["label"] == "F1"
    with pytest.raises(PgBackRestError, match=r"before the end of the first usable backup \(F1"):
        choose_backup(INFO, Target("time", "1970-01-01 00:01:45+00", 105.0))
    with pytest.raises(PgBackRestError, match="backup set X9 is not in the repository"):
        choose_backup(INFO, Target("latest"), "X9")
    with pytest.raises(PgBackRestError, match="no backup in the repository"):
        choose_backup({"name": "main", "backup": []}, Target("latest"))


def test_markers_are_classified_around_the_target_with_a_margin():
    markers = [{"token": "a", "written_at": 10.0}, {"token": "b", "written_at": 19.8}, {"token": "c", "written_at": 25.0}]
    out = classify_markers(markers, 20.0)
    assert [m["token"] for m in out["before"]] == ["a"]
    assert [m["token"] for m in out["ambiguous"]] == ["b"]
    assert [m["token"] for m in out["after"]] == ["c"]
    assert len(classify_markers(markers, None)["before"]) == 3


def test_restore_options_never_archive_and_name_the_target():
    opts = restore_options(Target("time", "2026-12-03 10:00:00+00", 1.0), "F1", "/tmp/x/data", 2)
    assert "--archive-mode=off" in opts and "--set=F1" in opts and "--process-max=2" in opts
    assert "--type=time" in opts and "--target=2026-12-03 10:00:00+00" in opts and "--target-action=promote" in opts
    latest = restore_options(Target("latest"), "F1", "/tmp/x/data", 0)
    assert not any(o.startswith(("--type", "--target")) for o in latest)


VERIFY_BAD = """2026-12-03 15:38:10.148 P02   INFO: invalid checksum '20261203-153455F/pg_data/base/1/1247.zst'
2026-12-03 15:38:10.395 P00   INFO: stanza: main
                                    status: error
stanza: main
status: error
  backup: 20261203-153455F, status: invalid, total files checked: 1294, total valid files: 1293
"""


def test_verify_parsing_names_the_damaged_file_even_with_exit_0():
    report = parse_verify(Run(["pgbackrest", "verify"], 0, VERIFY_BAD, "", 0.5))  # 2.45's output, recorded
    assert not report.ok and report.status == "error"
    assert report.bad_files == [{"problem": "invalid checksum", "file": "20261203-153455F/pg_data/base/1/1247.zst"}]
    good = parse_verify(Run(["pgbackrest", "verify"], 0, "stanza: main\nstatus: ok\n", "", 0.5))
    assert good.ok and good.status == "ok"


def _result(**kw):
    r = DrillResult(target=Target("time", "t", 100.0), backup_label="F1", wal={"archived": True, "segment": "S"},
                    rpo_s=1.5, rto_s=9.0, recovery={"last_replayed_xact_at": 99.0},
                    proof=DataProof(databases=["app", "postgres"], marker_tokens=["a"], row_counts={"app": {"t": 1}}),
                    amcheck=AmcheckReport(True, 0, [], 1.0),
                    markers={"before": [{"token": "a"}], "after": [{"token": "b"}], "ambiguous": []},
                    cleanup={"stopped": True, "removed": True, "port_free": True})
    for key, value in kw.items():
        setattr(r, key, value)
    return r


def test_drill_verdict_passes_with_rto_and_rpo_measured():
    verdict = drill_verdict(_result(), "stanza main", rto_target=60, rpo_target=60)
    assert verdict["status"] == "pass", verdict["summary"]
    values = {m["name"]: m for m in verdict["evidence"]["measurements"]}
    assert values["rto"]["ok"] and values["rpo"]["value"] == 1.5


@pytest.mark.parametrize("change, expected", [
    ({"proof": DataProof(databases=["app"], marker_tokens=["a", "b"])}, "recovery went too far"),
    ({"proof": DataProof(databases=["app"], marker_tokens=[])}, "written before the target are missing"),
    ({"amcheck": AmcheckReport(False, 2, ["heap table public.t, block 0: corrupt"], 1.0)}, "pg_amcheck found problems"),
    ({"cleanup": {"stopped": False, "removed": True, "port_free": False}}, "not fully removed"),
    ({"restore_error": "error restoring 'base/1/1247'"}, "restore of F1 failed: error restoring 'base/1/1247'"),
    ({"wal": {"archived": False, "segment": "S", "last_failed_wal": "S"}}, "WAL archiving broken"),
])
def test_each_planted_defect_fails_the_drill(change, expected):
    verdict = drill_verdict(_result(**change), "stanza main")
    assert verdict["status"] == "fail" and expected in verdict["summary"], verdict["summary"]


def test_no_marker_before_the_target_is_pending_not_pass():
    r = _result(markers={"before": [], "after": [{"token": "b"}], "ambiguous": []})
    assert drill_properties(r)["markers_before_target_present"] == "pending"
    assert drill_verdict(r, "stanza main")["status"] == "pending"


def test_rto_over_its_target_fails():
    assert drill_verdict(_result(), "stanza main", rto_target=5)["status"] == "fail"
