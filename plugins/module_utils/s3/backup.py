# Copyright: (c) 2026, deploysafe.preflight contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""s3_backup: a bucket/prefix into one streamed tar archive (archive layer) or a mirror in another bucket."""

from __future__ import annotations

import io
import json
import os
import tarfile
import threading
import time
from dataclasses import dataclass
from typing import Any, Callable, Dict, List, Optional, Sequence

from ..archive import ArchiveError, artifact_name, utc_stamp, write_artifact
from ..files import plan_destination, sha256_file
from . import S3Error
from .client import S3Conn, check_bucket, describe, is_boto_error, make_client
from .fetch import Fetched, drain, fetch_error
from .lean import responsive_threads
from .prefetch import fetch_in_order
from .mirror import run_mirror
from .objects import MULTIPART_THRESHOLD, OBJECTS_SUFFIX, PART_SIZE, ObjectRef, ObjectRecord, fsync_close, list_objects, record_for
from .results import BackupResult, ObjectCounter

TAR_MANIFEST_MEMBER = "MANIFEST.objects.jsonl"
KEY_HEADER = "DEPLOYSAFE.key"
VERSION_HEADER = "DEPLOYSAFE.version_id"
CONTENT_TYPE = "application/x-tar"


@dataclass
class BackupOptions:
    bucket: str
    prefix: str = ""
    mode: str = "archive"               # archive | mirror
    dest: Optional[str] = None          # archive: local directory
    dest_bucket: Optional[str] = None   # mirror
    dest_prefix: str = "s3-backup/"
    name_prefix: str = "s3"
    name: Optional[str] = None          # default <name_prefix>-<bucket>-<UTC stamp>
    all_versions: bool = False
    concurrency: int = 8
    small_object_limit: int = 4 * 1024 * 1024
    compression_level: int = 3
    compression_threads: int = -1
    encrypt_recipients: Sequence[str] = ()
    multipart_threshold: int = MULTIPART_THRESHOLD
    part_size: int = PART_SIZE
    before_read: Optional[Callable[[ObjectRef], None]] = None  # test hook: runs between listing and reading


