# Copyright: (c) 2026, deploysafe.preflight contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""s3_restore's safety net: before a forced restore writes into a bucket/prefix that holds objects,
archive that prefix with s3_backup's own archive code path and verify the archive; no verified backup,
no restore. Restoring that archive with delete_extra puts the prefix back exactly (undo_restore.yml)."""

from __future__ import annotations

from typing import Any, Dict, Optional

from ..archive import ArchiveError
from ..archive.prerestore import (PRE_RESTORE_PREFIX, PreRestoreOptions, default_dest, ensure_dest, planned,
                                  recipients_for, refusal, skipped, taken, verify_written)
from . import S3Error
from .backup import BackupOptions, plan_backup, run_backup
from .client import S3Conn, check_bucket, prefix_is_empty
from .source import BackupSource


def occupant(client, conn: S3Conn, bucket: str, prefix: str) -> Optional[str]:
    """The first key under bucket/prefix, or None when the bucket is missing or the prefix empty."""
    try:
        check_bucket(client, bucket, conn.where)
    except S3Error as exc:
        if "does not exist" in str(exc):
            return None
        raise
    return prefix_is_empty(client, bucket, prefix)


def backup_options(src: BackupSource, bucket: str, prefix: str, pre: PreRestoreOptions,
                   concurrency: int) -> BackupOptions:
    """An archive of the target prefix with the compression level and encryption of the backup restored."""
    if pre.dest:
        dest = pre.dest
    elif src.kind == "archive":
        dest = default_dest(src.location)
    else:
        raise S3Error(f"the backup {src.location} is a mirror, with no local directory beside it: set "
                      "pre_restore_dest for the pre-restore backup")
    header = src.header if src.kind == "archive" else {}
    level = (header.get("compression") or {}).get("level") or 3
    return BackupOptions(bucket=bucket, prefix=prefix, mode="archive", dest=dest, name_prefix=PRE_RESTORE_PREFIX,
                         concurrency=concurrency, compression_level=level,
                         encrypt_recipients=recipients_for(header.get("encryption"), pre, src.location))


def pre_restore(client, conn: S3Conn, src: BackupSource, bucket: str, prefix: str, force: bool,
                pre: PreRestoreOptions, concurrency: int, check_mode: bool = False) -> Dict[str, Any]:
    """Back up s3://bucket/prefix when a forced restore is about to write into it and it holds objects,
    then verify the archive. Raises S3Error when that fails (the restore must not start). In check mode
    only plans it (s3_backup's check mode: lists the prefix, checks the destination)."""
    target = f"s3://{bucket}/{prefix}"
    first = occupant(client, conn, bucket, prefix)
    if first is None:
        return skipped(f"target {target} is empty or its bucket does not exist: nothing to protect")
    if not force:
        return skipped(f"target {target} is not empty and force is false: the restore refuses it")
    if not pre.enabled:
        return skipped(f"pre_restore_backup is false: {target} (it holds {first!r}) is overwritten without a backup",
                       unprotected=True)
    try:
        bopts = backup_options(src, bucket, prefix, pre, concurrency)
        if check_mode:
            backup_plan = plan_backup(conn, bopts, client=client)
            return planned(target, backup_plan, f"{backup_plan['objects']} objects, {backup_plan['bytes']} bytes")
        ensure_dest(bopts.dest)
        result = run_backup(conn, bopts, client=client)
        checked = verify_written(result.location, result.archive_manifest, bopts.encrypt_recipients,
                                 pre.identity_file)
    except (S3Error, ArchiveError) as exc:
        raise S3Error(refusal(target, exc, check_mode)) from None
    return taken("s3", target, result.location, result.archive_manifest, result.sha256, result.stored_bytes,
                 result.duration_s, checked, objects_manifest=result.manifest, objects=result.objects,
                 bucket=bucket, prefix=prefix, encrypted=bool(bopts.encrypt_recipients))
