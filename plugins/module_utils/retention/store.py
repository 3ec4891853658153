# Copyright: (c) 2026, deploysafe.preflight contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Where backups live: list, read and delete the files directly inside a directory or an S3 prefix."""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, List, Optional

from ..verdict import atomic_write_bytes
from . import RetentionError

S3_SCHEME = "s3://"
# Manifests and verification records are small; refuse to read anything much larger into memory.
MAX_READ = 16 * 1024 * 1024


@dataclass
class Entry:
    """One file of the location: its name (no directory), size and modification time (UTC)."""
    name: str
    size: int
    mtime: datetime


def parse_s3_location(url: str):
    """s3://bucket/prefix -> (bucket, 'prefix/'), the same parsing as pg_backup's S3 destination."""
    from ..pg import PgError
    from ..pg.s3dest import parse_s3_url
    try:
        return parse_s3_url(url)
    except PgError as exc:
        raise RetentionError(f"location: {exc}") from None


class LocalStore:
    """A local directory (not recursive: backups are written directly into it)."""

    def __init__(self, directory: str) -> None:
        self.directory = directory
        self.where = directory

    def url(self, name: str) -> str:
        return os.path.join(self.directory, name)

    def list(self) -> List[Entry]:
        try:
            scan = list(os.scandir(self.directory))
        except FileNotFoundError:
            raise RetentionError(f"location {self.directory} does not exist") from None
        except NotADirectoryError:
            raise RetentionError(f"location {self.directory} is not a directory") from None
        except OSError as exc:
            raise RetentionError(f"cannot list {self.directory}: {exc.strerror or exc}") from None
        out = []
        for item in scan:
            try:
                if not item.is_file(follow_symlinks=False):
                    continue
                info = item.stat(follow_symlinks=False)
            except OSError as exc:
                raise RetentionError(f"cannot stat {item.path}: {exc.strerror or exc}") from None
            out.append(Entry(item.name, info.st_size, datetime.fromtimestamp(info.st_mtime, tz=timezone.utc)))
        return out

    def read(self, name: str) -> bytes:
        path = self.url(name)
        try:
            with open(path, "rb") as handle:
                return handle.read(MAX_READ + 1)[:MAX_READ]
        except OSError as exc:
            raise RetentionError(f"cannot read {path}: {exc.strerror or exc}") from None

    def write(self, name: str, data: bytes) -> None:
        try:
            atomic_write_bytes(self.url(name), data)
        except OSError as exc:
            raise RetentionError(f"cannot write {self.url(name)}: {exc.strerror or exc}") from None

    def delete(self, name: str) -> None:
        try:
            os.unlink(self.url(name))
        except FileNotFoundError:
            pass  # already gone (a previous run that stopped half-way): the goal is reached
        except OSError as exc:
            raise RetentionError(f"cannot delete {self.url(name)}: {exc.strerror or exc}") from None


class S3Store:
    """The objects directly under an S3 prefix (keys with a further '/' are ignored)."""

    def __init__(self, client: Any, bucket: str, prefix: str, endpoint: str) -> None:
        self.client, self.bucket, self.prefix, self.endpoint = client, bucket, prefix, endpoint
        self.where = f"s3://{bucket}/{prefix} at {endpoint}"

    @classmethod
    def from_url(cls, url: str, conn) -> "S3Store":
        from ..s3.client import make_client
        bucket, prefix = parse_s3_location(url)
        return cls(make_client(conn), bucket, prefix, conn.where)

    def url(self, name: str) -> str:
        return f"s3://{self.bucket}/{self.prefix}{name}"

    def _error(self, exc: Exception, action: str, where: str) -> RetentionError:
        from ..s3.client import describe, is_boto_error
        if is_boto_error(exc):
            return RetentionError(describe(exc, action, f"{where} at {self.endpoint}"))
        return RetentionError(f"{action} {where} at {self.endpoint} failed: {exc}")

    def list(self) -> List[Entry]:
        out = []
        try:
            pages = self.client.get_paginator("list_objects_v2").paginate(
                Bucket=self.bucket, Prefix=self.prefix, Delimiter="/")
            for page in pages:
                for obj in page.get("Contents") or []:
                    name = obj["Key"][len(self.prefix):]
                    modified = obj["LastModified"]
                    if modified.tzinfo is None:
                        modified = modified.replace(tzinfo=timezone.utc)
                    out.append(Entry(name, int(obj["Size"]), modified.astimezone(timezone.utc)))
        except Exception as exc:
            # A listing that failed part-way must never look like "these backups are gone".
            raise self._error(exc, "listing of", f"s3://{self.bucket}/{self.prefix}") from None
        return out

    def read(self, name: str) -> bytes:
        try:
            body = self.client.get_object(Bucket=self.bucket, Key=self.prefix + name)["Body"]
            return body.read(MAX_READ)
        except Exception as exc:
            raise self._error(exc, "download of", self.url(name)) from None

    def write(self, name: str, data: bytes) -> None:
        try:
            self.client.put_object(Bucket=self.bucket, Key=self.prefix + name, Body=data,
                                   ContentType="application/json")
        except Exception as exc:
            raise self._error(exc, "upload of", self.url(name)) from None

    def delete(self, name: str) -> None:
        try:
            self.client.delete_object(Bucket=self.bucket, Key=self.prefix + name)
        except Exception as exc:
            raise self._error(exc, "deletion of", self.url(name)) from None


def open_store(location: str, conn: Optional[Any] = None):
    """A LocalStore for a path, an S3Store for s3://bucket/prefix/ (conn: an s3.client.S3Conn)."""
    if not location:
        raise RetentionError("location is empty: give a directory or s3://bucket/prefix/")
    if location.startswith(S3_SCHEME):
        from ..s3.client import S3Conn
        return S3Store.from_url(location, conn or S3Conn())
    return LocalStore(location)
