# Copyright: (c) 2026, deploysafe.preflight contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Concurrent uploads with bounded memory: a pool whose submit() waits for room, and multipart uploads
whose parts are read (and hashed) in order by the caller and sent concurrently on that pool.

The part sizes follow boto3's managed transfers (TransferConfig: 8 MiB parts above a 16 MiB threshold
here); the parts are sent by our pool rather than by s3transfer because the sha256 of the whole object
must be computed over the bytes in order as they pass, and the bytes come from a tar stream or from
ranged GETs that are already in flight.
"""

from __future__ import annotations

import hashlib
import threading
from concurrent.futures import Future, ThreadPoolExecutor, wait
from typing import Any, Callable, Dict, List, Optional, Tuple, Union

from . import S3Error
from .client import describe, is_boto_error
from .lean import LeanS3Client, checksum_header
from .objects import put_extra, read_exact


class BoundedPool:
    """A thread pool for uploads: at most max_tasks queued or running, and at most memory_budget bytes
    of their bodies held (a task larger than the budget still runs, alone). submit() blocks until there
    is room; tasks must never submit to the same pool (that could wait forever)."""

    def __init__(self, workers: int, max_tasks: int, memory_budget: int, name: str) -> None:
        self.pool = ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix=name)
        self._slots = threading.Semaphore(max(1, max_tasks))
        self._room = threading.Condition()
        self._held = 0
        self.budget = memory_budget

    def submit(self, size: int, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Future:
        self._slots.acquire()
        with self._room:
            while self._held and self._held + size > self.budget:
                self._room.wait()
            self._held += size
        try:
            future = self.pool.submit(fn, *args, **kwargs)
        except BaseException:
            self._release(size)
            raise
        future.add_done_callback(lambda _f: self._release(size))
        return future

    def _release(self, size: int) -> None:
        with self._room:
            self._held -= size
            self._room.notify_all()
        self._slots.release()

    def shutdown(self, cancel: bool = False) -> None:
        self.pool.shutdown(wait=True, cancel_futures=cancel)


def send_part(client, bucket: str, key: str, upload_id: str, number: int, data: bytes) -> Dict[str, Any]:
    """UploadPart with the part's own sha256 (the server refuses a part whose bytes do not match);
    returns the entry CompleteMultipartUpload needs for it."""
    checksum = checksum_header(hashlib.sha256(data).hexdigest())
    try:
        resp = client.upload_part(Bucket=bucket, Key=key, UploadId=upload_id, PartNumber=number, Body=data,
                                  ChecksumSHA256=checksum)
        return {"PartNumber": number, "ETag": resp["ETag"], "ChecksumSHA256": checksum}
    except Exception as exc:
        if is_boto_error(exc):
            raise S3Error(describe(exc, f"uploading part {number} of", f"s3://{bucket}/{key}")) from None
        raise


def put_object(client, bucket: str, key: str, data: Union[bytes, Tuple[bytes, ...]], content_type: Optional[str],
               metadata: Optional[Dict[str, str]], sha256: Optional[str] = None) -> None:
    """One PUT carrying the sha256 of data (computed here unless given: the caller hashed it already), which
    the server checks; an S3 error names the object. data may be a tuple of pieces (sent without joining
    them on the lean path)."""
    if sha256 is None:
        digest = hashlib.sha256()
        for piece in (data,) if isinstance(data, bytes) else data:
            digest.update(piece)
        sha256 = digest.hexdigest()
    checksum = checksum_header(sha256)
    if not isinstance(data, bytes) and not isinstance(client, LeanS3Client):
        data = b"".join(data)  # botocore sends one body
    try:
        client.put_object(Bucket=bucket, Key=key, Body=data, ChecksumSHA256=checksum, **put_extra(content_type, metadata))
    except Exception as exc:
        if is_boto_error(exc):
            raise S3Error(describe(exc, "uploading", f"s3://{bucket}/{key}")) from None
        raise


def raise_first_error(futures: List[Future]) -> None:
    """Raise the error of the first finished future that failed (cheap: only looks at finished ones)."""
    for future in futures:
        if future.done() and not future.cancelled() and future.exception() is not None:
            raise future.exception()


def start_upload_in_parts(client, pool: BoundedPool, finisher: ThreadPoolExecutor, bucket: str, key: str, reader,
                          size: int, *, content_type: Optional[str], metadata: Optional[Dict[str, str]],
                          part_size: int) -> Tuple[str, Future]:
    """Multipart upload of size bytes from reader: parts are read and hashed here in order and sent
    concurrently on pool. Returns (sha256 of the whole object, future of the completion): `finisher`
    waits for the last parts and completes the upload, so the caller can move on to the next object
    meanwhile. On any failure the upload is aborted (no object appears) and the error names the key."""
    digest = hashlib.sha256()
    try:
        upload_id = client.create_multipart_upload(Bucket=bucket, Key=key, ChecksumAlgorithm="SHA256",
                                                   **put_extra(content_type, metadata))["UploadId"]
    except Exception as exc:
        if is_boto_error(exc):
            raise S3Error(describe(exc, "starting the multipart upload of", f"s3://{bucket}/{key}")) from None
        raise
    futures: List[Future] = []
    try:
        number, left = 1, size
        while left > 0:
            want = min(part_size, left)
            data = read_exact(reader, want)
            if len(data) != want:
                raise S3Error(f"source of {key!r} ended after {size - left + len(data)} of {size} bytes")
            digest.update(data)
            raise_first_error(futures)
            futures.append(pool.submit(len(data), send_part, client, bucket, key, upload_id, number, data))
            left -= want
            number += 1
        return digest.hexdigest(), finisher.submit(_complete, client, bucket, key, upload_id, futures)
    except BaseException:
        _abort(client, bucket, key, upload_id, futures)
        raise


def _complete(client, bucket: str, key: str, upload_id: str, futures: List[Future]) -> None:
    try:
        parts = [f.result() for f in futures]
        client.complete_multipart_upload(Bucket=bucket, Key=key, UploadId=upload_id, MultipartUpload={"Parts": parts})
    except BaseException as exc:
        _abort(client, bucket, key, upload_id, futures)
        if isinstance(exc, Exception) and is_boto_error(exc):
            raise S3Error(describe(exc, "completing the multipart upload of", f"s3://{bucket}/{key}")) from None
        raise


def _abort(client, bucket: str, key: str, upload_id: str, futures: List[Future]) -> None:
    for future in futures:
        future.cancel()
    wait(futures)
    try:
        client.abort_multipart_upload(Bucket=bucket, Key=key, UploadId=upload_id)
    except Exception:
        pass  # the endpoint may be gone; lifecycle rules clean up abandoned uploads
