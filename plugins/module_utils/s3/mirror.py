# Copyright: (c) 2026, deploysafe.preflight contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Mirror mode: copy every object (download, sha256, upload) under <dest_prefix><name>/ in another
bucket; manifest.jsonl and backup.json are written last, so a mirror without backup.json is incomplete."""

from __future__ import annotations

import json
import os
import tempfile
import time
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone
from typing import Any, Dict

from ..archive.manifest import seal
from ..archive.streams import HashingWriter, copy_stream
from ..files import sha256_stream
from . import S3Error
from .client import check_bucket, describe, is_boto_error
from .fetch import Fetched
from .multipart import BoundedPool, put_object, start_upload_in_parts
from .objects import CHUNK, ObjectRef, list_objects, read_pieces, record_for, upload_stream
from .prefetch import MEMORY_BUDGET, fetch_in_order
from .results import BackupResult, ObjectCounter

MIRROR_FORMAT = "deploysafe.preflight/s3-mirror"
MIRROR_VERSION = 1
HEADER_NAME = "backup.json"
JSONL_NAME = "manifest.jsonl"


def _now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def mirror_key(base: str, ref: ObjectRef, seq: int, all_versions: bool) -> str:
    return base + (f"versions/{seq:08d}/" if all_versions else "objects/") + ref.key


def run_mirror(client, conn, opts, name: str):
    """Copy opts.bucket/opts.prefix to s3://opts.dest_bucket/opts.dest_prefix+name/ (see module doc)."""
    if not opts.dest_bucket:
        raise S3Error("mode mirror needs dest_bucket")
    if opts.dest_bucket == opts.bucket and (opts.dest_prefix.startswith(opts.prefix) or opts.prefix.startswith(opts.dest_prefix)):
        raise S3Error(f"dest_prefix {opts.dest_prefix!r} overlaps the backed-up prefix {opts.prefix!r} in the same "
                      "bucket: the backup would include its own output")
    check_bucket(client, opts.dest_bucket, conn.where)
    base = f"{opts.dest_prefix}{name}/"
    header_key = base + HEADER_NAME
    try:
        client.head_object(Bucket=opts.dest_bucket, Key=header_key)
        raise S3Error(f"refusing to overwrite existing mirror s3://{opts.dest_bucket}/{base}")
    except S3Error:
        raise
    except Exception as exc:
        if not is_boto_error(exc):
            raise
    started = time.monotonic()
    started_at = _now()
    counter = ObjectCounter()
    written = []
    jsonl = tempfile.TemporaryFile()

    uploads = BoundedPool(opts.concurrency, 2 * max(1, opts.concurrency), MEMORY_BUDGET, "s3-mirror")
    finisher = ThreadPoolExecutor(max_workers=2, thread_name_prefix="s3-mirror-complete")
    pending: deque = deque()  # uploads (single PUTs, multipart completions) still running, oldest first

    def put(dest: str, fetched: Fetched, data, sha: str, size: int) -> None:
        while pending and pending[0].done():
            pending.popleft().result()  # raises the first failure
        pending.append(uploads.submit(size, put_object, client, opts.dest_bucket, dest, data,
                                      fetched.response.get("ContentType"), fetched.response.get("Metadata"), sha))

    def store(fetched: Fetched, dest: str) -> str:
        """Start storing fetched as dest; returns its sha256 (the bytes are hashed in order here)."""
        if fetched.data is not None:
            put(dest, fetched, fetched.data, fetched.sha256, len(fetched.data))
            return fetched.sha256
        try:
            if fetched.size >= opts.multipart_threshold:
                sha, done = start_upload_in_parts(client, uploads, finisher, opts.dest_bucket, dest, fetched.body,
                                                  fetched.size, content_type=fetched.response.get("ContentType"),
                                                  metadata=fetched.response.get("Metadata"), part_size=opts.part_size)
                pending.append(done)
                return sha
            pieces = read_pieces(fetched.body, fetched.size)  # the ranged parts as they came: no joined copy
            got = sum(len(piece) for piece in pieces)
            if got != fetched.size or fetched.body.read(1):
                raise S3Error(f"object {fetched.ref.key!r}: the server sent {got} bytes, "
                              f"Content-Length said {fetched.size}")
            sha = fetched.body.hash.hexdigest()
            put(dest, fetched, pieces, sha, got)
            return sha
        finally:
            fetched.body.close()

    try:
        try:
            refs = list_objects(client, opts.bucket, opts.prefix, opts.all_versions)
            for seq, fetched in enumerate(fetch_in_order(client, opts.bucket, refs, concurrency=opts.concurrency,
                                                         small_limit=opts.small_object_limit,
                                                         part_size=opts.part_size, before_read=opts.before_read), 1):
                if not counter.add(fetched):
                    continue
                dest = sha = None
                if not fetched.ref.delete_marker:
                    dest = mirror_key(base, fetched.ref, seq, opts.all_versions)
                    written.append(dest)
                    sha = store(fetched, dest)
                jsonl.write(record_for(fetched.ref, fetched.response, fetched.size, sha, dest).line())
            for future in pending:
                future.result()
        finally:
            uploads.shutdown(cancel=True)
            finisher.shutdown(wait=True)
        size = jsonl.tell()
        jsonl.seek(0)
        jsonl_sha256 = sha256_stream(jsonl)
        jsonl.seek(0)
        upload_stream(client, opts.dest_bucket, base + JSONL_NAME, jsonl, size,
                      content_type="application/x-ndjson", metadata={})
        written.append(base + JSONL_NAME)
        duration = round(time.monotonic() - started, 3)
        header = seal({
            "format": MIRROR_FORMAT, "format_version": MIRROR_VERSION,
            "source": {"endpoint": conn.where, "bucket": opts.bucket, "prefix": opts.prefix,
                       "all_versions": opts.all_versions},
            "objects": counter.objects, "delete_markers": counter.markers, "bytes": counter.bytes,
            "changed_during_backup": counter.stats.changed, "vanished_during_backup": counter.stats.vanished,
            "objects_manifest": {"key": base + JSONL_NAME, "sha256": jsonl_sha256, "bytes": size},
            "started_at": started_at, "finished_at": _now(), "duration_s": duration,
        })
        client.put_object(Bucket=opts.dest_bucket, Key=header_key, ContentType="application/json",
                          Body=(json.dumps(header, indent=2, sort_keys=True) + "\n").encode())
    except BaseException as exc:
        _cleanup(client, opts.dest_bucket, written)
        if isinstance(exc, S3Error):
            raise S3Error(f"mirror of bucket {opts.bucket!r} to {opts.dest_bucket!r} failed: {exc} (the partial mirror "
                          "has no backup.json and does not count as a backup)") from None
        if isinstance(exc, Exception) and is_boto_error(exc):
            raise S3Error(describe(exc, "mirror of bucket", f"{opts.bucket!r} to {opts.dest_bucket!r} at {conn.where}")
                          + " (the partial mirror has no backup.json and does not count as a backup)") from None
        raise
    finally:
        jsonl.close()
    return BackupResult(mode="mirror", name=name, location=f"s3://{opts.dest_bucket}/{base}",
                        manifest=f"s3://{opts.dest_bucket}/{header_key}", objects=counter.objects,
                        delete_markers=counter.markers, bytes=counter.bytes, duration_s=duration,
                        changed_keys=counter.stats.changed, vanished_keys=counter.stats.vanished)


