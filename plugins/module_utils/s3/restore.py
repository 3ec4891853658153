# Copyright: (c) 2026, deploysafe.preflight contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""s3_restore: an archive or mirror into a target bucket/prefix, checking every object's sha256."""

from __future__ import annotations

import hashlib
import os
import tarfile
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional

from ..archive import ArchiveError, load_identities, read_artifact, verify_artifact
from ..archive.prerestore import PreRestoreOptions
from ..files import sha256_file
from . import S3Error
from .backup import TAR_MANIFEST_MEMBER
from .client import S3Conn, check_bucket, describe, error_code, is_boto_error, make_client, prefix_is_empty
from .lean import responsive_threads
from .objects import (RESTORE_MULTIPART_THRESHOLD, RESTORE_PART_SIZE, ObjectRecord, list_objects, read_exact,
                      read_manifest_lines, target_key, upload_stream)
from .multipart import BoundedPool, put_object, start_upload_in_parts
from .prerestore import pre_restore
from .results import TransferRates
from .source import BackupSource, open_backup


@dataclass
class RestoreOptions:
    source: str                        # archive path or s3:// mirror
    bucket: str
    prefix: Optional[str] = None       # target prefix; default the backed-up prefix (same keys)
    force: bool = False
    create_bucket: bool = False
    identity_file: Optional[str] = None
    verify_first: bool = True
    versions: str = "latest"           # latest | all (replays versions and delete markers in order)
    concurrency: int = 8
    memory_budget: int = 256 * 1024 * 1024  # bytes of objects held for background uploads
    multipart_threshold: int = RESTORE_MULTIPART_THRESHOLD
    part_size: int = RESTORE_PART_SIZE
    pre_restore: Optional[PreRestoreOptions] = None  # the safety net; None restores without it
    delete_extra: bool = False         # delete objects under the target prefix that the backup does not hold


REPORT_LIMIT = 1000  # keys listed in a result; counts are always complete


@dataclass
class RestoreResult(TransferRates):
    target: str
    objects: int = 0
    bytes: int = 0
    delete_markers: int = 0
    skipped_versions: int = 0
    duration_s: float = 0.0
    rejected_keys: List[Dict[str, str]] = field(default_factory=list)
    differing: List[Dict[str, str]] = field(default_factory=list)
    pre_restore_backup: Optional[Dict[str, Any]] = None
    deleted_extra: List[str] = field(default_factory=list)
    extra_deleted: int = 0
    delete_extra_skipped: Optional[str] = None
    # delete_extra only (None otherwise, so a plain restore's memory does not grow with the key count):
    # target key -> whether the backup leaves an object there (the last record of the key wins)
    final_state: Optional[Dict[str, bool]] = field(default=None, repr=False)


def prepare_target(client, conn: S3Conn, opts: RestoreOptions, prefix: str, dry_run: bool = False) -> List[str]:
    """Bucket exists (or may be created) and bucket/prefix is empty unless force. Returns problems in
    dry_run, raises S3Error otherwise."""
    problems: List[str] = []
    exists = True
    try:
        check_bucket(client, opts.bucket, conn.where)
    except S3Error as exc:
        if opts.create_bucket and "does not exist" in str(exc):
            exists = False
        else:
            problems.append(str(exc))
    if not problems and not exists and not dry_run:
        try:
            client.create_bucket(Bucket=opts.bucket)
        except Exception as exc:
            if not is_boto_error(exc):
                raise
            raise S3Error(describe(exc, "creating bucket", f"{opts.bucket!r} at {conn.where}")) from None
    elif not problems and exists:
        first = prefix_is_empty(client, opts.bucket, prefix)
        if first is not None and not opts.force:
            problems.append(f"target s3://{opts.bucket}/{prefix} is not empty (it holds {first!r}, maybe more); "
                            "restore refuses to mix objects: empty it, choose another prefix, or set force=true")
    if problems and not dry_run:
        raise S3Error(problems[0])
    return problems


