# Copyright: (c) 2026, deploysafe.preflight contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""s3_verify: compare a bucket/prefix with a backup's object manifest by re-reading and hashing content."""

from __future__ import annotations

import tempfile
import time
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional

from . import S3Error
from .client import S3Conn, check_bucket, describe, error_code, is_boto_error, make_client
from .lean import responsive_threads
from .objects import ObjectRecord, hash_object, list_objects, read_manifest_lines, target_key
from .source import open_backup

REPORT_LIMIT = 1000  # keys listed per category in the result; counts are always complete


@dataclass
class VerifyOptions:
    manifest: str                    # archive, its .objects.jsonl, or s3:// mirror
    bucket: str
    prefix: Optional[str] = None     # default: the backed-up prefix
    concurrency: int = 8
    check_extra: bool = True
    compare_metadata: bool = True


@dataclass
class VerifyResult:
    target: str
    manifest: str
    expected: int = 0
    matched: int = 0
    bytes: int = 0
    missing: List[str] = field(default_factory=list)
    extra: List[str] = field(default_factory=list)
    differing: List[Dict[str, str]] = field(default_factory=list)
    counts: Dict[str, int] = field(default_factory=lambda: {"missing": 0, "extra": 0, "differing": 0, "unsafe": 0})
    duration_s: float = 0.0

    def note(self, kind: str, entry: Any) -> None:
        self.counts[kind] = self.counts.get(kind, 0) + 1
        bucket = {"missing": self.missing, "extra": self.extra}.get(kind, self.differing)
        if len(bucket) < REPORT_LIMIT:
            bucket.append(entry)

    @property
    def ok(self) -> bool:
        return not any(self.counts.values()) and self.expected == self.matched


def _compare(record: ObjectRecord, actual: Dict[str, Any], compare_metadata: bool) -> List[str]:
    reasons = []
    if actual["size"] != record.size:
        reasons.append(f"size {actual['size']} != {record.size}")
    if record.sha256 and actual["sha256"] != record.sha256:
        reasons.append(f"sha256 {actual['sha256']} != {record.sha256}")
    if compare_metadata:
        if record.content_type and actual["content_type"] != record.content_type:
            reasons.append(f"content-type {actual['content_type']!r} != {record.content_type!r}")
        if dict(actual["metadata"]) != dict(record.metadata or {}):
            reasons.append(f"metadata {actual['metadata']} != {record.metadata}")
    return reasons


def run_verify(conn: S3Conn, opts: VerifyOptions, client=None) -> VerifyResult:
    """Hash every object the manifest expects (latest versions) at opts.bucket/prefix, and list the
    prefix for objects the manifest does not know. Raises S3Error only when it cannot run at all."""
    with responsive_threads():
        return _run_verify(conn, opts, client)


def _run_verify(conn: S3Conn, opts: VerifyOptions, client=None) -> VerifyResult:
    client = client or make_client(conn, pool=2 * opts.concurrency + 4)
    started = time.monotonic()
    check_bucket(client, opts.bucket, conn.where)
    with tempfile.TemporaryDirectory(prefix="s3-verify-") as tmp:
        src = open_backup(opts.manifest, client, tmp)
        prefix = src.source_prefix if opts.prefix is None else opts.prefix
        result = VerifyResult(target=f"s3://{opts.bucket}/{prefix}", manifest=opts.manifest)
        expected = set()

        def check(record: ObjectRecord, key: str):
            try:
                return record, key, hash_object(client, opts.bucket, key), None
            except Exception as exc:
                if is_boto_error(exc) and error_code(exc) in ("NoSuchKey", "404"):
                    return record, key, None, "missing"
                raise

        try:
            with ThreadPoolExecutor(max_workers=max(1, opts.concurrency), thread_name_prefix="s3-verify") as pool:
                window: deque = deque()

                def settle(limit: int) -> None:
                    while len(window) > limit:
                        record, key, actual, state = window.popleft().result()
                        if state == "missing":
                            result.note("missing", key)
                            continue
                        reasons = _compare(record, actual, opts.compare_metadata)
                        if reasons:
                            result.note("differing", {"key": key, "reason": "; ".join(reasons)})
                        else:
                            result.matched += 1
                            result.bytes += actual["size"]

                for record in read_manifest_lines(src.objects_manifest):
                    if not record.is_latest or record.delete_marker:
                        continue
                    try:
                        key = target_key(record.key, src.source_prefix, prefix)
                    except S3Error as exc:
                        result.note("unsafe", {"key": record.key, "reason": str(exc)})
                        continue
                    result.expected += 1
                    expected.add(key)
                    window.append(pool.submit(check, record, key))
                    settle(2 * max(1, opts.concurrency))
                settle(0)
            if opts.check_extra:
                for ref in list_objects(client, opts.bucket, prefix):
                    if ref.key not in expected:
                        result.note("extra", ref.key)
        except Exception as exc:
            if is_boto_error(exc):
                raise S3Error(describe(exc, "verifying", f"{result.target} at {conn.where}")) from None
            raise
    result.duration_s = round(time.monotonic() - started, 3)
    return result
