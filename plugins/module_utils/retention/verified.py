# Copyright: (c) 2026, deploysafe.preflight contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The verification record `<artifact>.verified.json` that backup_verify writes beside a manifest.

The manifest is sealed by its digest, so the outcome of a later verification cannot go into it; the
record lives next to it instead and names the exact artifact sha256 and manifest digest it verified.
A record whose sha256 or digest does not match the current manifest is stale and counts as unverified.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any, Dict, Optional, Tuple

from . import RetentionError

RECORD_FORMAT = "deploysafe.preflight/verification"
RECORD_VERSION = 1
RECORD_SUFFIX = ".verified.json"


def record_name(artifact_name: str) -> str:
    return artifact_name + RECORD_SUFFIX


def make_record(report: Any, verdict: Dict[str, Any], when: Optional[datetime] = None) -> Dict[str, Any]:
    """The record of one backup_verify run (report: archive.VerifyReport; verdict: its verdict)."""
    manifest = report.manifest or {}
    when = (when or datetime.now(timezone.utc)).astimezone(timezone.utc)
    return {
        "format": RECORD_FORMAT,
        "format_version": RECORD_VERSION,
        "status": verdict["status"],
        "summary": verdict["summary"],
        "verified_at": when.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "artifact": {"name": (manifest.get("artifact") or {}).get("name"), "sha256": report.sha256,
                     "bytes": report.stored_bytes},
        "manifest_digest": manifest.get("digest"),
        "checks": [{"name": c.name, "ok": c.ok} for c in report.checks],
    }


def encode_record(record: Dict[str, Any]) -> bytes:
    return (json.dumps(record, indent=2, sort_keys=True) + "\n").encode()


def write_record(store, artifact_name: str, record: Dict[str, Any]) -> str:
    """Publish the record beside the artifact in a retention store (local: atomic, mode 0600)."""
    name = record_name(artifact_name)
    store.write(name, encode_record(record))
    return store.url(name)


def judge_record(raw: Optional[bytes], manifest: Optional[Dict[str, Any]], where: str) -> Tuple[Optional[str], str]:
    """(status, why) of a set's verification: 'pass'/'fail'/'pending' from a matching record, None when
    there is no usable record (absent, unreadable, or about another artifact or manifest)."""
    if raw is None:
        return None, "never verified (no verification record)"
    try:
        record = json.loads(raw)
    except ValueError:
        return None, f"verification record {where} is not JSON"
    if not isinstance(record, dict) or record.get("format") != RECORD_FORMAT:
        return None, f"{where} is not a {RECORD_FORMAT} record"
    status = record.get("status")
    if status not in ("pass", "fail", "pending"):
        return None, f"verification record {where} has no valid status"
    if manifest is not None:
        art = manifest.get("artifact") or {}
        if (record.get("artifact") or {}).get("sha256") != art.get("sha256") or \
                record.get("manifest_digest") != manifest.get("digest"):
            return None, f"verification record {where} is about another artifact or manifest (stale)"
    return status, f"verification {status} at {record.get('verified_at')}"


def record_backup_verification(location_of_artifact: str, report: Any, verdict: Dict[str, Any], conn=None) -> str:
    """backup_verify's hook: write the record next to the artifact (a path or s3:// URL); returns where."""
    from .store import open_store
    if location_of_artifact.endswith("/"):
        raise RetentionError(f"{location_of_artifact!r} names no artifact")
    directory, _slash, name = location_of_artifact.rpartition("/")
    store = open_store(directory + "/" if location_of_artifact.startswith("s3://") else (directory or "."), conn)
    return write_record(store, name, make_record(report, verdict))
