# Copyright: (c) 2026, deploysafe.preflight contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Which backup to restore: a given artifact, or the newest one that backup_verify recorded as verified
at a location (a directory or s3://bucket/prefix/, as backup_retention reads it)."""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from dataclasses import dataclass
from typing import Any, Dict, Iterator, Optional

from ..errors import PreflightError
from . import PgError
from .restore import load_backup


@dataclass
class BackupChoice:
    """The chosen backup, or (artifact None) why there is none to use."""
    where: str                                  # the location, or the artifact path
    artifact: Optional[str] = None              # path or s3:// URL of the artifact
    manifest_url: Optional[str] = None
    time: Optional[str] = None                  # when the data was captured (manifest started_at)
    verification: Optional[str] = None          # pass | fail | pending | None (no record)
    verification_detail: str = ""
    sha256: Optional[str] = None
    size_bytes: Optional[int] = None
    none_because: Optional[str] = None

    def as_dict(self) -> Dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if v is not None and k != "none_because"}


def choose_backup(backup: Optional[str], location: Optional[str], s3conn: Any = None) -> BackupChoice:
    """The given artifact (checked to exist with an intact manifest; its verification record is read
    when there is one), or the newest verified set at `location`. Reads only; never downloads."""
    from ..retention.inventory import take_inventory
    from ..retention.plan import newest_verified
    from ..retention.store import open_store
    from ..retention.verified import judge_record, record_name
    try:
        if backup:
            manifest = load_backup(backup)
            directory, name = os.path.split(backup)
            store = open_store(directory or ".")
            raw = store.read(record_name(name)) if os.path.isfile(store.url(record_name(name))) else None
            status, detail = judge_record(raw, manifest, store.url(record_name(name)))
            return BackupChoice(where=backup, artifact=backup, manifest_url=backup + ".manifest.json",
                                time=manifest.get("started_at"), verification=status, verification_detail=detail,
                                sha256=manifest["artifact"].get("sha256"), size_bytes=manifest["artifact"].get("bytes"))
        store = open_store(location, s3conn)
        inventory = take_inventory(store)
    except PreflightError as exc:
        raise PgError(str(exc)) from None
    chosen = newest_verified(inventory.sets)
    if chosen is None:
        states = {}
        for s in inventory.sets:
            states[s.verification or "unverified"] = states.get(s.verification or "unverified", 0) + 1
        seen = ", ".join(f"{n} {k}" for k, n in sorted(states.items())) or "no complete backup set"
        return BackupChoice(where=inventory.where, none_because=(
            f"no verified backup at {inventory.where} ({seen}); verify one with backup_verify record: true"))
    manifest = chosen.manifest or {}
    return BackupChoice(where=inventory.where, artifact=store.url(chosen.files["artifact"].name),
                        manifest_url=store.url(chosen.files["manifest"].name), time=manifest.get("started_at"),
                        verification=chosen.verification, verification_detail=chosen.verification_detail,
                        sha256=(manifest.get("artifact") or {}).get("sha256"),
                        size_bytes=(manifest.get("artifact") or {}).get("bytes"))


@contextlib.contextmanager
def local_copy(choice: BackupChoice, s3conn: Any = None, work_dir: Optional[str] = None) -> Iterator[str]:
    """A local path of the chosen artifact (its manifest beside it): the artifact itself, or for S3 a
    download into a private temporary directory that is removed when the block ends."""
    if not choice.artifact.startswith("s3://"):
        yield choice.artifact
        return
    from ..s3.client import S3Conn, make_client
    from .s3dest import download_objects, parse_s3_url
    conn = s3conn or S3Conn()
    bucket, key = parse_s3_url(choice.artifact)
    man_bucket, man_key = parse_s3_url(choice.manifest_url)
    key, man_key = key.rstrip("/"), man_key.rstrip("/")
    try:
        tmp = tempfile.mkdtemp(prefix=".down-path-s3-", dir=work_dir)
    except OSError as exc:
        raise PgError(f"cannot create a download directory in {work_dir or tempfile.gettempdir()}: "
                      f"{exc.strerror or exc}") from None
    try:
        local = os.path.join(tmp, os.path.basename(key))
        download_objects(make_client(conn), conn.where,
                         ((bucket, key, local), (man_bucket, man_key, local + ".manifest.json")))
        if not os.path.isfile(local) or not os.path.isfile(local + ".manifest.json"):
            raise PgError(f"{choice.artifact} or its manifest disappeared from {conn.where} before it was downloaded")
        yield local
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