def _cleanup(client, bucket: str, keys) -> None:
    """Best effort: remove what a failed mirror wrote (the endpoint may be gone)."""
    for key in keys[:10000]:
        try:
            client.delete_object(Bucket=bucket, Key=key)
        except Exception:
            return


def load_mirror(client, url: str, local_dir: str) -> Dict[str, Any]:
    """Fetch a mirror's backup.json (s3://bucket/prefix/name/backup.json or the folder URL), check it,
    download its manifest.jsonl to local_dir and check its sha256. Returns the header + local path."""
    bucket, key = split_url(url)
    if not key.endswith(HEADER_NAME):
        key = key.rstrip("/") + "/" + HEADER_NAME
    try:
        raw = client.get_object(Bucket=bucket, Key=key)["Body"].read()
    except Exception as exc:
        if is_boto_error(exc):
            raise S3Error(describe(exc, "reading mirror header", f"s3://{bucket}/{key}")
                          + " (a mirror without backup.json is incomplete)") from None
        raise
    try:
        header = json.loads(raw)
    except ValueError as exc:
        raise S3Error(f"s3://{bucket}/{key} is not valid JSON: {exc}") from None
    if header.get("format") != MIRROR_FORMAT or seal(header).get("digest") != header.get("digest"):
        raise S3Error(f"s3://{bucket}/{key} is not an intact {MIRROR_FORMAT} header")
    man = header["objects_manifest"]
    path = os.path.join(local_dir, "manifest.jsonl")
    body = client.get_object(Bucket=bucket, Key=man["key"])["Body"]
    with open(path, "wb") as out:
        copied = HashingWriter(out, block_size=0)
        copy_stream(body, copied, CHUNK)
    if copied.hexdigest() != man["sha256"]:
        raise S3Error(f"mirror manifest s3://{bucket}/{man['key']} has sha256 {copied.hexdigest()}, "
                      f"backup.json says {man['sha256']} (it was changed after the backup)")
    header["bucket"], header["local_manifest"] = bucket, path
    return header


def split_url(url: str):
    if not url.startswith("s3://"):
        raise S3Error(f"{url!r} is not an s3://bucket/key URL")
    bucket, sep, key = url[5:].partition("/")
    return bucket, key if sep else ""


__all__ = ["load_mirror", "run_mirror", "split_url"]
