# Copyright: (c) 2026, deploysafe.preflight contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Open a backup for restore or verify: a local archive (its manifests) or an s3:// mirror."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any, Dict, Optional

from ..archive import ArchiveError, load_manifest, manifest_path
from ..files import sha256_file
from . import S3Error
from .objects import OBJECTS_SUFFIX


@dataclass
class BackupSource:
    kind: str                     # archive | mirror
    location: str                 # artifact path or s3:// mirror URL
    objects_manifest: str         # local JSONL path
    source_prefix: str
    source_bucket: str
    header: Dict[str, Any]        # archive manifest or mirror backup.json
    mirror_bucket: Optional[str] = None


def open_backup(location: str, client=None, tmpdir: Optional[str] = None) -> BackupSource:
    """location: an archive (`*.tar.zst[.age]`), its `.objects.jsonl`, or `s3://bucket/.../<name>/`.

    The object manifest's sha256 is checked against the sealed archive manifest or backup.json, so an
    edited manifest is refused rather than trusted."""
    if location.startswith("s3://"):
        from .mirror import load_mirror
        if client is None or tmpdir is None:
            raise S3Error("a mirror location needs an S3 client and a scratch directory")
        header = load_mirror(client, location, tmpdir)
        return BackupSource(kind="mirror", location=location, objects_manifest=header["local_manifest"],
                            source_prefix=header["source"]["prefix"], source_bucket=header["source"]["bucket"],
                            header=header, mirror_bucket=header["bucket"])
    artifact = location[:-len(OBJECTS_SUFFIX)] if location.endswith(OBJECTS_SUFFIX) else location
    try:
        manifest = load_manifest(manifest_path(artifact))
    except ArchiveError as exc:
        raise S3Error(str(exc)) from None
    source = manifest.get("source") or {}
    if (manifest.get("source_identity") or {}).get("kind") != "s3" or "objects_manifest" not in source:
        raise S3Error(f"{artifact} is not an S3 backup archive (its manifest has no S3 object manifest)")
    jsonl = os.path.join(os.path.dirname(artifact), source["objects_manifest"]["name"])
    if not os.path.isfile(jsonl):
        raise S3Error(f"object manifest {jsonl} of {artifact} is missing")
    actual = sha256_file(jsonl)
    if actual != source["objects_manifest"]["sha256"]:
        raise S3Error(f"object manifest {jsonl} has sha256 {actual}, the archive manifest says "
                      f"{source['objects_manifest']['sha256']} (it was changed after the backup)")
    return BackupSource(kind="archive", location=artifact, objects_manifest=jsonl, source_prefix=source.get("prefix", ""),
                        source_bucket=source.get("bucket", ""), header=manifest)
