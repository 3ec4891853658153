# Copyright: (c) 2026, deploysafe.preflight contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Write an artifact: producer -> zstd -> (age) -> <name>.partial -> fsync -> rename -> manifest."""

from __future__ import annotations

import errno
import os
import re
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Callable, Dict, Optional, Sequence, Union

from .crypto import fingerprint, parse_recipients, require_pyrage
from .errors import ArchiveError
from .manifest import MANIFEST_FORMAT, MANIFEST_VERSION, TOOL_NAME, TOOL_VERSION, manifest_path, write_manifest
from .streams import BLOCK_SIZE, HashingReader, HashingWriter, copy_stream

try:
    import zstandard
except ImportError:
    zstandard = None

PARTIAL_SUFFIX = ".partial"
_SAFE = re.compile(r"[^A-Za-z0-9_.-]+")


def require_zstandard() -> Any:
    if zstandard is None:
        raise ArchiveError("compression needs the Python library zstandard (pip install zstandard)")
    return zstandard


def utc_stamp(when: Union[None, float, datetime] = None) -> str:
    """UTC time as YYYYmmddTHHMMSSZ (now when not given)."""
    if when is None:
        when = time.time()
    if not isinstance(when, datetime):
        when = datetime.fromtimestamp(when, tz=timezone.utc)
    return when.astimezone(timezone.utc).strftime("%Y%m%dT%H%M%SZ")


def artifact_name(prefix: str, subject: str, when: Union[None, float, datetime] = None, kind: str = "dump",
                  encrypted: bool = False) -> str:
    """`<prefix>-<subject>-<UTC YYYYmmddTHHMMSSZ>.<kind>.zst[.age]`; unsafe characters become `_`."""
    parts = [_SAFE.sub("_", p) for p in (prefix, subject) if p]
    return "-".join(parts + [utc_stamp(when)]) + f".{kind}.zst" + (".age" if encrypted else "")


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass
class ArtifactResult:
    """What write_artifact published."""
    path: str
    manifest_path: str
    manifest: Dict[str, Any]
    stored_bytes: int
    plaintext_bytes: int
    sha256: str
    plaintext_sha256: str
    duration_s: float
    warnings: list = field(default_factory=list)


def _open_partial(path: str):
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0), 0o600)
    return os.fdopen(fd, "wb", buffering=1 << 20)


def _describe_os_error(exc: OSError, where: str) -> str:
    if exc.errno == errno.ENOSPC:
        return f"destination full: no space left on device while writing {where}"
    if exc.errno == errno.EDQUOT:
        return f"destination full: disk quota exceeded while writing {where}"
    return f"cannot write {where}: {exc.strerror or exc}"


def _pump(producer, out: HashingWriter, plain: HashingReader, level: int, threads: int, recipients) -> None:
    """Run the compression (and encryption) pipeline to the end of the producer's stream."""
    zstd = require_zstandard()
    cctx = zstd.ZstdCompressor(level=level, threads=threads, write_checksum=True)
    if recipients:
        lib = require_pyrage()
        compressed = cctx.stream_reader(plain, read_size=1 << 20)
        try:
            lib.encrypt_io(compressed, out, recipients)
        except lib.EncryptError as exc:
            # pyrage flattens our exceptions into strings: re-raise the original one if we have it.
            raise (out.error or plain.error or ArchiveError(f"age encryption failed: {exc}")) from None
    else:
        with cctx.stream_writer(out, closefd=False, write_size=1 << 20) as zw:
            copy_stream(plain, zw)


def write_artifact(producer, dest_dir: str, name: str, *, level: int = 3, threads: int = -1,
                   recipients: Sequence[str] = (), content_type: str = "application/octet-stream",
                   source_identity: Optional[Dict[str, Any]] = None,
                   source: Union[None, Dict[str, Any], Callable[[], Dict[str, Any]]] = None,
                   opener: Callable[[str], Any] = _open_partial,
                   clock: Callable[[], float] = time.time) -> ArtifactResult:
    """Stream producer.stream through zstd (and age) into dest_dir/name, then publish its manifest.

    The data goes to `<name>.partial` (mode 0600, O_EXCL), is fsynced, and only after
    producer.finish() succeeded is it renamed to `<name>`; the manifest `<name>.manifest.json` follows.
    On any failure the producer is aborted, the partial file removed, and ArchiveError raised, so
    nothing that looks complete is left. `source` may be a callable evaluated after the producer
    finished (for data computed alongside, such as per-table hashes).
    """
    if not os.path.isdir(dest_dir):
        producer.abort()
        raise ArchiveError(f"destination {dest_dir} does not exist or is not a directory")
    final = os.path.join(dest_dir, name)
    partial = final + PARTIAL_SUFFIX
    if os.path.lexists(final):
        producer.abort()
        raise ArchiveError(f"refusing to overwrite existing artifact {final}")
    keys = list(recipients)
    parsed = parse_recipients(keys) if keys else []
    started = clock()
    try:
        handle = opener(partial)
    except OSError as exc:
        producer.abort()
        raise ArchiveError(f"destination not writable: cannot create {partial}: {exc.strerror or exc}") from None
    plain = HashingReader(producer.stream)
    out = HashingWriter(handle)
    published = False
    try:
        try:
            _pump(producer, out, plain, level, threads, parsed)
            handle.flush()
            os.fsync(handle.fileno())
            handle.close()
        except OSError as exc:
            raise ArchiveError(_describe_os_error(exc, partial)) from None
        except Exception as exc:
            if zstandard is not None and isinstance(exc, zstandard.ZstdError):
                raise ArchiveError(f"zstd compression failed: {exc}") from None
            raise
        producer.finish()
        source_data = source() if callable(source) else dict(source or {})
        finished = clock()
        doc = {
            "format": MANIFEST_FORMAT,
            "format_version": MANIFEST_VERSION,
            "tool": {"name": TOOL_NAME, "version": TOOL_VERSION},
            "artifact": {"name": name, "bytes": out.size, "sha256": out.hexdigest(),
                         "block_size": BLOCK_SIZE, "block_sha256": out.hasher.finish()},
            "plaintext": {"bytes": plain.size, "sha256": plain.hexdigest(), "content_type": content_type},
            "compression": {"algorithm": "zstd", "level": level, "threads": threads, "checksum": True},
            "encryption": ({"scheme": "age", "recipients": [fingerprint(k) for k in keys]} if keys else None),
            "source_identity": source_identity or {},
            "source": source_data,
            "started_at": _iso(started),
            "finished_at": _iso(finished),
            "duration_s": round(finished - started, 3),
        }
        try:
            os.rename(partial, final)
        except OSError as exc:
            raise ArchiveError(f"cannot publish {final}: {exc.strerror or exc}") from None
        published = True
        _fsync_dir(dest_dir)
        sealed = write_manifest(manifest_path(final), doc)
    except BaseException:
        if not handle.closed:
            try:
                handle.close()
            except OSError:
                pass
        producer.abort()
        for leftover in ([final] if published else []) + [partial]:
            if os.path.lexists(leftover):
                os.unlink(leftover)
        raise
    return ArtifactResult(path=final, manifest_path=manifest_path(final), manifest=sealed,
                          stored_bytes=out.size, plaintext_bytes=plain.size, sha256=out.hexdigest(),
                          plaintext_sha256=plain.hexdigest(), duration_s=round(finished - started, 3),
                          warnings=list(getattr(producer, "warnings", [])))


def _fsync_dir(directory: str) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
