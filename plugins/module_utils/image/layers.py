# Copyright: (c) 2026, deploysafe.preflight contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Walk every layer as a tar stream (never extracted), applying whiteouts to build the final
filesystem view, and hand small text files to the secret detector on the way."""

from __future__ import annotations

import posixpath
import stat
import tarfile
import zlib
from dataclasses import dataclass, field
from typing import Dict, List, Optional

from ansible_collections.deploysafe.preflight.plugins.module_utils.findings import Check, Finding, Location, make_finding
from ansible_collections.deploysafe.preflight.plugins.module_utils.image.archive import Image, Layer
from ansible_collections.deploysafe.preflight.plugins.module_utils.secrets import SecretScanner, matches_to_findings

UNSAFE_PATH = Check("image.unsafe-path", "critical", "Layer member path escapes the root (../)",
                    "Rebuild the image with a trusted builder; such a layer can overwrite host files when extracted "
                    "by a naive tool.")
LAYER_UNREADABLE = Check("image.layer-unreadable", "high", "A layer could not be read completely",
                         "Re-export the image; the archive is truncated or the layer is not a tar stream.")
CHECKS = (UNSAFE_PATH, LAYER_UNREADABLE)
WHITEOUT = ".wh."
OPAQUE = ".wh..wh..opq"
GZIP_MAGIC = b"\x1f\x8b"
ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"


@dataclass
class Entry:
    path: str
    kind: str  # file, dir, symlink, hardlink, other
    mode: int
    size: int
    layer: str


@dataclass
class LayerWalk:
    files: Dict[str, Entry] = field(default_factory=dict)
    findings: List[Finding] = field(default_factory=list)
    uncompressed_bytes: int = 0
    compressed_bytes: int = 0
    members: int = 0
    secret_files_scanned: int = 0
    # Files the secret detector did not read, counted so the verdict shows what was not examined.
    secret_files_skipped_large: int = 0
    secret_files_skipped_binary: int = 0


def _kind(member: tarfile.TarInfo) -> str:
    if member.isdir():
        return "dir"
    if member.issym():
        return "symlink"
    if member.islnk():
        return "hardlink"
    if member.isfile():
        return "file"
    return "other"


def _open_stream(layer: Layer) -> tarfile.TarFile:
    with layer.open() as probe:
        magic = probe.read(4)
    handle = layer.open()
    if magic.startswith(GZIP_MAGIC):
        return tarfile.open(fileobj=handle, mode="r|gz")
    if magic.startswith(ZSTD_MAGIC):
        try:
            import zstandard
        except ImportError:
            raise tarfile.ReadError("zstd-compressed layer and the zstandard package is not installed") from None
        return tarfile.open(fileobj=zstandard.ZstdDecompressor().stream_reader(handle), mode="r|")
    return tarfile.open(fileobj=handle, mode="r|")


def _remove_tree(files: Dict[str, Entry], path: str) -> None:
    """Whiteout: the path and everything under it disappear."""
    prefix = path.rstrip("/") + "/"
    for key in [k for k in files if k == path or k.startswith(prefix)]:
        del files[key]


def _make_opaque(files: Dict[str, Entry], directory: str, layer: str) -> None:
    """Opaque whiteout: children from lower layers disappear, the directory and this layer's entries stay."""
    prefix = directory.rstrip("/") + "/"
    for key in [k for k, e in files.items() if k.startswith(prefix) and e.layer != layer]:
        del files[key]


def walk_layers(image: Image, scanner: Optional[SecretScanner] = None, secret_max_bytes: int = 1024 * 1024) -> LayerWalk:
    """Apply layers in order; findings for unsafe paths, unreadable layers and secrets in files."""
    walk = LayerWalk()
    for number, layer in enumerate(image.layers, 1):
        walk.compressed_bytes += layer.size
        short = layer.digest
        try:
            with _open_stream(layer) as tar:
                for member in tar:
                    walk.members += 1
                    _apply(walk, tar, member, short, scanner, secret_max_bytes)
        except (tarfile.TarError, EOFError, OSError, zlib.error, ValueError) as exc:
            walk.findings.append(make_finding(
                LAYER_UNREADABLE, f"layer {number} ({short[:19]}) stops after {walk.members} member(s): "
                                  f"{type(exc).__name__}: {exc}", Location(file=image.source, layer=short)))
        except Exception as exc:  # zstandard raises its own error type
            walk.findings.append(make_finding(
                LAYER_UNREADABLE, f"layer {number} ({short[:19]}) cannot be decoded: {exc}",
                Location(file=image.source, layer=short)))
    return walk


def _apply(walk: LayerWalk, tar: tarfile.TarFile, member: tarfile.TarInfo, layer: str,
           scanner: Optional[SecretScanner], secret_max_bytes: int) -> None:
    raw = member.name
    norm = posixpath.normpath(raw.lstrip("/"))
    if norm == ".." or norm.startswith("../"):
        walk.findings.append(make_finding(UNSAFE_PATH, f"layer member {raw!r} resolves outside the image root",
                                          Location(file=raw, layer=layer)))
        return
    path = "/" if norm == "." else "/" + norm
    directory, base = posixpath.split(path)
    if base == OPAQUE:  # opaque directory: hide what lower layers put in it, keep this layer's entries
        _make_opaque(walk.files, directory, layer)
        return
    if base.startswith(WHITEOUT):
        _remove_tree(walk.files, posixpath.join(directory, base[len(WHITEOUT):]))
        return
    kind = _kind(member)
    if kind != "dir" and path in walk.files and walk.files[path].kind == "dir":
        _remove_tree(walk.files, path)
    walk.files[path] = Entry(path, kind, member.mode, member.size if kind == "file" else 0, layer)
    if kind == "file":
        walk.uncompressed_bytes += member.size
        if scanner is not None and member.size > secret_max_bytes:
            walk.secret_files_skipped_large += 1
        elif scanner is not None and member.size > 0:
            handle = tar.extractfile(member)
            data = handle.read() if handle else b""
            if b"\0" in data[:8192]:
                walk.secret_files_skipped_binary += 1
            else:
                walk.secret_files_scanned += 1
                for finding in matches_to_findings(scanner.scan_bytes(data, path, layer=layer)):
                    walk.findings.append(finding)


def is_setuid(entry: Entry) -> bool:
    return entry.kind == "file" and bool(entry.mode & (stat.S_ISUID | stat.S_ISGID))


def is_world_writable_dir(entry: Entry) -> bool:
    return entry.kind == "dir" and bool(entry.mode & stat.S_IWOTH) and not entry.mode & stat.S_ISVTX
