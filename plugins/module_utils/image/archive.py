# Copyright: (c) 2026, deploysafe.preflight contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Open an image without extracting it: an OCI image layout directory, or a tarball holding an
OCI layout (`podman save --format oci-archive`, `skopeo copy oci-archive:`) or a docker-archive
(`docker save`, `podman save`). Blobs are read in place from the directory or the outer tar."""

from __future__ import annotations

import hashlib
import io
import json
import os
import posixpath
import shutil
import subprocess
import tarfile
import tempfile
from dataclasses import dataclass, field
from typing import IO, Any, Callable, Dict, List, Optional

from ansible_collections.deploysafe.preflight.plugins.module_utils.image.errors import ImageError

MAX_JSON_BYTES = 16 * 1024 * 1024  # manifests and configs are small; refuse absurd ones


@dataclass
class Layer:
    digest: str
    size: int  # compressed (blob) size
    media_type: str
    open: Callable[[], IO[bytes]]


@dataclass
class Image:
    source: str
    kind: str  # oci-layout | oci-archive | docker-archive
    config: Dict[str, Any]
    config_digest: str
    manifest_digest: str  # "" when the format does not record one (docker-archive)
    tags: List[str]
    layers: List[Layer] = field(default_factory=list)
    _closer: Optional[Callable[[], None]] = None

    def close(self) -> None:
        if self._closer:
            self._closer()
            self._closer = None


def _load_json(handle: IO[bytes], what: str) -> Any:
    data = handle.read(MAX_JSON_BYTES + 1)
    if len(data) > MAX_JSON_BYTES:
        raise ImageError(f"{what}: larger than {MAX_JSON_BYTES} bytes, not an image metadata file")
    try:
        return json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise ImageError(f"{what}: invalid JSON: {exc}") from None


class _Store:
    """Named files of a directory or a tar archive, read in place."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.tar: Optional[tarfile.TarFile] = None
        self.members: Dict[str, tarfile.TarInfo] = {}
        if os.path.isdir(path):
            return
        try:
            self.tar = tarfile.open(path, "r:*")
            for member in self.tar.getmembers():  # reads the whole index: a truncated tar fails here
                self.members[posixpath.normpath(member.name.lstrip("/"))] = member
        except (tarfile.TarError, EOFError, OSError, ValueError) as exc:
            reason = str(exc).splitlines()[-1].strip(" -") if str(exc) else type(exc).__name__
            raise ImageError(f"{path}: not a readable image tarball ({reason}); expected an OCI layout or "
                             f"docker-archive tar, complete and not truncated") from None

    def exists(self, name: str) -> bool:
        if self.tar is None:
            return os.path.isfile(os.path.join(self.path, name))
        return name in self.members

    def size(self, name: str) -> int:
        if self.tar is None:
            return os.path.getsize(os.path.join(self.path, name))
        return self.members[name].size

    def open(self, name: str) -> IO[bytes]:
        if self.tar is None:
            full = os.path.realpath(os.path.join(self.path, name))
            if not full.startswith(os.path.realpath(self.path) + os.sep):
                raise ImageError(f"{self.path}: blob name {name!r} points outside the layout")
            return open(full, "rb")
        member = self.members.get(name)
        if member is None or not member.isfile():
            raise ImageError(f"{self.path}: {name} is missing from the archive")
        handle = self.tar.extractfile(member)
        if handle is None:
            raise ImageError(f"{self.path}: {name} cannot be read")
        return handle

    def json(self, name: str) -> Any:
        if not self.exists(name):
            raise ImageError(f"{self.path}: {name} is missing")
        with self.open(name) as handle:
            return _load_json(handle, f"{self.path}:{name}")

    def close(self) -> None:
        if self.tar is not None:
            self.tar.close()


def _blob_name(digest: str) -> str:
    algo, sep, hexpart = str(digest).partition(":")
    if not sep or not algo or not hexpart or "/" in hexpart or ".." in hexpart:
        raise ImageError(f"invalid digest {digest!r}")
    return f"blobs/{algo}/{hexpart}"


