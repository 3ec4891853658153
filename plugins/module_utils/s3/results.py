# Copyright: (c) 2026, deploysafe.preflight contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the backup modes (backup.py archive, mirror.py) and restore.py share: the result of a backup,
the running count of what was stored, and the throughput figures derived from bytes, objects and time.
It lives apart so that backup and mirror never import each other."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import List, Optional

from .fetch import FetchStats, Fetched


class TransferRates:
    """Rates of a finished transfer; the class using it has `bytes`, `objects` and `duration_s`."""

    bytes: int
    objects: int
    duration_s: float

    @property
    def throughput_mb_s(self) -> float:
        return round(self.bytes / self.duration_s / 1e6, 2) if self.duration_s else 0.0

    @property
    def objects_per_s(self) -> float:
        return round(self.objects / self.duration_s, 1) if self.duration_s else 0.0


@dataclass
class BackupResult(TransferRates):
    mode: str
    name: str
    location: str              # artifact path, or s3://dest_bucket/dest_prefix+name/
    manifest: str              # the JSONL object manifest (path or s3:// URL)
    objects: int
    delete_markers: int
    bytes: int
    duration_s: float
    changed_keys: List[str] = field(default_factory=list)
    vanished_keys: List[str] = field(default_factory=list)
    archive_manifest: Optional[str] = None
    sha256: Optional[str] = None
    stored_bytes: int = 0


class ObjectCounter:
    """Counts fetched entries as they are stored (objects, delete markers, bytes) and remembers the
    keys that changed or vanished between listing and reading."""

    def __init__(self) -> None:
        self.objects = self.markers = self.bytes = 0
        self.stats = FetchStats()

    def add(self, fetched: Fetched) -> bool:
        """Count one fetched entry; False when it vanished and must not be stored."""
        if fetched.changed:
            self.stats.changed.append(fetched.ref.key)
        if fetched.vanished:
            self.stats.vanished.append(fetched.ref.key)
            return False
        if fetched.ref.delete_marker:
            self.markers += 1
        else:
            self.objects += 1
            self.bytes += fetched.size
        return True
