"""Prometheus metrics of a backup schedule's status file: values, escaping, the textfile written atomically,
the backup_metrics module (check mode, diff, errors), and `promtool check metrics` on what we write."""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
from datetime import datetime, timezone

import pytest
from tests.unit.module_args import patch_module_args

from ansible_collections.deploysafe.preflight.plugins.module_utils.retention import RetentionError
from ansible_collections.deploysafe.preflight.plugins.module_utils.retention.metrics import (
    METRICS, export_status_metrics, render_textfile, status_samples, status_textfile, textfile_path)
from ansible_collections.deploysafe.preflight.plugins.module_utils.textfile import (
    TextfileError, escape_label_value, write_textfile)
from ansible_collections.deploysafe.preflight.plugins.modules import backup_metrics

NOW = datetime(2026, 12, 3, 12, 0, 0, tzinfo=timezone.utc)
T_SUCCESS = datetime(2026, 12, 3, 2, 15, 40, tzinfo=timezone.utc).timestamp()
T_FAILURE = datetime(2026, 12, 2, 2, 20, 0, tzinfo=timezone.utc).timestamp()


def status(**overrides):
    doc = {
        "format": "deploysafe.preflight/backup-status", "format_version": 1, "name": "nightly", "kind": "pg",
        "location": "/var/backups/pg",
        "last_run": {"started_at": "2026-12-03T02:15:00Z", "finished_at": "2026-12-03T02:15:40Z",
                     "duration_s": 40.125, "ok": True},
        "last_success": {"finished_at": "2026-12-03T02:15:40Z", "duration_s": 40.125, "size_bytes": 1048576,
                         "artifact": "/var/backups/pg/nightly-x.dump.zst", "verification": "pass", "kept": 9,
                         "removed": []},
        "last_verified": {"finished_at": "2026-12-03T02:15:40Z", "artifact": "/var/backups/pg/nightly-x.dump.zst"},
        "last_failure": {"finished_at": "2026-12-02T02:20:00Z", "step": "backup", "message": "connection refused"},
    }
    doc.update(overrides)
    return doc


def test_samples_of_a_successful_verified_run():
    samples = status_samples(status(), now=NOW)
    assert samples == {
        "deploysafe_backup_last_success_timestamp_seconds": T_SUCCESS,
        "deploysafe_backup_last_verified_timestamp_seconds": T_SUCCESS,
        "deploysafe_backup_last_failure_timestamp_seconds": T_FAILURE,
        "deploysafe_backup_last_run_success": 1.0,
        "deploysafe_backup_duration_seconds": 40.125,
        "deploysafe_backup_size_bytes": 1048576.0,
        "deploysafe_backup_artifacts_kept": 9.0,
        "deploysafe_backup_max_age_seconds": 26 * 3600.0,
    }


def test_a_schedule_that_never_succeeded_has_zero_timestamps_and_no_size():
    failed = status(last_run={"started_at": "x", "finished_at": "2026-12-02T02:20:00Z", "duration_s": 3, "ok": False},
                    last_success=None, last_verified=None)
    samples = status_samples(failed, max_age="1d", now=NOW)
    assert samples["deploysafe_backup_last_success_timestamp_seconds"] == 0
    assert samples["deploysafe_backup_last_verified_timestamp_seconds"] == 0
    assert samples["deploysafe_backup_last_run_success"] == 0
    assert samples["deploysafe_backup_max_age_seconds"] == 86400
    assert "deploysafe_backup_size_bytes" not in samples and "deploysafe_backup_artifacts_kept" not in samples


def test_last_verified_stays_behind_an_unverified_success():
    doc = status(last_verified={"finished_at": "2026-12-01T02:15:00Z", "artifact": "older"})
    doc["last_success"]["verification"] = "pending"
    samples = status_samples(doc, now=NOW)
    assert samples["deploysafe_backup_last_verified_timestamp_seconds"] < samples[
        "deploysafe_backup_last_success_timestamp_seconds"]


def test_a_status_without_last_verified_section_uses_a_verified_last_success():
    doc = status()
    del doc["last_verified"]
    assert status_samples(doc, now=NOW)["deploysafe_backup_last_verified_timestamp_seconds"] == T_SUCCESS
    doc["last_success"]["verification"] = "pending"
    assert status_samples(doc, now=NOW)["deploysafe_backup_last_verified_timestamp_seconds"] == 0


@pytest.mark.parametrize("overrides, message", [
    ({"last_failure": {"step": "backup"}}, "no finished_at"),
    ({"last_run": {"ok": True, "duration_s": "12"}}, "last_run.duration_s must be a number"),
    ({"last_run": {"ok": True, "duration_s": float("nan")}}, "last_run.duration_s must be a number"),
])
def test_bad_status_values_are_named(overrides, message):
    with pytest.raises(RetentionError, match=message):
        status_samples(status(**overrides), now=NOW)


def test_bad_max_age_is_named():
    with pytest.raises(RetentionError, match="max_age"):
        status_samples(status(), max_age="26 hours", now=NOW)


def test_label_values_are_escaped():
    assert escape_label_value('a\\b"c\nd') == 'a\\\\b\\"c\\nd'
    text = render_textfile({"deploysafe_backup_last_run_success": 1},
                           {"schedule": "s", "kind": "pg", "location": 'C:\\bk "x"\nnext'})
    assert 'location="C:\\\\bk \\"x\\"\\nnext"' in text