def _pick_manifest(store: _Store, index: Dict[str, Any], platform: str, depth: int = 0) -> Dict[str, Any]:
    manifests = index.get("manifests") or []
    if not manifests:
        raise ImageError(f"{store.path}: index.json lists no manifests")
    os_name, arch = (platform.split("/", 1) + [""])[:2]

    def score(desc: Dict[str, Any]) -> int:
        plat = desc.get("platform") or {}
        return int(plat.get("os") == os_name) + int(plat.get("architecture") == arch)

    desc = max(manifests, key=score)
    if "index" in str(desc.get("mediaType", "")) or "manifest.list" in str(desc.get("mediaType", "")):
        if depth > 2:
            raise ImageError(f"{store.path}: nested image indexes too deep")
        nested = store.json(_blob_name(desc["digest"]))
        chosen = _pick_manifest(store, nested, platform, depth + 1)
        chosen.setdefault("annotations", {}).update(desc.get("annotations") or {})
        return chosen
    return desc


def open_image(path: str, platform: str = "linux/amd64") -> Image:
    """Read the manifest and config of the image at path (OCI layout dir, OCI or docker archive)."""
    if not os.path.exists(path):
        raise ImageError(f"{path}: no such file or directory")
    store = _Store(path)
    try:
        if store.exists("index.json") and store.exists("oci-layout"):
            return _open_oci(store, platform)
        if store.exists("manifest.json"):
            return _open_docker_archive(store)
        raise ImageError(f"{path}: neither an OCI layout (oci-layout + index.json) nor a docker-archive "
                         f"(manifest.json)")
    except ImageError:
        store.close()
        raise
    except (KeyError, TypeError, AttributeError) as exc:
        store.close()
        raise ImageError(f"{path}: malformed image metadata ({type(exc).__name__}: {exc})") from None


def _open_oci(store: _Store, platform: str) -> Image:
    index = store.json("index.json")
    desc = _pick_manifest(store, index, platform)
    manifest = store.json(_blob_name(desc["digest"]))
    config_digest = manifest["config"]["digest"]
    config = store.json(_blob_name(config_digest))
    annotations = desc.get("annotations") or {}
    ref = annotations.get("org.opencontainers.image.ref.name") or annotations.get("io.containerd.image.name") or ""
    layers = []
    for layer in manifest.get("layers") or []:
        name = _blob_name(layer["digest"])
        if not store.exists(name):
            raise ImageError(f"{store.path}: layer blob {layer['digest']} is missing")
        layers.append(Layer(layer["digest"], int(layer.get("size") or store.size(name)), str(layer.get("mediaType", "")),
                            lambda name=name: store.open(name)))
    kind = "oci-layout" if store.tar is None else "oci-archive"
    return Image(store.path, kind, config, config_digest, desc["digest"], [ref] if ref else [], layers, store.close)


def _open_docker_archive(store: _Store) -> Image:
    entries = store.json("manifest.json")
    if not isinstance(entries, list) or not entries:
        raise ImageError(f"{store.path}: manifest.json lists no image")
    entry = entries[0]
    config_name = posixpath.normpath(entry["Config"])
    with store.open(config_name) as handle:
        raw = handle.read(MAX_JSON_BYTES)
    config = _load_json(io.BytesIO(raw), f"{store.path}:{config_name}")
    layers = []
    for name in entry.get("Layers") or []:
        name = posixpath.normpath(name)
        if not store.exists(name):
            raise ImageError(f"{store.path}: layer {name} is missing from the archive")
        digest = "sha256:" + name.split("/")[-1] if name.startswith("blobs/") else name
        layers.append(Layer(digest, store.size(name), "", lambda name=name: store.open(name)))
    return Image(store.path, "docker-archive", config, "sha256:" + hashlib.sha256(raw).hexdigest(), "",
                 list(entry.get("RepoTags") or []), layers, store.close)


def fetch_with_skopeo(reference: str, workdir: str) -> str:
    """Copy a registry image into an OCI layout under workdir with skopeo; returns the layout path."""
    skopeo = shutil.which("skopeo")
    if not skopeo:
        raise ImageError(f"{reference}: inspecting a registry image needs skopeo on the host; "
                         f"or pass an OCI layout / image tarball")
    target = os.path.join(workdir, "layout")
    run = subprocess.run([skopeo, "copy", "--quiet", f"docker://{reference}", f"oci:{target}:image"],
                         capture_output=True, text=True, timeout=1800, check=False)
    if run.returncode != 0:
        raise ImageError(f"skopeo copy docker://{reference} failed: {run.stderr.strip()[-500:]}")
    return target


def temporary_dir() -> str:
    return tempfile.mkdtemp(prefix="preflight-image-")