class _Uploader:
    """Uploads records concurrently within a memory budget and collects sha256 mismatches and errors.

    Objects under the multipart threshold are read into memory by the caller and sent in the
    background; larger ones are read part by part (hashed in order) and their parts sent concurrently
    on the same bounded pool, so the archive stream keeps moving while parts travel."""

    def __init__(self, client, opts: RestoreOptions, result: RestoreResult, concurrency: int) -> None:
        self.client, self.opts, self.result = client, opts, result
        self.pool = BoundedPool(concurrency, 2 * max(1, concurrency), opts.memory_budget, "s3-restore")
        self.finisher = ThreadPoolExecutor(max_workers=2, thread_name_prefix="s3-restore-complete")
        self.lock = threading.Lock()
        self.errors: List[BaseException] = []
        self.sequential = concurrency <= 1  # replaying versions: every write in order, deletes included

    def put(self, record: ObjectRecord, dest: str, reader) -> None:
        """Upload record.size bytes of reader as dest (see the class docstring)."""
        if self.errors:
            raise self.errors[0]
        if self.sequential:
            sha = upload_stream(self.client, self.opts.bucket, dest, reader, record.size,
                                content_type=record.content_type, metadata=record.metadata,
                                threshold=self.opts.multipart_threshold, part_size=self.opts.part_size)
            self._stored(record, sha)
        elif record.size >= self.opts.multipart_threshold:
            sha, done = start_upload_in_parts(self.client, self.pool, self.finisher, self.opts.bucket, dest, reader,
                                              record.size, content_type=record.content_type,
                                              metadata=record.metadata, part_size=self.opts.part_size)
            done.add_done_callback(lambda f, r=record, s=sha: self._finished(f, r, s))
        else:
            data = read_exact(reader, record.size)
            if len(data) != record.size:
                raise S3Error(f"archive member of {record.key!r} ended after {len(data)} of {record.size} bytes")
            future = self.pool.submit(len(data), self._put_small, dest, data, record)
            future.add_done_callback(lambda f, r=record: self._finished(f, r, None))

    def _put_small(self, dest: str, data: bytes, record: ObjectRecord) -> str:
        sha = hashlib.sha256(data).hexdigest()
        put_object(self.client, self.opts.bucket, dest, data, record.content_type, record.metadata, sha)
        return sha

    def _finished(self, future, record: ObjectRecord, sha: Optional[str]) -> None:
        if future.cancelled():
            return
        exc = future.exception()
        if exc is not None:
            with self.lock:
                self.errors.append(exc)
            return
        self._stored(record, sha if sha is not None else future.result())

    def _stored(self, record: ObjectRecord, sha: str) -> None:
        with self.lock:
            self.result.objects += 1
            self.result.bytes += record.size
            if record.sha256 and sha != record.sha256:
                reason = f"restored content has sha256 {sha}, the manifest says {record.sha256}"
                self.result.differing.append({"key": record.key, "reason": reason})

    def close(self, cancel: bool = False) -> None:
        """Wait for every upload (parts first, then their completions); raise the first error."""
        self.pool.shutdown(cancel=cancel)
        self.finisher.shutdown(wait=True)
        if self.errors and not cancel:
            raise self.errors[0]


def _check_stored_bytes(src: BackupSource, identities) -> None:
    """Before writing anything: the archive's bytes hash to what its sealed manifest recorded. Cheaper
    than a full verify (no decompression, no decryption); the content itself is checked while restoring
    (zstd frame checksum, age authentication, per-object and whole-plaintext sha256). On a mismatch
    the full verify runs to say where the bytes differ."""
    art = src.header["artifact"]
    if os.path.getsize(src.location) == art["bytes"] and sha256_file(src.location) == art["sha256"]:
        return
    report = verify_artifact(src.location, identities=identities)
    raise S3Error(f"archive {src.location} failed verification, nothing was restored: "
                  + "; ".join(report.problems() or ["its bytes do not match the manifest"]))


def _wanted(record: ObjectRecord, opts: RestoreOptions, result: RestoreResult) -> bool:
    if opts.versions == "all":
        return True
    if not record.is_latest or record.delete_marker:
        result.skipped_versions += 1
        return False
    return True


def _dest(record: ObjectRecord, src: BackupSource, prefix: str, result: RestoreResult) -> Optional[str]:
    try:
        dest = target_key(record.key, src.source_prefix, prefix)
    except S3Error as exc:
        result.rejected_keys.append({"key": record.key, "reason": str(exc)})
        return None
    if result.final_state is not None:
        result.final_state[dest] = not record.delete_marker
    return dest


def _delete_extra(client, bucket: str, prefix: str, result: RestoreResult) -> None:
    """Make the prefix hold exactly what the backup holds: delete the current objects it does not list.
    Not when the restore itself is unproven (a rejected key or a differing object): deleting then could
    remove the only copy of what the restore failed to put back."""
    if result.rejected_keys or result.differing:
        result.delete_extra_skipped = (f"{len(result.rejected_keys)} keys rejected and {len(result.differing)} objects "
                                       "differ: nothing deleted")
        return
    doomed = [ref.key for ref in list_objects(client, bucket, prefix) if not result.final_state.get(ref.key)]
    for start in range(0, len(doomed), 1000):
        batch = doomed[start:start + 1000]
        resp = client.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": k} for k in batch], "Quiet": True})
        errors = resp.get("Errors") or []
        done = len(batch) - len(errors)
        result.extra_deleted += done
        failed = {e.get("Key") for e in errors}
        result.deleted_extra.extend(k for k in batch if k not in failed and len(result.deleted_extra) < REPORT_LIMIT)
        if errors:
            first = errors[0]
            raise S3Error(f"deleting objects the backup does not hold from s3://{bucket}/{prefix}: {len(errors)} "
                          f"failed, first {first.get('Key')!r}: {first.get('Code')} {first.get('Message')}")


