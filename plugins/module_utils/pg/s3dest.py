# Copyright: (c) 2026, deploysafe.preflight contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""pg_backup to an S3 prefix: back up into a private local staging directory, verify there, then upload
the artifact and (last) its manifest through the S3 layer. A prefix without the manifest is incomplete."""

from __future__ import annotations

import os
import shutil
import tempfile
from typing import Any, Dict, Optional, Tuple

from ..archive import ArchiveError, verify_artifact
from . import PgError

S3_SCHEME = "s3://"


def is_s3_url(dest: str) -> bool:
    return dest.startswith(S3_SCHEME)


def parse_s3_url(url: str) -> Tuple[str, str]:
    """s3://bucket/prefix/ -> (bucket, "prefix/"); the prefix is empty or ends with '/'."""
    rest = url[len(S3_SCHEME):] if is_s3_url(url) else ""
    bucket, _slash, prefix = rest.partition("/")
    if not bucket:
        raise PgError(f"dest {url!r} is not an S3 location of the form s3://bucket/prefix/")
    if prefix and not prefix.endswith("/"):
        prefix += "/"
    return bucket, prefix


def upload_file(client, bucket: str, key: str, path: str, content_type: str, sha256: Optional[str]) -> str:
    from ..s3.objects import upload_stream
    size = os.path.getsize(path)
    with open(path, "rb") as handle:
        sent = upload_stream(client, bucket, key, handle, size, content_type=content_type,
                             metadata={"sha256": sha256} if sha256 else {})
    if sha256 and sent != sha256:
        raise PgError(f"{path} changed while uploading to s3://{bucket}/{key}: sent sha256 {sent}, "
                      f"manifest says {sha256}")
    return sent


def backup_to_s3(params, opts, conn, run, staging_dir: Optional[str] = None) -> Tuple[Any, Dict[str, Any], Dict[str, Any]]:
    """run(params, opts) writes the backup into a private staging directory (opts.dest is replaced);
    the artifact is verified there (stored sha256 and blocks, plaintext too when not encrypted), then
    uploaded: artifact first, manifest last. The staging directory is always removed.
    Returns (result with s3:// path and manifest_path, location, verdict)."""
    from ..s3 import S3Error
    from ..s3.client import check_bucket, describe, is_boto_error, make_client
    from .backup import backup_verdict
    bucket, prefix = parse_s3_url(opts.dest)
    client = make_client(conn)
    try:
        check_bucket(client, bucket, conn.where)
    except S3Error as exc:
        raise PgError(str(exc)) from None
    try:
        stage = tempfile.mkdtemp(prefix=".pg_backup-s3-", dir=staging_dir)
    except OSError as exc:
        raise PgError(f"cannot create a staging directory in {staging_dir or tempfile.gettempdir()}: "
                      f"{exc.strerror or exc}") from None
    uploaded = []
    try:
        local = type(opts)(**{**opts.__dict__, "dest": stage})
        result = run(params, local)
        report = verify_artifact(result.path)
        if report.checks and any(check.ok is False for check in report.checks):
            raise PgError(f"local verification of {result.path} failed: {'; '.join(report.problems())}")
        name = os.path.basename(result.path)
        art_key, man_key = prefix + name, prefix + os.path.basename(result.manifest_path)
        try:
            upload_file(client, bucket, art_key, result.path, "application/octet-stream", result.sha256)
            uploaded.append(art_key)
            upload_file(client, bucket, man_key, result.manifest_path, "application/json", None)
            uploaded.append(man_key)
            verdict = backup_verdict(result)  # while the staged files still exist (it hashes them)
        except Exception as exc:
            if is_boto_error(exc):
                raise PgError(describe(exc, "upload of backup", f"s3://{bucket}/{art_key} at {conn.where}")) from None
            if isinstance(exc, S3Error):
                raise PgError(str(exc)) from None
            raise
    except BaseException:
        for key in uploaded:  # an artifact without its manifest would only look half-done: remove it
            try:
                client.delete_object(Bucket=bucket, Key=key)
            except Exception:
                pass
        raise
    finally:
        shutil.rmtree(stage, ignore_errors=True)
    location = {"bucket": bucket, "artifact_key": art_key, "manifest_key": man_key,
                "url": f"s3://{bucket}/{art_key}", "manifest_url": f"s3://{bucket}/{man_key}",
                "endpoint": conn.where}
    for entry in verdict["evidence"]["artifacts"]:
        entry["path"] = location["manifest_url" if entry.get("kind") == "manifest" else "url"]
    verdict["summary"] = verdict["summary"].replace(" written ", f" uploaded to s3://{bucket}/{prefix} ", 1)
    result.path, result.manifest_path = location["url"], location["manifest_url"]
    return result, location, verdict


def download_objects(client, where: str, objects) -> None:
    """Download each (bucket, key, local path) to a new file; a missing object leaves no file (the
    caller decides whether that is a failed check or an error), any other S3 error is a PgError."""
    from ..s3.client import describe, error_code, is_boto_error
    for bucket, key, dest in objects:
        try:
            with open(dest, "xb") as handle:
                client.download_fileobj(bucket, key, handle)
        except Exception as exc:
            if os.path.exists(dest):
                os.unlink(dest)
            if not is_boto_error(exc):
                raise
            if error_code(exc) not in ("404", "NoSuchKey", "NotFound"):
                raise PgError(describe(exc, "download of", f"s3://{bucket}/{key} at {where}")) from None


def verify_s3_artifact(conn, url: str, identity_file: Optional[str] = None, manifest_url: Optional[str] = None,
                       work_dir: Optional[str] = None) -> Tuple[Any, Dict[str, Any]]:
    """backup_verify for s3://bucket/key: download the artifact and its manifest (default key + .manifest.json)
    into a private temporary directory, verify them as local files, and report S3 URLs instead of the
    temporary paths. A missing object is a failed check, like a missing file. Returns (report, verdict)."""
    from ..archive import verify_verdict
    from ..s3.client import make_client
    from ..archive.manifest import MANIFEST_SUFFIX
    bucket, key = parse_s3_url(url)
    key = key.rstrip("/")
    if not key:
        raise PgError(f"{url!r} names no object: give s3://bucket/key of the artifact")
    man_bucket, man_key = parse_s3_url(manifest_url) if manifest_url else (bucket, key + MANIFEST_SUFFIX)
    man_key = man_key.rstrip("/")
    client = make_client(conn)
    tmp = tempfile.mkdtemp(prefix=".backup-verify-s3-", dir=work_dir)
    try:
        local = os.path.join(tmp, os.path.basename(key))
        local_manifest = os.path.join(tmp, "manifest.json")
        download_objects(client, conn.where, ((bucket, key, local), (man_bucket, man_key, local_manifest)))
        report = verify_artifact(local, manifest_file=local_manifest, identity_file=identity_file)
        verdict = verify_verdict(report)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    names = {local: f"s3://{bucket}/{key}", local_manifest: f"s3://{man_bucket}/{man_key}"}
    for check in report.checks:
        for path, remote in names.items():
            check.detail = check.detail.replace(path, remote)
    for entry in verdict["evidence"]["artifacts"]:
        entry["path"] = names.get(entry["path"], entry["path"])
    for path, remote in names.items():
        verdict["summary"] = verdict["summary"].replace(path, remote)
    report.path, report.manifest_path = names[local], names[local_manifest]
    return report, verdict


__all__ = ["ArchiveError", "backup_to_s3", "download_objects", "is_s3_url", "parse_s3_url", "verify_s3_artifact"]
