# Copyright: (c) 2026, deploysafe.preflight contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Read listed objects in listing order with bounded concurrency, noticing changes since the listing."""

from __future__ import annotations

import hashlib
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, Iterable, Iterator, List, Optional

from . import S3Error
from .client import error_code, is_boto_error
from .objects import CHUNK, HashingBody, ObjectRef, get_object, read_exact

GONE = ("NoSuchKey", "NoSuchVersion", "404")


@dataclass
class Fetched:
    """A listed object ready to store: small ones already read (data), large ones still streaming (body)."""
    ref: ObjectRef
    response: Dict[str, Any] = field(default_factory=dict)
    size: int = 0
    data: Optional[bytes] = None
    sha256: Optional[str] = None
    body: Optional[HashingBody] = None
    changed: bool = False  # the object changed after listing; what is stored is the newer content
    vanished: bool = False  # deleted after listing: nothing stored


@dataclass
class FetchStats:
    changed: List[str] = field(default_factory=list)
    vanished: List[str] = field(default_factory=list)


def open_object(client, bucket: str, ref: ObjectRef, before_read: Optional[Callable[[ObjectRef], None]] = None,
                retries: int = 3) -> Fetched:
    """GET ref pinned to its listed version/ETag. If it changed since listing, re-read the current
    object (up to `retries` times) and mark it changed; if it is gone, mark it vanished."""
    if before_read is not None:
        before_read(ref)
    changed = False
    for attempt in range(retries + 1):  # pylint: disable=unused-variable
        try:
            resp = get_object(client, bucket, ref)
        except Exception as exc:
            if not is_boto_error(exc):
                raise
            code = error_code(exc)
            if code in GONE:
                return Fetched(ref=ref, vanished=True)
            if code == "PreconditionFailed":
                changed = True
                try:
                    head = client.head_object(Bucket=bucket, Key=ref.key)
                except Exception as exc2:
                    if is_boto_error(exc2) and error_code(exc2) in GONE:
                        return Fetched(ref=ref, vanished=True, changed=True)
                    raise
                ref = ObjectRef(key=ref.key, size=head["ContentLength"], etag=(head.get("ETag") or "").strip('"'),
                                last_modified=head["LastModified"].isoformat(), version_id=None,
                                is_latest=True)
                continue
            raise
        return Fetched(ref=ref, response=resp, size=resp["ContentLength"], body=HashingBody(resp["Body"]),
                       changed=changed)
    raise S3Error(f"object {ref.key!r} in bucket {bucket!r} kept changing while it was read ({retries} retries)")


def read_small(fetched: Fetched) -> Fetched:
    """Read a small object's body completely (hashing it) and release the connection."""
    if fetched.body is None:
        return fetched
    try:
        data = read_exact(fetched.body, fetched.size)
        if len(data) != fetched.size or fetched.body.read(1):
            raise S3Error(f"object {fetched.ref.key!r}: the server sent {len(data)} bytes, "
                          f"Content-Length said {fetched.size}")
    finally:
        fetched.body.close()
    fetched.data, fetched.sha256, fetched.body = data, hashlib.sha256(data).hexdigest(), None
    return fetched


def fetch_in_order(client, bucket: str, refs: Iterable[ObjectRef], *, concurrency: int, small_limit: int,
                   before_read: Optional[Callable[[ObjectRef], None]] = None) -> Iterator[Fetched]:
    """Yield every ref in order. Objects up to small_limit are read ahead by `concurrency` threads
    (at most 2*concurrency of them in memory); larger ones are opened when their turn comes and
    yielded with a streaming body the caller must drain. Delete markers are yielded as they are."""
    refs = iter(refs)
    window: deque = deque()
    with ThreadPoolExecutor(max_workers=max(1, concurrency), thread_name_prefix="s3-fetch") as pool:
        def small_job(ref: ObjectRef) -> Fetched:
            return read_small(open_object(client, bucket, ref, before_read))

        def fill() -> None:
            while len(window) < 2 * max(1, concurrency):
                ref = next(refs, None)
                if ref is None:
                    return
                if ref.delete_marker:
                    window.append(("ready", Fetched(ref=ref)))
                elif ref.size <= small_limit:
                    window.append(("future", pool.submit(small_job, ref)))
                else:
                    window.append(("large", ref))

        try:
            fill()
            while window:
                kind, item = window.popleft()
                if kind == "future":
                    fetched = item.result()
                elif kind == "large":
                    fetched = open_object(client, bucket, item, before_read)
                    if fetched.body is not None and fetched.size <= small_limit:
                        fetched = read_small(fetched)  # it shrank since listing
                else:
                    fetched = item
                fill()
                yield fetched
        finally:
            for kind, item in window:
                if kind == "future":
                    item.cancel()


def drain(body: HashingBody, sink, size: int) -> None:
    """Copy exactly size bytes of a streaming body into sink (a file-like); close the body."""
    try:
        left = size
        while left > 0:
            data = body.read(min(CHUNK * 4, left))
            if not data:
                raise S3Error(f"the object body ended {left} bytes early")
            sink.write(data)
            left -= len(data)
    finally:
        body.close()


def fetch_error(exc: BaseException, bucket: str, where: str) -> Any:
    """Turn an exception raised while reading the source into an S3Error (kept when already one)."""
    from .client import describe
    if isinstance(exc, S3Error):
        return exc
    return S3Error(describe(exc, "reading objects of bucket", f"{bucket!r} at {where}"))
