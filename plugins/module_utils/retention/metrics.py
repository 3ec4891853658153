# Copyright: (c) 2026, deploysafe.preflight contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Prometheus metrics of a scheduled backup, from its status file (see `status`), in the text format that
node_exporter's textfile collector reads (`<dir>/deploysafe_backup_<name>.prom`).

Every metric is a gauge labelled `schedule`, `kind` and `location`. Timestamps are Unix seconds, 0 meaning
"never" (so that `time() - ..._last_success_timestamp_seconds` of a schedule that never succeeded is huge and
BackupTooOld fires, instead of the series being absent and nothing firing). Values that do not exist yet (the
size of a backup when none succeeded) are left out rather than written as 0.

The file is replaced atomically (temp name in the same directory that does not end in .prom, fsync, rename):
node_exporter never reads half a file. The alert rules and the Grafana dashboard shipped with the collection
use exactly the names in METRICS; a unit test holds them to it.
"""

from __future__ import annotations

import math
import os
from datetime import datetime, timezone
from typing import Any, Dict, Mapping, Optional, Tuple

from ..textfile import TextfileError, prom_file_name, render_gauges, replace_textfile
from . import RetentionError
from .inventory import parse_time
from .status import read_status
from .policy import duration_seconds, parse_duration

PREFIX = "deploysafe_backup_"
# name -> HELP text, in the order they are written
METRICS: Dict[str, str] = {
    "deploysafe_backup_last_success_timestamp_seconds":
        "Unix time the last successful run (backup, verify, retention) finished; 0 if none.",
    "deploysafe_backup_last_verified_timestamp_seconds":
        "Unix time the last run whose backup passed verification finished; 0 if none.",
    "deploysafe_backup_last_failure_timestamp_seconds":
        "Unix time the last failed run finished; 0 if none.",
    "deploysafe_backup_last_run_success":
        "1 if the last run succeeded, 0 if it failed.",
    "deploysafe_backup_duration_seconds":
        "Duration of the last run in seconds.",
    "deploysafe_backup_size_bytes":
        "Stored size of the backup of the last successful run in bytes.",
    "deploysafe_backup_artifacts_kept":
        "Backups kept at the location by the retention of the last successful run.",
    "deploysafe_backup_max_age_seconds":
        "The schedule's max_age: BackupTooOld fires when the last success is older.",
}
LABELS = ("schedule", "kind", "location")
_HINT = "node_exporter's --collector.textfile.directory; the backup_schedule role creates it"


def textfile_path(directory: str, schedule: str) -> str:
    """<directory>/deploysafe_backup_<schedule>.prom (the schedule name is letters, digits, _ and -)."""
    try:
        return os.path.join(directory, prom_file_name(PREFIX, schedule, "schedule name"))
    except TextfileError as exc:
        raise RetentionError(str(exc)) from None


def _epoch(section: Any) -> float:
    """finished_at of a status section as Unix seconds; 0 when the section is absent (never happened)."""
    if not section:
        return 0.0
    when = parse_time(section.get("finished_at")) if isinstance(section, dict) else None
    if when is None:
        raise RetentionError(f"status section {section!r} has no finished_at time (YYYY-mm-ddTHH:MM:SSZ)")
    return when.timestamp()


def _number(value: Any, what: str) -> Optional[float]:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise RetentionError(f"status field {what} must be a number, not {value!r}")
    return float(value)


def status_samples(status: Mapping[str, Any], max_age: str = "26h",
                   now: Optional[datetime] = None) -> Dict[str, float]:
    """The metric values of a status document (name -> value; names of METRICS, absent values left out).

    last_verified comes from the status's `last_verified` section, or, for a status written before that
    section existed, from last_success when its verification passed."""
    last_run = status.get("last_run") or {}
    success = status.get("last_success") or None
    verified = status.get("last_verified")
    if verified is None and success and success.get("verification") == "pass":
        verified = success
    clock = (now or datetime.now(timezone.utc)).astimezone(timezone.utc)
    samples: Dict[str, Optional[float]] = {
        "deploysafe_backup_last_success_timestamp_seconds": _epoch(success),
        "deploysafe_backup_last_verified_timestamp_seconds": _epoch(verified),
        "deploysafe_backup_last_failure_timestamp_seconds": _epoch(status.get("last_failure")),
        "deploysafe_backup_last_run_success": 1.0 if last_run.get("ok") is True else 0.0,
        "deploysafe_backup_duration_seconds": _number(last_run.get("duration_s"), "last_run.duration_s"),
        "deploysafe_backup_size_bytes": _number((success or {}).get("size_bytes"), "last_success.size_bytes"),
        "deploysafe_backup_artifacts_kept": _number((success or {}).get("kept"), "last_success.kept"),
        "deploysafe_backup_max_age_seconds": duration_seconds(parse_duration(max_age, "max_age"), clock),
    }
    return {name: value for name, value in samples.items() if value is not None}


def render_textfile(samples: Mapping[str, float], labels: Mapping[str, str]) -> str:
    """The exposition text: HELP, TYPE gauge and one sample per metric, in METRICS order."""
    missing = [name for name in LABELS if name not in labels]
    if missing:
        raise RetentionError(f"metric labels missing: {', '.join(missing)}")
    unknown = sorted(set(samples) - set(METRICS))
    if unknown:
        raise RetentionError(f"unknown metric(s): {', '.join(unknown)}")
    ordered = {name: labels[name] for name in LABELS}
    return render_gauges([(name, help_text, [(ordered, samples[name])] if name in samples else [])
                          for name, help_text in METRICS.items()])


def status_textfile(status: Mapping[str, Any], max_age: str = "26h",
                    now: Optional[datetime] = None) -> Tuple[str, Dict[str, float]]:
    """(exposition text, samples) of a status document; labels come from its name, kind and location."""
    labels = {"schedule": status.get("name") or "", "kind": status.get("kind") or "unknown",
              "location": status.get("location") or ""}
    samples = status_samples(status, max_age=max_age, now=now)
    return render_textfile(samples, labels), samples


def export_status_metrics(status_file: str, textfile_dir: str, max_age: str = "26h", check_mode: bool = False,
                          now: Optional[datetime] = None) -> Dict[str, Any]:
    """Read the status file and write its metrics to <textfile_dir>/deploysafe_backup_<name>.prom (unless
    check_mode). Returns changed, path, metrics (name -> value) and a diff of the file's text."""
    status = read_status(status_file)
    if status is None:
        raise RetentionError(f"status file {status_file} does not exist (the scheduled job has not run yet)")
    path = textfile_path(textfile_dir, status.get("name") or "")
    text, samples = status_textfile(status, max_age=max_age, now=now)
    try:
        changed, diff = replace_textfile(path, text, check_mode=check_mode, hint=_HINT)
    except TextfileError as exc:
        raise RetentionError(str(exc)) from None
    return {"changed": changed, "path": path, "metrics": samples, "diff": diff}