def extra_keys(client, conn: S3Conn, bucket: str, prefix: str, final_state: Dict[str, bool]) -> List[str]:
    """Check mode of delete_extra: the current objects under the prefix that the backup does not hold."""
    try:
        check_bucket(client, bucket, conn.where)
    except S3Error:
        return []
    return [ref.key for ref in list_objects(client, bucket, prefix) if not final_state.get(ref.key)]


def run_restore(conn: S3Conn, opts: RestoreOptions, client=None) -> RestoreResult:
    """Restore opts.source into opts.bucket/prefix. Raises S3Error when the restore could not finish;
    per-object problems (rejected keys, sha256 mismatches) are returned in the result."""
    with responsive_threads():
        return _run_restore(conn, opts, client)


def _run_restore(conn: S3Conn, opts: RestoreOptions, client=None) -> RestoreResult:
    client = client or make_client(conn, pool=2 * opts.concurrency + 4)
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="s3-restore-") as tmp:
        src = open_backup(opts.source, client, tmp)
        prefix = src.source_prefix if opts.prefix is None else opts.prefix
        result = RestoreResult(target=f"s3://{opts.bucket}/{prefix}", final_state={} if opts.delete_extra else None)
        identities = load_identities(opts.identity_file) if opts.identity_file else []
        if src.kind == "archive" and opts.verify_first:
            _check_stored_bytes(src, identities)
        prepare_target(client, conn, opts, prefix)
        if opts.pre_restore is not None:  # before the first write; raises when the backup fails
            result.pre_restore_backup = pre_restore(client, conn, src, opts.bucket, prefix, opts.force,
                                                    opts.pre_restore, opts.concurrency)
        concurrency = 1 if opts.versions == "all" else opts.concurrency  # versions of a key must stay in order
        uploader = _Uploader(client, opts, result, concurrency)
        try:
            if src.kind == "archive":
                _from_archive(src, opts, prefix, result, uploader, identities)
            else:
                _from_mirror(client, src, opts, prefix, result, uploader)
            uploader.close()
            if opts.delete_extra:
                _delete_extra(client, opts.bucket, prefix, result)
        except BaseException as exc:
            uploader.close(cancel=True)
            if isinstance(exc, (S3Error, ArchiveError)):
                raise S3Error(f"restore into {result.target} stopped after {result.objects} objects: {exc}") from None
            if isinstance(exc, Exception) and is_boto_error(exc):
                raise S3Error(describe(exc, "restore into", result.target) +
                              f" (after {result.objects} objects)") from None
            raise
    result.duration_s = round(time.monotonic() - started, 3)
    return result


def _from_archive(src: BackupSource, opts: RestoreOptions, prefix: str, result: RestoreResult,
                  uploader: _Uploader, identities) -> None:
    """Decrypt+decompress in a thread into a pipe; read the tar in step with the JSONL manifest."""
    read_fd, write_fd = os.pipe()
    reader = os.fdopen(read_fd, "rb", buffering=1 << 20)
    writer = os.fdopen(write_fd, "wb", buffering=1 << 20)
    outcome: Dict[str, Any] = {}
    encrypted = bool(src.header.get("encryption"))

    def pump() -> None:
        try:
            # block_size=0: per-block hashes only locate damage, which verify_first (or s3_verify) reports;
            # hash_stored=False: nothing here reads the stored sha256 (verify_first checks it before any
            # write); the plaintext sha256, the zstd frame checksum and age authentication still run
            outcome["read"] = read_artifact(src.location, writer, encrypted=encrypted, identities=identities,
                                            block_size=0, hash_stored=False)
        except BaseException as exc:
            outcome["error"] = exc
        finally:
            try:
                writer.close()
            except OSError:
                pass

    thread = threading.Thread(target=pump, name="s3-restore-read", daemon=True)
    thread.start()
    try:
        records = read_manifest_lines(src.objects_manifest)
        # bufsize: the stream reads the pipe in 1 MiB pieces instead of 10 KiB records
        with tarfile.open(fileobj=reader, mode="r|", bufsize=1 << 20) as tar:
            for member in tar:
                if member.name == TAR_MANIFEST_MEMBER:
                    break
                record = next(records, None)
                if record is None or record.stored_as != member.name:
                    raise S3Error(f"archive member {member.name} does not match the object manifest "
                                  f"(expected {record.stored_as if record else 'no more members'})")
                if not _wanted(record, opts, result):
                    continue
                dest = _dest(record, src, prefix, result)
                if dest is None:
                    continue
                if record.delete_marker:
                    uploader.client.delete_object(Bucket=opts.bucket, Key=dest)
                    result.delete_markers += 1
                    continue
                uploader.put(record, dest, tar.extractfile(member))
            else:
                raise S3Error("the archive ended before its object manifest member: it is truncated")
        # Read the rest (manifest member, tar trailer) so the decoder thread finishes cleanly and its
        # end-of-stream checks (zstd frame checksum, age authentication) still run.
        while reader.read(1 << 20):
            pass
    except tarfile.TarError as exc:
        raise S3Error(f"archive {src.location} is not a readable tar stream: {exc}"
                      + _read_problem(thread, outcome)) from None
    finally:
        reader.close()
        thread.join()
    problem = _read_problem(thread, outcome)
    if problem:
        raise S3Error(f"reading archive {src.location} failed{problem}")
    read, plain = outcome.get("read"), src.header["plaintext"]
    if read is not None and (read.plaintext_bytes, read.plaintext_sha256) != (plain["bytes"], plain["sha256"]):
        raise S3Error(f"the decompressed content of {src.location} ({read.plaintext_bytes} bytes, sha256 "
                      f"{read.plaintext_sha256}) does not match its manifest ({plain['bytes']} bytes, {plain['sha256']})")


