# Copyright: (c) 2026, deploysafe.preflight contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Scratch buckets for restore rehearsals: created with a tag, and only tagged buckets are ever emptied
and removed, so a typo in a bucket name cannot delete real data."""

from __future__ import annotations

from typing import Any, Dict

from . import S3Error
from .client import error_code, is_boto_error

TAG_KEY = "deploysafe-scratch"


def _exists(client, bucket: str) -> bool:
    try:
        client.head_bucket(Bucket=bucket)
        return True
    except Exception as exc:
        if is_boto_error(exc) and error_code(exc) in ("404", "NoSuchBucket"):
            return False
        raise


def is_scratch(client, bucket: str) -> bool:
    try:
        tags = client.get_bucket_tagging(Bucket=bucket).get("TagSet") or []
    except Exception as exc:
        if is_boto_error(exc) and error_code(exc) in ("NoSuchTagSet", "NoSuchTagSetError", "404"):
            return False
        raise
    return any(t.get("Key") == TAG_KEY and t.get("Value") == "true" for t in tags)


def ensure_scratch(client, bucket: str, check: bool = False) -> Dict[str, Any]:
    """Create the bucket with the scratch tag; an existing bucket must already carry the tag."""
    if _exists(client, bucket):
        if not is_scratch(client, bucket):
            raise S3Error(f"bucket {bucket!r} exists and is not a scratch bucket (no {TAG_KEY}=true tag): "
                          "refusing to use it")
        return {"changed": False}
    if not check:
        client.create_bucket(Bucket=bucket)
        client.put_bucket_tagging(Bucket=bucket, Tagging={"TagSet": [{"Key": TAG_KEY, "Value": "true"}]})
    return {"changed": True}


def remove_scratch(client, bucket: str, check: bool = False) -> Dict[str, Any]:
    """Delete every version, delete marker and unfinished upload, then the bucket (tagged buckets only)."""
    if not _exists(client, bucket):
        return {"changed": False, "deleted_objects": 0}
    if not is_scratch(client, bucket):
        raise S3Error(f"bucket {bucket!r} is not a scratch bucket (no {TAG_KEY}=true tag): refusing to delete it")
    count = 0
    for page in client.get_paginator("list_object_versions").paginate(Bucket=bucket):
        for entry in (page.get("Versions") or []) + (page.get("DeleteMarkers") or []):
            count += 1
            if not check:
                client.delete_object(Bucket=bucket, Key=entry["Key"], VersionId=entry["VersionId"])
    if not check:
        for page in client.get_paginator("list_multipart_uploads").paginate(Bucket=bucket):
            for upload in page.get("Uploads") or []:
                client.abort_multipart_upload(Bucket=bucket, Key=upload["Key"], UploadId=upload["UploadId"])
        client.delete_bucket(Bucket=bucket)
    return {"changed": True, "deleted_objects": count}
