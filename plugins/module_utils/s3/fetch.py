# Copyright: (c) 2026, deploysafe.preflight contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Read one listed object, noticing changes since the listing (prefetch.py reads many in order)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Optional

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


def drain(body: HashingBody, sink, size: int) -> None:
    """Copy exactly size bytes of a streaming body into sink (a file-like); close the body."""
    try:
        left = size
        while left > 0:
            data = body.read(min(CHUNK * 16, left))  # a whole prefetched part at once: no slicing copies
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