def _read_problem(thread: threading.Thread, outcome: Dict[str, Any]) -> str:
    thread.join(timeout=30)
    if "error" in outcome and not isinstance(outcome["error"], (BrokenPipeError,)):
        return f" ({outcome['error']})"
    read = outcome.get("read")
    if read is not None and read.error:
        return f" ({read.error})"
    return ""


def _from_mirror(client, src: BackupSource, opts: RestoreOptions, prefix: str, result: RestoreResult,
                 uploader: _Uploader) -> None:
    for record in read_manifest_lines(src.objects_manifest):
        if not _wanted(record, opts, result):
            continue
        dest = _dest(record, src, prefix, result)
        if dest is None:
            continue
        if record.delete_marker:
            client.delete_object(Bucket=opts.bucket, Key=dest)
            result.delete_markers += 1
            continue
        try:
            body = client.get_object(Bucket=src.mirror_bucket, Key=record.stored_as)["Body"]
        except Exception as exc:
            if is_boto_error(exc) and error_code(exc) in ("NoSuchKey", "404"):
                result.differing.append({"key": record.key, "reason": f"missing from the mirror as {record.stored_as}"})
                continue
            raise
        try:
            uploader.put(record, dest, body)
        finally:
            body.close()


def plan_restore(conn: S3Conn, opts: RestoreOptions, client=None) -> Dict[str, Any]:
    """Check mode: open and (optionally) verify the backup, check the target; writes nothing."""
    client = client or make_client(conn, pool=2 * opts.concurrency + 4)
    with tempfile.TemporaryDirectory(prefix="s3-restore-plan-") as tmp:
        src = open_backup(opts.source, client, tmp)
        prefix = src.source_prefix if opts.prefix is None else opts.prefix
        problems: List[str] = []
        if src.kind == "archive" and opts.verify_first:
            identities = load_identities(opts.identity_file) if opts.identity_file else []
            report = verify_artifact(src.location, identities=identities)
            problems += [] if report.ok else report.problems()
        problems += prepare_target(client, conn, opts, prefix, dry_run=True)
        safety = None
        if opts.pre_restore is not None and not problems:
            try:
                safety = pre_restore(client, conn, src, opts.bucket, prefix, opts.force, opts.pre_restore,
                                     opts.concurrency, check_mode=True)
            except S3Error as exc:
                problems.append(str(exc))
        count = size = 0
        rejected = []
        final_state: Dict[str, bool] = {}
        for record in read_manifest_lines(src.objects_manifest):
            if opts.versions == "latest" and (record.delete_marker or not record.is_latest):
                continue
            try:
                final_state[target_key(record.key, src.source_prefix, prefix)] = not record.delete_marker
            except S3Error as exc:
                if not record.delete_marker:
                    rejected.append({"key": record.key, "reason": str(exc)})
            if not record.delete_marker:
                count += 1
                size += record.size
        plan = {"target": f"s3://{opts.bucket}/{prefix}", "objects": count, "bytes": size, "problems": problems,
                "rejected_keys": rejected, "pre_restore_backup": safety}
        if opts.delete_extra:
            extras = extra_keys(client, conn, opts.bucket, prefix, final_state)
            plan.update(extra_count=len(extras), extra_keys=extras[:REPORT_LIMIT])
    return plan
