# Copyright: (c) 2026, deploysafe.preflight contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Read listed objects in listing order with bounded concurrency and bounded memory.

Small objects are one GET each; larger ones are split into ranged GETs of `part_size`, every range
pinned to the listed version (VersionId) or ETag (If-Match), so the parts of one object always come
from the same content. All reads (whole small objects and parts of large ones) are scheduled in one
global order, the order the consumer needs them: while the consumer drains object k, the parts of
k+1, k+2... are already on their way, within `memory_budget` bytes and `2 * concurrency` reads.
The consumer (one thread: the tar writer or the mirror's main loop) gets every object in order, so a
single tar stream is fed by many concurrent downloads.
"""

from __future__ import annotations

import hashlib
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable, Deque, Dict, Iterable, Iterator, List, Optional

from . import S3Error
from .client import describe, error_code, is_boto_error
from .fetch import GONE, Fetched, open_object, read_small
from .objects import PART_SIZE, ObjectRef

MEMORY_BUDGET = 128 * 1024 * 1024


class _Restart(Exception):
    """The first range of an object could not be read as listed (changed or gone): read it again whole."""


def _pin(ref: ObjectRef) -> Dict[str, Any]:
    if ref.version_id and ref.version_id != "null":
        return {"VersionId": ref.version_id}
    return {"IfMatch": f'"{ref.etag}"'} if ref.etag else {}


def _read_range(client, bucket: str, ref: ObjectRef, start: int, end: int, first: bool,
                before_read: Optional[Callable[[ObjectRef], None]]):
    """GET bytes start..end (inclusive) of ref, pinned; returns (bytes, response without the body)."""
    if first and before_read is not None:
        before_read(ref)
    try:
        resp = client.get_object(Bucket=bucket, Key=ref.key, Range=f"bytes={start}-{end}", **_pin(ref))
    except Exception as exc:
        if is_boto_error(exc) and error_code(exc) in GONE + ("PreconditionFailed", "InvalidRange"):
            if first:
                raise _Restart() from None
            raise S3Error(f"object {ref.key!r} in bucket {bucket!r} changed while it was read in parts "
                          f"(range {start}-{end}: {error_code(exc)}); run the backup again") from None
        if is_boto_error(exc):
            raise S3Error(describe(exc, "reading object", f"{ref.key!r} in bucket {bucket!r} (bytes {start}-{end})")) from None
        raise
    body = resp.pop("Body")
    try:
        data = body.read()
    except Exception as exc:
        if is_boto_error(exc):
            raise S3Error(describe(exc, "reading object", f"{ref.key!r} in bucket {bucket!r} (bytes {start}-{end})")) from None
        raise
    finally:
        body.close()
    if len(data) != end - start + 1:
        raise S3Error(f"object {ref.key!r} in bucket {bucket!r}: range {start}-{end} returned {len(data)} bytes")
    total = (resp.get("ContentRange") or "").rpartition("/")[2]
    if first and total.isdigit() and int(total) != ref.size:
        raise _Restart()  # the ETag matched but the size did not: never trust the listing then
    return data, resp


class _Large:
    """The parts of one large object: futures in order, and how far they were scheduled."""

    def __init__(self, ref: ObjectRef, part_size: int) -> None:
        self.ref = ref
        self.ranges = [(start, min(start + part_size, ref.size) - 1) for start in range(0, ref.size, part_size)]
        self.futures: Deque[Any] = deque()
        self.scheduled = 0

    @property
    def pending(self) -> bool:
        return self.scheduled < len(self.ranges)


class PartsBody:
    """The body of a large object read in parts: read(n) in order, hashing (like HashingBody)."""

    def __init__(self, prefetch: "OrderedPrefetch", large: _Large, first: bytes) -> None:
        self._prefetch, self._large = prefetch, large
        self._buf, self._pos = first, 0
        self.hash = hashlib.sha256(first)
        self.size = len(first)
        self._taken = 1

    def _next_part(self) -> bool:
        if self._taken >= len(self._large.ranges):
            return False
        data, _resp = self._prefetch.take(self._large)
        self._taken += 1
        self._buf, self._pos = data, 0
        self.hash.update(data)
        self.size += len(data)
        return True

    def read(self, n: int = -1) -> bytes:
        if self._pos >= len(self._buf) and not self._next_part():
            return b""
        if n is None or n < 0:
            n = len(self._buf) - self._pos
        if self._pos == 0 and n >= len(self._buf):
            out, self._buf = self._buf, b""
            return out
        out = self._buf[self._pos:self._pos + n]
        self._pos += len(out)
        return out

    def close(self) -> None:
        self._prefetch.drop(self._large)


class OrderedPrefetch:
    """Schedules whole-object and ranged reads in consumption order (see the module docstring)."""

    def __init__(self, client, bucket: str, refs: Iterable[ObjectRef], *, concurrency: int, small_limit: int,
                 part_size: int = PART_SIZE, memory_budget: int = MEMORY_BUDGET,
                 before_read: Optional[Callable[[ObjectRef], None]] = None) -> None:
        self.client, self.bucket, self.before_read = client, bucket, before_read
        self.small_limit, self.part_size = small_limit, max(1, part_size)
        self.refs = iter(refs)
        self.max_reads = 2 * max(1, concurrency)
        self.budget = max(memory_budget, self.part_size, small_limit)
        self.pool = ThreadPoolExecutor(max_workers=max(1, concurrency), thread_name_prefix="s3-fetch")
        self.window: Deque[List[Any]] = deque()  # [kind, item, reserved bytes]
        self.in_flight = 0   # reads scheduled and not yet consumed
        self.reserved = 0    # bytes of those reads
        self.exhausted = False
        self.current: Optional[_Large] = None

    # -- scheduling (consumer thread only) --------------------------------------------------------
    def _room(self, size: int) -> bool:
        return self.in_flight == 0 or (self.in_flight < self.max_reads and self.reserved + size <= self.budget)

    def _schedule_part(self, large: _Large, force: bool = False) -> bool:
        start, end = large.ranges[large.scheduled]
        if not force and not self._room(end - start + 1):
            return False
        large.futures.append((end - start + 1, self.pool.submit(
            _read_range, self.client, self.bucket, large.ref, start, end, large.scheduled == 0, self.before_read)))
        large.scheduled += 1
        self.in_flight += 1
        self.reserved += end - start + 1
        return True

    def fill(self) -> None:
        """Schedule reads in order until the read count or the memory budget is reached."""
        current = self.current  # the object being consumed (already out of the window) comes first
        while current is not None and current.pending:
            if not self._schedule_part(current):
                return
        for entry in self.window:  # reads of objects already in the window come first
            if entry[0] == "large":
                while entry[1].pending:
                    if not self._schedule_part(entry[1]):
                        return
            elif entry[0] == "later":
                if not self._room(entry[1].size):
                    return
                self._schedule_small(entry)
        while not self.exhausted:
            ref = next(self.refs, None)
            if ref is None:
                self.exhausted = True
                return
            if ref.delete_marker:
                self.window.append(["ready", Fetched(ref=ref), 0])
            elif ref.size <= self.small_limit:
                entry = ["later", ref, 0]
                self.window.append(entry)
                if not self._room(ref.size):
                    return
                self._schedule_small(entry)
            else:
                large = _Large(ref, self.part_size)
                self.window.append(["large", large, 0])
                while large.pending:
                    if not self._schedule_part(large):
                        return

    def _schedule_small(self, entry: List[Any]) -> None:
        ref = entry[1]
        entry[:] = ["small", self.pool.submit(self._small, ref), ref.size]
        self.in_flight += 1
        self.reserved += ref.size

    def _small(self, ref: ObjectRef) -> Fetched:
        try:
            return read_small(open_object(self.client, self.bucket, ref, self.before_read))
        except Exception as exc:
            if is_boto_error(exc):
                raise S3Error(describe(exc, "reading object", f"{ref.key!r} in bucket {self.bucket!r}")) from None
            raise

    def take(self, large: _Large):
        """The next part of large (waits for it); frees its share of the budget and schedules more."""
        if not large.futures:  # fill() schedules in consumption order, so this only guards the invariant
            self._schedule_part(large, force=True)
        size, future = large.futures.popleft()
        try:
            return future.result()
        finally:
            self.in_flight -= 1
            self.reserved -= size
            self.fill()

    def drop(self, large: _Large) -> None:
        """Forget the parts of large that were not read (the consumer stopped early)."""
        while large.futures:
            size, future = large.futures.popleft()
            future.cancel()
            self.in_flight -= 1
            self.reserved -= size
        large.scheduled = len(large.ranges)

    # -- consumption --------------------------------------------------------------------------------
    def __iter__(self) -> Iterator[Fetched]:
        try:
            self.fill()
            while self.window:
                if self.window[0][0] == "later":  # the head always gets its read, budget or not
                    self._schedule_small(self.window[0])
                kind, item, size = self.window.popleft()
                if kind == "small":
                    try:
                        fetched = item.result()
                    finally:
                        self.in_flight -= 1
                        self.reserved -= size
                    self.fill()
                elif kind == "large":
                    fetched = self._open_large(item)
                else:
                    fetched = item
                    self.fill()
                yield fetched
        finally:
            for kind, item, _size in self.window:
                if kind == "small":
                    item.cancel()
                elif kind == "large":
                    self.drop(item)
            self.pool.shutdown(wait=True, cancel_futures=True)

    def _open_large(self, large: _Large) -> Fetched:
        self.current = large
        try:
            first, resp = self.take(large)
        except _Restart:
            # changed, gone or resized since listing: the single-GET path sorts out which, and marks it
            self.drop(large)
            self.fill()
            fetched = open_object(self.client, self.bucket, large.ref, None)
            if fetched.body is not None and fetched.size <= self.small_limit:
                fetched = read_small(fetched)
            return fetched
        except BaseException:
            self.drop(large)
            raise
        resp = dict(resp, ContentLength=large.ref.size)
        return Fetched(ref=large.ref, response=resp, size=large.ref.size, body=PartsBody(self, large, first))


def fetch_in_order(client, bucket: str, refs: Iterable[ObjectRef], *, concurrency: int, small_limit: int,
                   part_size: int = PART_SIZE, memory_budget: int = MEMORY_BUDGET,
                   before_read: Optional[Callable[[ObjectRef], None]] = None) -> Iterator[Fetched]:
    """Yield every ref in listing order as a Fetched: small objects read (data, sha256), larger ones with
    a body (PartsBody, or a single streaming GET when the object changed after listing) that the caller
    must drain or close before asking for the next one. Delete markers are yielded as they are."""
    return iter(OrderedPrefetch(client, bucket, refs, concurrency=concurrency, small_limit=small_limit,
                                part_size=part_size, memory_budget=memory_budget, before_read=before_read))
