# Copyright: (c) 2026, deploysafe.preflight contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The PITR drill: restore the latest backup, or to a time / LSN / restore point, into a scratch cluster,
prove the data, measure RTO and RPO, and always remove the scratch cluster.

RTO is the time from the start of the restore to the data proven (restore, recovery, amcheck, markers,
row counts). RPO is the WAL the repository did not hold yet at the target: the target minus the time the
archiver last pushed a segment before this drill forced a switch (0 when the target was already archived).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional

from ..pg.connection import ConnParams
from . import PgBackRestError
from .command import PgBackRest, VerifyReport, backups, stanza_missing, verify_repository
from .probe import AmcheckReport, DataProof, amcheck, prove_data, wait_promoted
from .scratch import make_scratch, prepare_config, start, stop_and_remove
from .source import archiver, classify_markers, epoch_of, iso_utc, read_markers, switch_and_wait, write_marker

TARGET_TYPES = ("latest", "time", "lsn", "name", "immediate")


@dataclass
class Target:
    kind: str = "latest"
    value: str = ""
    epoch: Optional[float] = None  # time targets, as the server reads them


@dataclass
class DrillOptions:
    bindir: str
    scratch_base: Optional[str] = None
    port: int = 0
    backup_set: str = ""
    amcheck: bool = True
    heapallindexed: bool = True
    verify_repository: bool = True
    recovery_timeout: float = 600.0
    archive_timeout: float = 60.0
    process_max: int = 0
    keep_scratch: bool = False
    marker_db: str = "postgres"
    write_marker: bool = True


@dataclass
class DrillResult:
    target: Target
    backup_label: str = ""
    verify: Optional[VerifyReport] = None
    wal: Dict[str, Any] = field(default_factory=dict)
    rpo_s: Optional[float] = None
    restore_error: str = ""
    recovery: Dict[str, Any] = field(default_factory=dict)
    proof: Optional[DataProof] = None
    amcheck: Optional[AmcheckReport] = None
    markers: Dict[str, List[Dict[str, Any]]] = field(default_factory=dict)
    cleanup: Dict[str, Any] = field(default_factory=dict)
    rto_s: Optional[float] = None
    durations: Dict[str, float] = field(default_factory=dict)
    scratch_port: int = 0
    marker: Optional[Dict[str, Any]] = None  # the row written into the source just before the restore


def _lsn(text: str) -> int:
    try:
        high, low = text.split("/")
        return (int(high, 16) << 32) + int(low, 16)
    except (AttributeError, ValueError):
        raise PgBackRestError(f"{text!r} is not an LSN (like 0/3000088)") from None


def choose_backup(info: Dict[str, Any], target: Target, backup_set: str = "") -> Dict[str, Any]:
    """The backup the restore starts from: backup_set, else the newest one that ended before the target.
    A target before the end of the first backup is refused with the earliest point that can be reached."""
    found = backups(info)
    if not found:
        raise PgBackRestError(f"stanza {info.get('name')} has no backup in the repository: take one first")
    if backup_set:
        found = [b for b in found if b["label"] == backup_set]
        if not found:
            raise PgBackRestError(f"backup set {backup_set} is not in the repository "
                                  f"(backups: {', '.join(b['label'] for b in backups(info))})")
    if target.kind == "time":
        ok = [b for b in found if b["timestamp"]["stop"] <= target.epoch]
        if not ok:
            first = found[0]
            raise PgBackRestError(
                f"target time {target.value} is before the end of the first usable backup ({first['label']}, ended "
                f"{time.strftime('%Y-%m-%d %H:%M:%S UTC', time.gmtime(first['timestamp']['stop']))}): no backup can "
                "be restored to it; choose a later target")
        return ok[-1]
    if target.kind == "lsn":
        ok = [b for b in found if _lsn(b["lsn"]["stop"]) <= _lsn(target.value)]
        if not ok:
            raise PgBackRestError(f"target LSN {target.value} is before the end of the first usable backup "
                                  f"({found[0]['label']}, stop LSN {found[0]['lsn']['stop']})")
        return ok[-1]
    return found[-1]


