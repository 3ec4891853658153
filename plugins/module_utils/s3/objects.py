# Copyright: (c) 2026, deploysafe.preflight contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Listing, reading with hashing, streamed (multipart) uploads, key mapping and the JSONL object manifest."""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any, Dict, Iterator, List, Optional, Tuple

from . import S3Error
from .lean import checksum_header

CHUNK = 1 << 20
# Backups (mirror uploads, ranged reads): one PUT per object up to 64 MiB costs MinIO and the client
# less CPU than parts (measured in benchmarks/s3); ranged reads of 16 MiB keep several objects in flight.
MULTIPART_THRESHOLD = 64 * 1024 * 1024
PART_SIZE = 16 * 1024 * 1024
# Restores read the archive as one stream: parts sent concurrently (boto3 TransferConfig's 8 MiB) let
# the stream move on while the parts of a large object travel.
RESTORE_MULTIPART_THRESHOLD = 16 * 1024 * 1024
RESTORE_PART_SIZE = 8 * 1024 * 1024
OBJECTS_SUFFIX = ".objects.jsonl"  # the object manifest published beside an archive


@dataclass
class ObjectRef:
    """One object (or version, or delete marker) as listed."""
    key: str
    size: int
    etag: str
    last_modified: str
    version_id: Optional[str] = None
    is_latest: bool = True
    delete_marker: bool = False


@dataclass
class ObjectRecord:
    """One manifest line: what was stored, with the sha256 computed while streaming it."""
    key: str
    version_id: Optional[str]
    is_latest: bool
    delete_marker: bool
    size: int
    sha256: Optional[str]
    etag: str
    last_modified: str
    content_type: Optional[str]
    metadata: Dict[str, str] = field(default_factory=dict)
    stored_as: Optional[str] = None

    def line(self) -> bytes:
        return (json.dumps(asdict(self), ensure_ascii=False, sort_keys=True) + "\n").encode("utf-8")


def _iso(value: Any) -> str:
    return value.isoformat() if isinstance(value, datetime) else str(value)


def _etag(value: Optional[str]) -> str:
    return (value or "").strip('"')


def list_objects(client, bucket: str, prefix: str = "", all_versions: bool = False) -> Iterator[ObjectRef]:
    """Every object under prefix in key order (paginated); with all_versions every version and delete
    marker, oldest first within a key so that replaying them in order rebuilds the history."""
    if not all_versions:
        for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
            for obj in page.get("Contents") or []:
                yield ObjectRef(key=obj["Key"], size=obj["Size"], etag=_etag(obj.get("ETag")),
                                last_modified=_iso(obj["LastModified"]))
        return
    pending: List[ObjectRef] = []
    for page in client.get_paginator("list_object_versions").paginate(Bucket=bucket, Prefix=prefix):
        entries = [(v, False) for v in page.get("Versions") or []] + [(d, True) for d in page.get("DeleteMarkers") or []]
        entries.sort(key=lambda e: e[0]["Key"])  # code point order == S3's UTF-8 byte order
        for raw, marker in entries:
            ref = ObjectRef(key=raw["Key"], size=0 if marker else raw["Size"], etag=_etag(raw.get("ETag")),
                            last_modified=_iso(raw["LastModified"]), version_id=raw.get("VersionId"),
                            is_latest=raw.get("IsLatest", False), delete_marker=marker)
            if pending and pending[0].key != ref.key:
                # S3 lists one key's versions newest first, across pages in key order.
                yield from sorted(pending, key=lambda r: (r.last_modified, r.is_latest))
                pending = []
            pending.append(ref)
        # a page may end inside one key: keep it pending until the key changes
    yield from sorted(pending, key=lambda r: (r.last_modified, r.is_latest))


def relative_key(key: str, source_prefix: str) -> str:
    return key[len(source_prefix):] if source_prefix and key.startswith(source_prefix) else key


def target_key(key: str, source_prefix: str, target_prefix: str) -> str:
    """Where a backed-up key goes on restore. Refuses keys that would leave target_prefix once a client
    or file system resolves `.`/`..` segments (such keys come only from foreign or edited archives)."""
    rel = relative_key(key, source_prefix)
    segments = rel.split("/")
    if any(s in (".", "..") for s in segments) or "\x00" in rel:
        raise S3Error(f"refusing key {key!r}: it has '.' or '..' segments and could escape the target prefix "
                      f"{target_prefix!r}")
    return target_prefix + rel


class HashingBody:
    """Wraps a botocore StreamingBody: sha256 and count of what was read."""

    def __init__(self, body) -> None:
        self.body = body
        self.hash = hashlib.sha256()
        self.size = 0

    def read(self, n: int = -1) -> bytes:
        data = self.body.read(n if n is not None and n >= 0 else None)
        self.hash.update(data)
        self.size += len(data)
        return data

    def close(self) -> None:
        self.body.close()


def get_object(client, bucket: str, ref: ObjectRef, check_etag: bool = True) -> Dict[str, Any]:
    """GET one object pinned to what was listed: VersionId when known, else If-Match on the ETag, so
    a change after listing raises PreconditionFailed instead of storing content under the old listing."""
    args: Dict[str, Any] = {"Bucket": bucket, "Key": ref.key}
    if ref.version_id and ref.version_id != "null":
        args["VersionId"] = ref.version_id
    elif check_etag and ref.etag:
        args["IfMatch"] = f'"{ref.etag}"'
    return client.get_object(**args)