def test_rendering_has_help_type_and_one_labelled_sample_per_metric():
    text, samples = status_textfile(status(), now=NOW)
    lines = text.splitlines()
    assert text.endswith("\n") and len(lines) == 3 * len(METRICS) == 3 * len(samples)
    for name in METRICS:
        assert f"# TYPE {name} gauge" in lines and any(line.startswith(f"# HELP {name} ") for line in lines)
    labels = '{schedule="nightly",kind="pg",location="/var/backups/pg"}'
    assert f"deploysafe_backup_last_success_timestamp_seconds{labels} {int(T_SUCCESS)}" in lines
    assert f"deploysafe_backup_duration_seconds{labels} 40.125" in lines


def test_render_refuses_unknown_metrics_and_missing_labels():
    with pytest.raises(RetentionError, match="unknown metric"):
        render_textfile({"deploysafe_backup_typo": 1}, {"schedule": "s", "kind": "pg", "location": "/b"})
    with pytest.raises(RetentionError, match="labels missing: location"):
        render_textfile({}, {"schedule": "s", "kind": "pg"})


def test_textfile_path_refuses_names_that_leave_the_directory(tmp_path):
    assert textfile_path(str(tmp_path), "pg-app_1") == str(tmp_path / "deploysafe_backup_pg-app_1.prom")
    with pytest.raises(RetentionError, match="letters, digits"):
        textfile_path(str(tmp_path), "../etc/x")


@pytest.mark.skipif(shutil.which("promtool") is None, reason="promtool (Debian package prometheus) not installed")
@pytest.mark.parametrize("doc", [status(), status(location='/b/"odd"\\dir\n', last_success=None, last_verified=None)])
def test_promtool_accepts_what_we_write(doc):
    text, _ = status_textfile(doc, now=NOW)
    check = subprocess.run(["promtool", "check", "metrics"], input=text, capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr
    assert check.stdout.strip() == "" and check.stderr.strip() == ""  # no lint complaint either


def test_write_is_atomic_private_to_the_directory_and_readable(tmp_path):
    path = str(tmp_path / "deploysafe_backup_nightly.prom")
    write_textfile(path, "a 1\n")
    write_textfile(path, "a 2\n")
    assert open(path).read() == "a 2\n"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o644
    assert sorted(os.listdir(tmp_path)) == ["deploysafe_backup_nightly.prom"]  # no temp file left


def test_the_temp_file_is_in_the_same_directory_and_not_a_prom_file(tmp_path, monkeypatch):
    """node_exporter reads every *.prom: the half-written file must not be one; rename needs the same fs."""
    renames = []
    real_replace = os.replace
    monkeypatch.setattr(os, "replace", lambda src, dst: (renames.append((src, dst)), real_replace(src, dst)))
    path = str(tmp_path / "deploysafe_backup_nightly.prom")
    write_textfile(path, "a 1\n")
    (tmp, dest), = renames
    assert dest == path and os.path.dirname(tmp) == str(tmp_path) and not tmp.endswith(".prom")


def test_write_into_a_missing_directory_is_a_clear_error(tmp_path):
    with pytest.raises(TextfileError, match="textfile directory .* does not exist"):
        write_textfile(str(tmp_path / "none" / "x.prom"), "a 1\n")


def test_export_reports_change_only_when_the_text_changes(tmp_path):
    status_file = tmp_path / "nightly.status.json"
    status_file.write_text(json.dumps(status()))
    planned = export_status_metrics(str(status_file), str(tmp_path), check_mode=True, now=NOW)
    assert planned["changed"] and not os.path.exists(planned["path"])
    done = export_status_metrics(str(status_file), str(tmp_path), now=NOW)
    assert done["changed"] and open(done["path"]).read() == done["diff"]["after"]
    assert not export_status_metrics(str(status_file), str(tmp_path), now=NOW)["changed"]


def test_export_without_status_file_is_a_clear_error(tmp_path):
    with pytest.raises(RetentionError, match="has not run yet"):
        export_status_metrics(str(tmp_path / "none.json"), str(tmp_path))


def _run_module(args, capsys):
    with patch_module_args(args):
        with pytest.raises(SystemExit):
            backup_metrics.main()
    return json.loads(capsys.readouterr().out)


def test_module_writes_the_file_and_returns_the_values(tmp_path, capsys):
    status_file = tmp_path / "nightly.status.json"
    status_file.write_text(json.dumps(status()))
    result = _run_module({"status_file": str(status_file), "textfile_dir": str(tmp_path), "max_age": "2d",
                          "_ansible_diff": True}, capsys)
    assert result["changed"] and result["path"] == str(tmp_path / "deploysafe_backup_nightly.prom")
    assert result["metrics"]["deploysafe_backup_max_age_seconds"] == 2 * 86400
    assert result["diff"]["after"] == (tmp_path / "deploysafe_backup_nightly.prom").read_text()
    again = _run_module({"status_file": str(status_file), "textfile_dir": str(tmp_path), "max_age": "2d"}, capsys)
    assert not again["changed"] and "diff" not in again


def test_module_check_mode_writes_nothing_and_errors_are_messages(tmp_path, capsys):
    status_file = tmp_path / "nightly.status.json"
    status_file.write_text(json.dumps(status()))
    result = _run_module({"status_file": str(status_file), "textfile_dir": str(tmp_path),
                          "_ansible_check_mode": True}, capsys)
    assert result["changed"] and not (tmp_path / "deploysafe_backup_nightly.prom").exists()
    status_file.write_text('{"format": "something else"}')
    failed = _run_module({"status_file": str(status_file), "textfile_dir": str(tmp_path)}, capsys)
    assert failed["failed"] and "is not a deploysafe.preflight/backup-status document" in failed["msg"]
    assert "Traceback" not in failed["msg"]