def prepare_target(runner: PgBackRest, source: ConnParams, kind: str, value: str) -> Target:
    if kind not in TARGET_TYPES:
        raise PgBackRestError(f"target type must be one of {', '.join(TARGET_TYPES)}, not {kind!r}")
    if kind in ("time", "lsn", "name") and not value:
        raise PgBackRestError(f"target type {kind} needs a target value")
    target = Target(kind, value)
    if kind == "time":
        target.epoch = epoch_of(source, value)
        target.value = iso_utc(source, target.epoch)
    return target


def restore_options(target: Target, label: str, data: str, process_max: int) -> List[str]:
    opts = [f"--pg1-path={data}", "--archive-mode=off", "--job-retry=0", f"--set={label}",
            f"--tablespace-map-all={data}_tablespaces"]
    if process_max:
        opts.append(f"--process-max={process_max}")
    if target.kind != "latest":
        opts += [f"--type={target.kind}", "--target-action=promote"]
        if target.kind != "immediate":
            opts.append(f"--target={target.value}")
    return opts


def restore_verify(runner: PgBackRest, source: ConnParams, target: Target, opts: DrillOptions) -> DrillResult:
    """The drill. Bad input (no backup, target before the first backup) raises PgBackRestError before
    anything is touched; what fails afterwards is recorded in the result (the verdict decides)."""
    info = runner.info()
    if stanza_missing(info):
        raise PgBackRestError(f"stanza {runner.config.stanza} does not exist in {runner.config.repo_where()}")
    backup = choose_backup(info, target, opts.backup_set)
    result = DrillResult(target=target, backup_label=backup["label"])
    if opts.verify_repository:
        result.verify = verify_repository(runner)
        result.durations["verify_repository"] = result.verify.duration_s
        if not result.verify.ok:
            return result
    marker_params = source.with_db(opts.marker_db)
    if opts.write_marker:
        result.marker = write_marker(marker_params, "restore-drill")
    before = archiver(source)
    result.wal = switch_and_wait(source, opts.archive_timeout)
    switched_at = time.time()
    result.wal["last_archived_before"] = before.last_archived_wal
    if not result.wal["archived"]:
        return result
    point = target.epoch if target.kind == "time" else switched_at if target.kind == "latest" else None
    if point is not None and before.last_archived_time is not None:
        result.rpo_s = round(max(0.0, point - before.last_archived_time), 3)
    classified = classify_markers(read_markers(marker_params), point)
    if target.kind == "latest":  # written after the switch: may or may not have reached the archive
        classified["ambiguous"] += classified.pop("after")
        classified["after"] = []
    result.markers = classified
    started = time.monotonic()
    scratch = make_scratch(runner, opts.scratch_base, opts.port)
    result.scratch_port = scratch.port
    try:
        run = runner.run("restore", *restore_options(target, backup["label"], scratch.data, opts.process_max))
        result.durations["restore"] = run.duration_s
        if run.returncode != 0:
            result.restore_error = run.error_text()
            return result
        prepare_config(runner, scratch)
        start(runner, scratch, opts.bindir, opts.recovery_timeout)
        result.recovery = wait_promoted(scratch, source.user, opts.recovery_timeout)
        result.durations["recovery"] = round(time.monotonic() - started - run.duration_s, 3)
        result.proof = prove_data(scratch, source.user, opts.marker_db)
        if opts.amcheck:
            result.amcheck = amcheck(runner, scratch, source.user, opts.bindir, opts.heapallindexed)
            result.durations["amcheck"] = result.amcheck.duration_s
        result.rto_s = round(time.monotonic() - started, 3)
    except PgBackRestError as exc:
        result.restore_error = str(exc)
    finally:
        result.cleanup = stop_and_remove(runner, scratch, opts.bindir, keep=opts.keep_scratch)
    return result