class TarProducer:
    """Archive-layer producer: a thread writes a PAX tar of the objects into a pipe, in listing order,
    and writes the JSONL object manifest (to a .partial file) as it goes. Memory stays bounded by the
    read-ahead window of small objects; large objects stream from the GET straight into the pipe."""

    name = "s3 tar stream"

    def __init__(self, client, conn: S3Conn, opts: BackupOptions, jsonl_partial: str) -> None:
        self.client, self.conn, self.opts = client, conn, opts
        self.jsonl_partial = jsonl_partial
        self.counter = ObjectCounter()
        self.warnings: List[str] = []
        self.error: Optional[BaseException] = None
        read_fd, write_fd = os.pipe()
        self.stream = os.fdopen(read_fd, "rb", buffering=1 << 20)
        self._pipe = os.fdopen(write_fd, "wb", buffering=1 << 20)
        self._thread = threading.Thread(target=self._run, name="s3-tar", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        jsonl = None
        try:
            jsonl = open(self.jsonl_partial, "xb")
            refs = list_objects(self.client, self.opts.bucket, self.opts.prefix, self.opts.all_versions)
            # mode "w" on a position-counting writer, not the streaming "w|": its internal _Stream buffer
            # re-slices the whole pending buffer for every 10 KiB record, quadratic in the write size.
            with tarfile.TarFile(fileobj=_Appender(self._pipe), mode="w", format=tarfile.PAX_FORMAT) as tar:
                seq = 0
                for fetched in fetch_in_order(self.client, self.opts.bucket, refs, concurrency=self.opts.concurrency,
                                              small_limit=self.opts.small_object_limit,
                                              part_size=self.opts.part_size, before_read=self.opts.before_read):
                    if not self.counter.add(fetched):
                        continue
                    seq += 1
                    member = f"objects/{seq:08d}" + (".deleted" if fetched.ref.delete_marker else "")
                    info = tarfile.TarInfo(member)
                    info.size, info.mode = fetched.size, 0o600
                    info.mtime = int(time.time())
                    info.pax_headers = {KEY_HEADER: fetched.ref.key, VERSION_HEADER: fetched.ref.version_id or ""}
                    if fetched.data is not None or fetched.ref.delete_marker:
                        tar.addfile(info, io.BytesIO(fetched.data or b""))
                        sha = fetched.sha256
                    else:
                        _stream_member(tar, info, fetched)
                        sha = fetched.body.hash.hexdigest()
                    record = record_for(fetched.ref, fetched.response, fetched.size,
                                        None if fetched.ref.delete_marker else sha, member)
                    jsonl.write(record.line())
                    tar.members = []  # write mode never needs them: keep memory flat
                fsync_close(jsonl)
                info = tarfile.TarInfo(TAR_MANIFEST_MEMBER)
                info.size, info.mode, info.mtime = os.path.getsize(self.jsonl_partial), 0o600, int(time.time())
                with open(self.jsonl_partial, "rb") as handle:
                    tar.addfile(info, handle)
        except BaseException as exc:  # reported by finish(); the pipe closes so the reader sees EOF
            self.error = exc
        finally:
            if jsonl is not None and not jsonl.closed:
                jsonl.close()
            try:
                self._pipe.close()
            except OSError:
                pass

    def finish(self) -> None:
        self._thread.join()
        if self.error is not None:
            raise fetch_error(self.error, self.opts.bucket, self.conn.where)

    def abort(self) -> None:
        try:
            self.stream.close()  # the writer gets EPIPE and stops
        except OSError:
            pass
        self._thread.join(timeout=self.conn.read_timeout + 5)


class _Appender:
    """A write-only stream with tell(): what TarFile's plain "w" mode needs, over a pipe."""

    def __init__(self, raw) -> None:
        self.raw, self.position = raw, 0

    def write(self, data) -> int:
        self.raw.write(data)
        self.position += len(data)
        return len(data)

    def tell(self) -> int:
        return self.position

    def flush(self) -> None:
        self.raw.flush()


def _stream_member(tar: tarfile.TarFile, info: tarfile.TarInfo, fetched: Fetched) -> None:
    """Write a member whose body streams from a GET (header, hashed body, padding) by hand: addfile()
    would want a file object it can re-read, and newer Pythons refuse a header-only addfile()."""
    header = info.tobuf(tar.format, tar.encoding, tar.errors)
    tar.fileobj.write(header)
    tar.offset += len(header)
    drain(fetched.body, tar.fileobj, fetched.size)
    size = fetched.size
    blocks, remainder = divmod(size, tarfile.BLOCKSIZE)
    if remainder:
        tar.fileobj.write(tarfile.NUL * (tarfile.BLOCKSIZE - remainder))
        blocks += 1
    tar.offset += blocks * tarfile.BLOCKSIZE


def backup_name(opts: BackupOptions, when: Optional[float] = None) -> str:
    if opts.name:
        return opts.name
    if opts.mode == "archive":
        return artifact_name(opts.name_prefix, opts.bucket, when, kind="tar", encrypted=bool(opts.encrypt_recipients))
    return artifact_name(opts.name_prefix, opts.bucket, when, kind="mirror").rsplit(".mirror.zst", 1)[0]


def run_backup(conn: S3Conn, opts: BackupOptions, client=None) -> BackupResult:
    """Back up opts.bucket/opts.prefix; raises S3Error (nothing that looks complete is left behind)."""
    with responsive_threads():
        return _run_backup(conn, opts, client)


def _run_backup(conn: S3Conn, opts: BackupOptions, client=None) -> BackupResult:
    client = client or make_client(conn, pool=2 * opts.concurrency + 4)
    check_bucket(client, opts.bucket, conn.where)
    if opts.mode == "archive":
        return _archive(client, conn, opts)
    if opts.mode == "mirror":
        return run_mirror(client, conn, opts, backup_name(opts))
    raise S3Error(f"unknown mode {opts.mode!r} (archive or mirror)")


def _archive(client, conn: S3Conn, opts: BackupOptions) -> BackupResult:
    if not opts.dest or not os.path.isdir(opts.dest):
        raise S3Error(f"destination {opts.dest} does not exist or is not a directory")
    started = time.monotonic()
    name = backup_name(opts)
    final = os.path.join(opts.dest, name)
    jsonl_final = final + OBJECTS_SUFFIX
    jsonl_partial = jsonl_final + ".partial"
    if os.path.lexists(jsonl_final):
        raise S3Error(f"refusing to overwrite existing object manifest {jsonl_final}")
    producer = TarProducer(client, conn, opts, jsonl_partial)

    def source() -> Dict[str, Any]:
        os.rename(jsonl_partial, jsonl_final)
        c = producer.counter
        return {"bucket": opts.bucket, "prefix": opts.prefix, "all_versions": opts.all_versions,
                "objects": c.objects, "delete_markers": c.markers, "bytes": c.bytes,
                "changed_during_backup": c.stats.changed, "vanished_during_backup": c.stats.vanished,
                "objects_manifest": {"name": os.path.basename(jsonl_final), "sha256": sha256_file(jsonl_final),
                                     "bytes": os.path.getsize(jsonl_final)},
                "tar": {"member_prefix": "objects/", "key_header": KEY_HEADER, "manifest_member": TAR_MANIFEST_MEMBER}}

    try:
        result = write_artifact(producer, opts.dest, name, level=opts.compression_level,
                                threads=opts.compression_threads, recipients=opts.encrypt_recipients,
                                content_type=CONTENT_TYPE,
                                source_identity={"kind": "s3", "endpoint": conn.where, "bucket": opts.bucket,
                                                 "prefix": opts.prefix},
                                source=source)
    except BaseException as exc:
        for leftover in (jsonl_partial, jsonl_final):
            if os.path.lexists(leftover):
                os.unlink(leftover)
        if isinstance(exc, ArchiveError):
            raise S3Error(str(exc)) from None
        if isinstance(exc, Exception) and is_boto_error(exc):
            raise S3Error(describe(exc, "backup of bucket", f"{opts.bucket!r} at {conn.where}")) from None
        raise
    c = producer.counter
    return BackupResult(mode="archive", name=name, location=result.path, manifest=jsonl_final,
                        archive_manifest=result.manifest_path, objects=c.objects, delete_markers=c.markers,
                        bytes=c.bytes, duration_s=round(time.monotonic() - started, 3),
                        changed_keys=c.stats.changed, vanished_keys=c.stats.vanished, sha256=result.sha256,
                        stored_bytes=result.stored_bytes)


def plan_backup(conn: S3Conn, opts: BackupOptions, client=None) -> Dict[str, Any]:
    """Check mode: list (without reading content) and check the destination; changes nothing."""
    client = client or make_client(conn, pool=2 * opts.concurrency + 4)
    problems: List[str] = []
    check_bucket(client, opts.bucket, conn.where)
    count = size = 0
    for ref in list_objects(client, opts.bucket, opts.prefix, opts.all_versions):
        if not ref.delete_marker:
            count += 1
            size += ref.size
    name = backup_name(opts)
    notes: List[str] = []
    if opts.mode == "archive":
        _where, dest_problems, notes = plan_destination(opts.dest)
        problems.extend(dest_problems)
        would = os.path.join(opts.dest or "", name)
    else:
        try:
            check_bucket(client, opts.dest_bucket or "", conn.where)
        except S3Error as exc:
            problems.append(str(exc))
        would = f"s3://{opts.dest_bucket}/{opts.dest_prefix}{name}/"
    return {"would_write": would, "objects": count, "bytes": size, "problems": problems, "notes": notes}


def manifest_header(doc: Dict[str, Any]) -> bytes:
    return (json.dumps(doc, indent=2, sort_keys=True, default=str) + "\n").encode()


__all__ = ["BackupOptions", "BackupResult", "ObjectRecord", "plan_backup", "run_backup", "utc_stamp"]