def record_for(ref: ObjectRef, resp: Dict[str, Any], size: int, sha256: Optional[str],
               stored_as: Optional[str]) -> ObjectRecord:
    return ObjectRecord(key=ref.key, version_id=ref.version_id, is_latest=ref.is_latest,
                        delete_marker=ref.delete_marker, size=size, sha256=sha256,
                        etag=_etag(resp.get("ETag")) or ref.etag, last_modified=_iso(resp.get("LastModified", ref.last_modified)),
                        content_type=resp.get("ContentType"), metadata=dict(resp.get("Metadata") or {}),
                        stored_as=stored_as)


def read_pieces(stream, n: int) -> Tuple[bytes, ...]:
    """Read n bytes (less only at EOF) as the pieces the stream returned (no joined copy)."""
    parts, left = [], n
    while left > 0:
        data = stream.read(min(left, CHUNK * 16))  # a whole prefetched part at once: no slicing
        if not data:
            break
        parts.append(data)
        left -= len(data)
    return tuple(parts)


def read_exact(stream, n: int) -> bytes:
    """Read n bytes (less only at EOF)."""
    return b"".join(read_pieces(stream, n))


def put_extra(content_type: Optional[str], metadata: Optional[Dict[str, str]]) -> Dict[str, Any]:
    """PutObject/CreateMultipartUpload arguments for an object's content type and user metadata."""
    extra: Dict[str, Any] = {"Metadata": dict(metadata or {})}
    if content_type:
        extra["ContentType"] = content_type
    return extra


def upload_stream(client, bucket: str, key: str, reader, size: int, *, content_type: Optional[str],
                  metadata: Dict[str, str], threshold: int = MULTIPART_THRESHOLD, part_size: int = PART_SIZE) -> str:
    """Upload size bytes from reader to bucket/key, hashing them; multipart above threshold (one part in
    memory at a time; the upload is aborted on any failure). Every PUT carries the sha256 of its bytes
    (x-amz-checksum-sha256), which the server checks. Returns the sha256 of what was sent."""
    digest = hashlib.sha256()
    extra = put_extra(content_type, metadata)
    if size < threshold:
        data = read_exact(reader, size)
        if len(data) != size:
            raise S3Error(f"source of {key!r} ended after {len(data)} of {size} bytes")
        digest.update(data)
        client.put_object(Bucket=bucket, Key=key, Body=data, ChecksumSHA256=checksum_header(digest.hexdigest()), **extra)
        return digest.hexdigest()
    upload_id = client.create_multipart_upload(Bucket=bucket, Key=key, ChecksumAlgorithm="SHA256", **extra)["UploadId"]
    try:
        parts, number, left = [], 1, size
        while left > 0:
            data = read_exact(reader, min(part_size, left))
            if not data:
                raise S3Error(f"source of {key!r} ended after {size - left} of {size} bytes")
            digest.update(data)
            checksum = checksum_header(hashlib.sha256(data).hexdigest())
            resp = client.upload_part(Bucket=bucket, Key=key, UploadId=upload_id, PartNumber=number, Body=data,
                                      ChecksumSHA256=checksum)
            parts.append({"PartNumber": number, "ETag": resp["ETag"], "ChecksumSHA256": checksum})
            left -= len(data)
            number += 1
        client.complete_multipart_upload(Bucket=bucket, Key=key, UploadId=upload_id,
                                         MultipartUpload={"Parts": parts})
    except BaseException:
        try:
            client.abort_multipart_upload(Bucket=bucket, Key=key, UploadId=upload_id)
        except Exception:
            pass  # the endpoint may be gone; lifecycle rules clean up abandoned uploads
        raise
    return digest.hexdigest()


def hash_object(client, bucket: str, key: str, version_id: Optional[str] = None) -> Dict[str, Any]:
    """Re-read an object and return size, sha256, content_type, metadata (never trusts the ETag)."""
    args: Dict[str, Any] = {"Bucket": bucket, "Key": key}
    if version_id:
        args["VersionId"] = version_id
    resp = client.get_object(**args)
    body = HashingBody(resp["Body"])
    try:
        while body.read(CHUNK * 8):
            pass
    finally:
        body.close()
    return {"size": body.size, "sha256": body.hash.hexdigest(), "content_type": resp.get("ContentType"),
            "metadata": dict(resp.get("Metadata") or {})}


def read_manifest_lines(path: str) -> Iterator[ObjectRecord]:
    """Stream an objects JSONL file record by record."""
    try:
        handle = open(path, "rb")
    except OSError as exc:
        raise S3Error(f"cannot read object manifest {path}: {exc.strerror or exc}") from None
    with handle:
        for number, raw in enumerate(handle, 1):
            if not raw.strip():
                continue
            yield parse_line(raw, f"{path} line {number}")


def parse_line(raw: bytes, where: str) -> ObjectRecord:
    try:
        doc = json.loads(raw)
        return ObjectRecord(**doc)
    except (ValueError, TypeError) as exc:
        raise S3Error(f"object manifest {where} is not a valid record: {exc}") from None


def fsync_close(handle) -> None:
    handle.flush()
    os.fsync(handle.fileno())
    handle.close()
