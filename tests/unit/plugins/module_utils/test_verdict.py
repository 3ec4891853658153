import json
import os

import pytest

from ansible_collections.deploysafe.preflight.plugins.module_utils import verdict as v


def test_status_from_no_checks_is_pending_never_pass():
    assert v.status_from([]) == v.PENDING
    assert v.status_from([True, None]) == v.PENDING
    assert v.status_from([True, True]) == v.PASS
    assert v.status_from([True, None, False]) == v.FAIL


def test_worst_orders_fail_over_pending_over_pass():
    assert v.worst([v.PASS, v.PENDING]) == v.PENDING
    assert v.worst([v.PENDING, v.FAIL, v.PASS]) == v.FAIL
    assert v.worst([]) == v.PENDING


def test_measurement_records_threshold_outcome():
    ok = v.measurement("p95", 120.0, "ms", 500, "<")
    bad = v.measurement("p95", 700.0, "ms", 500, "<")
    assert ok["ok"] is True and bad["ok"] is False
    assert v.measurement("p95", None, "ms", 500, "<")["ok"] is False
    with pytest.raises(ValueError):
        v.measurement("x", 1, "s", 1, "~")


def test_make_verdict_rejects_unknown_status():
    with pytest.raises(ValueError, match="status"):
        v.make_verdict("ok", "nope")


def test_merge_adds_findings_and_takes_worst():
    a = v.make_verdict(v.PASS, "a", findings={"high": 1})
    b = v.make_verdict(v.FAIL, "b", findings={"high": 2, "low": 1})
    merged = v.merge("both", [a, b])
    assert merged["status"] == v.FAIL
    assert merged["evidence"]["findings"] == {"high": 3, "low": 1}


def test_write_and_read_verdict_round_trip(tmp_path):
    art = tmp_path / "artifact.bin"
    art.write_bytes(b"data")
    verdict = v.make_verdict(v.PASS, "fine", artifacts=[v.artifact(str(art))],
                             measurements=[v.measurement("duration", 1.5, "s")])
    path = v.write_verdict(str(tmp_path / "run"), "pg_backup", verdict, {"extra": 1})
    record = v.read_verdict(path)
    assert record["verdict"] == verdict and record["details"] == {"extra": 1}
    assert record["verdict"]["evidence"]["artifacts"][0]["sha256"] == \
        "3a6eb0790f39ac87c94f3856b2dd2c5d110e6811602261a9a923d3bb23adc8b7"
    assert oct(os.stat(path).st_mode & 0o777) == "0o600"
    assert not [p for p in os.listdir(tmp_path / "run") if p.endswith(".partial")]


@pytest.mark.parametrize("bad", [
    None, {"status": "pass"}, {"status": "pass", "summary": "x", "evidence": {}},
    {"status": "pass", "summary": "x", "evidence": {"artifacts": [{"path": "a"}], "findings": {}, "measurements": []}},
])
def test_validate_rejects_malformed(bad):
    with pytest.raises(ValueError):
        v.validate(bad)


def test_atomic_write_leaves_no_partial_on_failure(tmp_path, monkeypatch):
    """A failing fsync (full disk) loses nothing: the old file stays, no temp file remains."""
    target = tmp_path / "out.json"
    target.write_text("old")

    def broken_fsync(fd):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(v.os, "fsync", broken_fsync)
    with pytest.raises(OSError):
        v.atomic_write_bytes(str(target), b"new")
    assert target.read_text() == "old"
    assert os.listdir(tmp_path) == ["out.json"]
