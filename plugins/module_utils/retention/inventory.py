# Copyright: (c) 2026, deploysafe.preflight contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Group the files of a location into backup sets, orphans and leftover partial files."""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Dict, List, Optional

from ..archive import MANIFEST_SUFFIX, PARTIAL_SUFFIX, ArchiveError, load_manifest
from . import RetentionError
from .store import Entry
from .verified import RECORD_SUFFIX, judge_record

OBJECTS_SUFFIX = ".objects.jsonl"   # s3_backup's object list beside its archive
ARTIFACT_ENDINGS = (".zst", ".zst.age")
_STAMP = re.compile(r"-(\d{8}T\d{6}Z)\.")
# Deletion order of a set: the reverse of how it was written (manifest last), so that a deletion that
# stops half-way leaves an incomplete set (an orphan, cleaned next run), never a complete-looking one.
ROLE_ORDER = ("record", "manifest", "objects", "artifact")


@dataclass
class BackupSet:
    """An artifact and the files that belong to it, with its time and verification state."""
    name: str
    files: Dict[str, Entry] = field(default_factory=dict)   # role -> entry
    time: Optional[datetime] = None                          # manifest started_at (UTC)
    manifest: Optional[Dict[str, Any]] = None
    problem: Optional[str] = None                            # why the manifest cannot be used
    verification: Optional[str] = None                       # pass | fail | pending | None (unverified)
    verification_detail: str = ""

    @property
    def complete(self) -> bool:
        return "artifact" in self.files and "manifest" in self.files

    @property
    def verified(self) -> bool:
        return self.verification == "pass"

    @property
    def size(self) -> int:
        return sum(e.size for e in self.files.values())

    def file_names(self) -> List[str]:
        """Names in deletion order (see ROLE_ORDER)."""
        return [self.files[r].name for r in ROLE_ORDER if r in self.files]

    def newest_mtime(self) -> datetime:
        return max(e.mtime for e in self.files.values())


@dataclass
class Inventory:
    where: str
    sets: List[BackupSet] = field(default_factory=list)       # complete sets with a readable manifest
    damaged: List[BackupSet] = field(default_factory=list)    # complete, but the manifest is unusable
    orphans: List[BackupSet] = field(default_factory=list)    # artifact without manifest or the reverse
    partials: List[Entry] = field(default_factory=list)
    ignored: List[str] = field(default_factory=list)


def classify(name: str):
    """(role, artifact name) of a file name, or (None, None) for files that are not ours."""
    if name.endswith(PARTIAL_SUFFIX):
        return "partial", name
    for role, suffix in (("manifest", MANIFEST_SUFFIX), ("objects", OBJECTS_SUFFIX), ("record", RECORD_SUFFIX)):
        if name.endswith(suffix):
            base = name[:-len(suffix)]
            return (role, base) if base.endswith(ARTIFACT_ENDINGS) else (None, None)
    if name.endswith(ARTIFACT_ENDINGS):
        return "artifact", name
    return None, None


def parse_time(text: Any) -> Optional[datetime]:
    """An ISO 8601 UTC time as written by the archive layer ('...Z'), or a name stamp YYYYmmddTHHMMSSZ."""
    if not isinstance(text, str):
        return None
    for fmt in ("%Y-%m-%dT%H:%M:%S.%fZ", "%Y-%m-%dT%H:%M:%SZ", "%Y%m%dT%H%M%SZ"):
        try:
            return datetime.strptime(text, fmt).replace(tzinfo=timezone.utc)
        except ValueError:
            continue
    return None


def stamp_time(name: str) -> Optional[datetime]:
    match = _STAMP.search(name)
    return parse_time(match.group(1)) if match else None


def _load_manifest(store, name: str, scratch: str) -> Dict[str, Any]:
    """archive.load_manifest on a local copy (the same checks for a directory and for S3)."""
    local = os.path.join(scratch, "manifest.json")
    with open(local, "wb") as handle:
        handle.write(store.read(name))
    try:
        return load_manifest(local)
    except ArchiveError as exc:
        raise RetentionError(str(exc).replace(local, store.url(name))) from None


def take_inventory(store) -> Inventory:
    """List the location and read every manifest and verification record. A listing or reading
    error raises RetentionError (nothing may be decided on a partial view)."""
    entries = store.list()
    inv = Inventory(where=store.where)
    groups: Dict[str, BackupSet] = {}
    for entry in sorted(entries, key=lambda e: e.name):
        role, base = classify(entry.name)
        if role is None:
            inv.ignored.append(entry.name)
        elif role == "partial":
            inv.partials.append(entry)
        else:
            groups.setdefault(base, BackupSet(name=base)).files[role] = entry
    scratch = tempfile.mkdtemp(prefix=".backup-retention-")
    try:
        for group in groups.values():
            if not group.complete:
                group.time = stamp_time(group.name)
                group.problem = "artifact without manifest" if "artifact" in group.files else \
                    "manifest without artifact" if "manifest" in group.files else "companion file without artifact"
                inv.orphans.append(group)
                continue
            try:
                group.manifest = _load_manifest(store, group.files["manifest"].name, scratch)
            except RetentionError as exc:
                group.problem, group.time = str(exc), stamp_time(group.name)
                inv.damaged.append(group)
                continue
            group.time = parse_time(group.manifest.get("started_at")) or stamp_time(group.name)
            if group.time is None:
                group.problem = f"manifest {store.url(group.files['manifest'].name)} has no usable started_at"
                inv.damaged.append(group)
                continue
            raw = store.read(group.files["record"].name) if "record" in group.files else None
            where = store.url(group.files["record"].name) if "record" in group.files else ""
            group.verification, group.verification_detail = judge_record(raw, group.manifest, where)
            inv.sets.append(group)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return inv
