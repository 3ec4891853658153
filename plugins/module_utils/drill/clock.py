# Copyright: (c) 2026, deploysafe.preflight contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The drill's clock: two marks written by the module process itself, never values passed in by the play.

RTO is the time from the restore_started mark to the restore_verified mark. Each mark stores the wall
clock and the monotonic clock with the kernel's boot id: when both marks come from the same boot, the
monotonic difference is used, so a wall-clock step (NTP, a VM resume) between them changes nothing; the
Ansible overhead between the marks (forks, module transfer, the tasks in between) is part of the RTO, as
it would be in a real recovery. RPO is the age, at the restore_started mark, of the oldest backup the
restore uses, dated by its manifest's started_at (the moment the backup began reading the source).
"""

from __future__ import annotations

import json
import os
import socket
import time
from typing import Any, Dict, List, Optional

from ..archive import ArchiveError, load_manifest, manifest_path
from ..retention.inventory import parse_time
from ..run import RunError, current_run
from ..verdict import read_verdict, record_path, utc_iso, write_record
from . import DrillError

CLOCK_FILE = "drill_clock.json"
CLOCK_FORMAT = 1
_BOOT_ID = "/proc/sys/kernel/random/boot_id"


def _boot_id() -> Optional[str]:
    try:
        with open(_BOOT_ID, encoding="ascii") as handle:
            return handle.read().strip() or None
    except OSError:
        return None


def take_mark(wall: Optional[float] = None, monotonic: Optional[float] = None) -> Dict[str, Any]:
    """Now, on both clocks, with where it was taken."""
    wall = time.time() if wall is None else wall
    return {"at": utc_iso(wall), "wall": wall, "monotonic": time.monotonic() if monotonic is None else monotonic,
            "boot_id": _boot_id(), "host": socket.gethostname(), "pid": os.getpid()}


def elapsed(start: Dict[str, Any], stop: Dict[str, Any]) -> float:
    """Seconds from start to stop: monotonic within one boot of one host, else the wall clocks."""
    if start.get("boot_id") and start.get("boot_id") == stop.get("boot_id") and start.get("host") == stop.get("host"):
        return stop["monotonic"] - start["monotonic"]
    return stop["wall"] - start["wall"]


def backup_info(path: str) -> Dict[str, Any]:
    """What the clock keeps of a backup the restore uses: path, sha256 and size from its sealed manifest,
    and when the backup began and finished."""
    if str(path).startswith("s3://"):
        raise DrillError(f"backup {path}: the drill restores local archives; an s3:// backup is not supported")
    try:
        manifest = load_manifest(manifest_path(path))
    except ArchiveError as exc:
        raise DrillError(f"backup {path}: {exc}") from None
    started = parse_time(manifest.get("started_at"))
    if started is None:
        raise DrillError(f"backup {path}: its manifest has no usable started_at ({manifest.get('started_at')!r})")
    return {"path": str(path), "sha256": manifest["artifact"]["sha256"], "size_bytes": manifest["artifact"]["bytes"],
            "source": (manifest.get("source_identity") or {}).get("kind") or "unknown",
            "started_at": manifest["started_at"], "finished_at": manifest.get("finished_at"),
            "started_epoch": started.timestamp()}


def read_clock(run_dir: str) -> Optional[Dict[str, Any]]:
    """The clock of run_dir, None when the restore never started there."""
    path = os.path.join(run_dir, CLOCK_FILE)
    try:
        with open(path, encoding="utf-8") as handle:
            clock = json.load(handle)
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        raise DrillError(f"drill clock {path} is unreadable: {exc}") from None
    if not isinstance(clock, dict) or not isinstance(clock.get("restore_started"), dict):
        raise DrillError(f"drill clock {path} has no restore_started mark")
    return clock


def _run_id(run_dir: str, run_id: str, create: bool) -> str:
    try:
        run = current_run(run_dir, run_id, create=create)
    except RunError as exc:
        raise DrillError(str(exc)) from None
    return (run or {}).get("run_id") or run_id


def start_restore(run_dir: str, run_id: str, backups: List[str], check: bool = False,
                  mark: Optional[Dict[str, Any]] = None, rpo_record: str = "") -> Dict[str, Any]:
    """Mark the start of the restore (first, before anything else is read) and record the backups it uses.
    rpo_record names the record of this run whose `rpo` measurement gives the RPO of a restore that measures
    its own (a pgBackRest PITR restore: WAL not archived yet at the target); it is read at restore_verified.
    A new start replaces an earlier clock of the run: the drill restarted its restore."""
    mark = mark or take_mark()
    if not backups and not rpo_record:
        raise DrillError("start_restore needs the backups the restore uses (backups), or the record that measures "
                         "the RPO (rpo_record), to measure the RPO")
    used = [backup_info(p) for p in backups]
    future = [b["path"] for b in used if b["started_epoch"] > mark["wall"]]
    clock = {"format": CLOCK_FORMAT, "run_id": _run_id(run_dir, run_id, not check), "restore_started": mark,
             "restore_verified": None, "backups": used, "future_backups": future, "rpo_record": rpo_record or None,
             "rpo_measured": None}
    if not check:
        write_record(os.path.join(run_dir, CLOCK_FILE), clock)
    return clock


def stop_restore(run_dir: str, run_id: str, check: bool = False,
                 mark: Optional[Dict[str, Any]] = None) -> Dict[str, Any]:
    """Mark the restore verified; the clock of this run must have been started."""
    mark = mark or take_mark()
    clock = read_clock(run_dir)
    if clock is None:
        raise DrillError(f"no drill clock in {run_dir}: restore_verified needs an earlier start_restore")
    expected = _run_id(run_dir, run_id, False)
    if clock.get("run_id") != expected:
        raise DrillError(f"drill clock {os.path.join(run_dir, CLOCK_FILE)} belongs to run {clock.get('run_id')}, "
                         f"not to run {expected}")
    clock = dict(clock, restore_verified=mark)
    if clock.get("rpo_record"):
        clock["rpo_measured"] = measured_rpo(run_dir, clock["rpo_record"], expected)
    if not check:
        write_record(os.path.join(run_dir, CLOCK_FILE), clock)
    return clock


def rto_seconds(clock: Dict[str, Any]) -> Optional[float]:
    """Start of restore to verified, None while not verified."""
    if not clock.get("restore_verified"):
        return None
    return round(elapsed(clock["restore_started"], clock["restore_verified"]), 3)


def measured_rpo(run_dir: str, name: str, run_id: str) -> Optional[Dict[str, Any]]:
    """{seconds, record} from the `rpo` measurement of <run_dir>/<name>.json when it is a verdict of this run
    computed by a module of the collection (a hand-written record cannot give the RPO); None otherwise."""
    path = record_path(run_dir, name)
    try:
        record = read_verdict(path)
    except (OSError, ValueError):
        return None
    if record.get("run_id") != run_id or record.get("manual"):
        return None
    values = [m.get("value") for m in record["verdict"]["evidence"]["measurements"] if m.get("name") == "rpo"]
    if not values or not isinstance(values[0], (int, float)):
        return None
    return {"seconds": float(values[0]), "record": name}


def rpo_seconds(clock: Dict[str, Any]) -> Optional[float]:
    """The worst of: the age at restore start of the oldest backup used, and the RPO the rpo_record measured.
    None when neither is known, or with a backup from the future."""
    backups = clock.get("backups") or []
    if clock.get("future_backups"):
        return None
    values = [clock["restore_started"]["wall"] - min(b["started_epoch"] for b in backups)] if backups else []
    if clock.get("rpo_measured"):
        values.append(clock["rpo_measured"]["seconds"])
    elif clock.get("rpo_record"):
        return None  # asked for, not measured: an RPO from the backups alone would understate it
    return round(max(values), 3) if values else None
