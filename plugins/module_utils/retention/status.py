# Copyright: (c) 2026, deploysafe.preflight contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The status file of a scheduled backup job (roles/backup_schedule writes it after every run):

    {"format": "deploysafe.preflight/backup-status", "format_version": 1, "name": ..., "kind": "pg" | "s3",
     "location": ...,
     "last_run": {"started_at", "finished_at", "duration_s", "ok"},
     "last_success": {"finished_at", "duration_s", "size_bytes", "artifact", "verification", "kept",
                      "removed"} | null,
     "last_verified": {"finished_at", "artifact"} | null,   (the last run whose backup verified: pass)
     "last_failure": {"finished_at", "step", "message"} | null}

The audit reads it: the last scheduled run must have succeeded, and a missing file (the job never ran)
leaves the verdict no better than pending. `metrics` turns it into Prometheus metrics.
"""

from __future__ import annotations

import json
from typing import Any, Dict, Optional

from ..verdict import FAIL, PASS, PENDING, make_verdict, measurement
from . import RetentionError

STATUS_FORMAT = "deploysafe.preflight/backup-status"


def read_status(path: str) -> Optional[Dict[str, Any]]:
    """The status document, or None when the file does not exist; unreadable or foreign -> RetentionError."""
    try:
        with open(path, "rb") as handle:
            doc = json.loads(handle.read())
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise RetentionError(f"cannot read status file {path}: {exc.strerror or exc}") from None
    except ValueError as exc:
        raise RetentionError(f"status file {path} is not JSON: {exc}") from None
    if not isinstance(doc, dict) or doc.get("format") != STATUS_FORMAT:
        raise RetentionError(f"status file {path} is not a {STATUS_FORMAT} document")
    return doc


def judge_status(verdict: Dict[str, Any], status: Optional[Dict[str, Any]], path: str) -> Dict[str, Any]:
    """The audit verdict combined with the last scheduled run: failed -> fail; never ran -> at most pending."""
    evidence = verdict["evidence"]
    measurements = list(evidence["measurements"])
    findings = dict(evidence["findings"])
    summary, state = verdict["summary"], verdict["status"]
    if status is None:
        findings["status_missing"] = 1
        if state == PASS:
            state = PENDING
        summary += f"; the scheduled job has not reported a run yet ({path} does not exist)"
    else:
        last = status.get("last_run") or {}
        ok = last.get("ok") is True
        measurements.append(measurement("last_run_ok", 1 if ok else 0, "bool", threshold=1, comparison="=="))
        if isinstance(last.get("duration_s"), (int, float)):
            measurements.append(measurement("last_run_duration", last["duration_s"], "s"))
        if not ok:
            failure = status.get("last_failure") or {}
            state = FAIL
            summary = (f"the last scheduled run failed at {failure.get('finished_at', '?')} in step "
                       f"{failure.get('step', '?')}: {failure.get('message', 'no message')}; " + summary)
    return make_verdict(state, summary, artifacts=evidence["artifacts"], findings=findings, measurements=measurements)
