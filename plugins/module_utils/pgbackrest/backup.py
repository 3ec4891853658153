# Copyright: (c) 2026, deploysafe.preflight contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A pgBackRest backup with its evidence: `check` proves WAL archiving first (a backup without working
archiving cannot be restored to any point after it), then the backup runs, `info` names what it wrote and
`verify` checks the repository's checksums."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Dict, Optional

from ..pg.connection import ConnParams
from ..verdict import FAIL, PASS, make_verdict, measurement
from . import PgBackRestError
from .command import PgBackRest, VerifyReport, backups, stanza_missing, verify_repository
from .source import write_marker

BACKUP_TYPES = ("full", "diff", "incr")


@dataclass
class BackupResult:
    backup_type: str
    archive_ok: bool
    archive_error: str = ""
    backup_ok: bool = False
    backup_error: str = ""
    backup: Optional[Dict[str, Any]] = None  # the new entry of pgbackrest info
    verify: Optional[VerifyReport] = None
    marker: Optional[Dict[str, Any]] = None
    durations: Dict[str, float] = field(default_factory=dict)


def plan_backup(runner: PgBackRest, backup_type: str) -> Dict[str, Any]:
    """What a backup would do (check mode): reads `info` only. A missing stanza is an error."""
    info = runner.info()
    if stanza_missing(info):
        raise PgBackRestError(f"stanza {runner.config.stanza} does not exist in {runner.config.repo_where()}: "
                              "run the pgbackrest role (stanza-create) first")
    existing = backups(info)
    effective = backup_type if existing or backup_type == "full" else "full"
    return {"type": effective, "backups_in_repository": len(existing),
            "note": "" if effective == backup_type else f"no backup yet: pgBackRest takes a full one instead of {backup_type}"}


def run_backup(runner: PgBackRest, backup_type: str = "full", *, marker_params: Optional[ConnParams] = None,
               verify: bool = True, timeout: float = 6 * 3600) -> BackupResult:
    """check (WAL archiving), marker, backup, info, verify; failures are recorded, not raised, except bad input."""
    if backup_type not in BACKUP_TYPES:
        raise PgBackRestError(f"backup type must be one of {', '.join(BACKUP_TYPES)}, not {backup_type!r}")
    plan_backup(runner, backup_type)
    result = BackupResult(backup_type=backup_type, archive_ok=False)
    check = runner.run("check", timeout=600)
    result.durations["check"] = check.duration_s
    result.archive_ok = check.returncode == 0
    if not result.archive_ok:
        result.archive_error = check.error_text()
        return result
    if marker_params is not None:
        result.marker = write_marker(marker_params, "backup")
    before = {b["label"] for b in backups(runner.info())}
    started = time.monotonic()
    run = runner.run("backup", f"--type={backup_type}", timeout=timeout)
    result.durations["backup"] = round(time.monotonic() - started, 3)
    new = [b for b in backups(runner.info()) if b["label"] not in before]
    if run.returncode != 0 or not new:
        result.backup_error = run.error_text() if run.returncode else "pgbackrest backup exited 0 but info lists no new backup"
        return result
    result.backup = new[-1]
    result.backup_ok = not result.backup.get("error", False)
    if not result.backup_ok:
        result.backup_error = f"pgbackrest info marks backup {result.backup['label']} as having errors (page checksums)"
    if verify:
        result.verify = verify_repository(runner, timeout=timeout)
        result.durations["verify"] = result.verify.duration_s
    return result


def backup_summary(b: Dict[str, Any]) -> Dict[str, Any]:
    """The evidence of one backup entry of pgbackrest info, flattened."""
    info, stamp = b.get("info") or {}, b.get("timestamp") or {}
    repo = info.get("repository") or {}
    return {"label": b.get("label"), "type": b.get("type"), "prior": b.get("prior"),
            "started_at": stamp.get("start"), "stopped_at": stamp.get("stop"),
            "database_size_bytes": info.get("size"), "backup_delta_bytes": info.get("delta"),
            "repository_size_bytes": repo.get("size"), "repository_delta_bytes": repo.get("delta"),
            "wal_start": (b.get("archive") or {}).get("start"), "wal_stop": (b.get("archive") or {}).get("stop"),
            "lsn_start": (b.get("lsn") or {}).get("start"), "lsn_stop": (b.get("lsn") or {}).get("stop"),
            "error": bool(b.get("error"))}


def backup_verdict(runner: PgBackRest, result: BackupResult) -> Dict[str, Any]:
    """pass only when archiving works (check), the backup completed without errors and, when asked, the
    repository verified clean; fail names the broken part."""
    where = f"stanza {runner.config.stanza} ({runner.config.repo_where()})"
    measurements = [measurement("archive_check", 1 if result.archive_ok else 0, "bool", 1, "==")]
    findings: Dict[str, int] = {}
    if not result.archive_ok:
        findings["wal_archiving_broken"] = 1
        return make_verdict(FAIL, f"WAL archiving broken for {where}: pgbackrest check failed: {result.archive_error}; "
                            "no backup taken", findings=findings, measurements=measurements)
    if not result.backup_ok:
        findings["backup_failed"] = 1
        return make_verdict(FAIL, f"{result.backup_type} backup of {where} failed: {result.backup_error}",
                            findings=findings, measurements=measurements)
    s = backup_summary(result.backup)
    measurements += [
        measurement("backup_duration", result.durations.get("backup"), "s"),
        measurement("database_size", s["database_size_bytes"], "bytes"),
        measurement("backup_delta", s["backup_delta_bytes"], "bytes"),
        measurement("repository_size", s["repository_size_bytes"], "bytes"),
        measurement("repository_delta", s["repository_delta_bytes"], "bytes"),
    ]
    status, parts = PASS, [f"{s['type']} backup {s['label']} of {where}: {s['database_size_bytes']} bytes, "
                           f"{s['repository_delta_bytes']} bytes written, WAL {s['wal_start']}..{s['wal_stop']}, "
                           "archiving checked"]
    if result.verify is not None:
        bad = result.verify.bad_files
        measurements.append(measurement("repository_damaged_files", len(bad), "files", 0, "=="))
        if not result.verify.ok:
            findings["repository_damaged_files"] = len(bad) or 1
            status = FAIL
            named = ", ".join(f"{f['file']} ({f['problem']})" for f in bad[:10]) or result.verify.text[-300:]
            parts.append(f"repository verify status {result.verify.status}: {named}")
        else:
            parts.append("repository checksums verified")
    return make_verdict(status, "; ".join(parts), findings=findings, measurements=measurements)
