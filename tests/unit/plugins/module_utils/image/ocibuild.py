"""Assemble OCI layouts, OCI archives and docker-archives with tarfile, for the image tests."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import tarfile
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

# (name, content or None for a directory, mode[, type: "file"|"dir"|"symlink", linkname])
Member = Tuple


def layer_bytes(members: Sequence[Member], compress: bool = True) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for m in members:
            name, content, mode = m[0], m[1], m[2]
            info = tarfile.TarInfo(name)
            info.mode = mode
            if len(m) > 3 and m[3] == "symlink":
                info.type, info.linkname = tarfile.SYMTYPE, m[4]
                tar.addfile(info)
            elif content is None:
                info.type = tarfile.DIRTYPE
                tar.addfile(info)
            else:
                data = content if isinstance(content, bytes) else content.encode()
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
    raw = buf.getvalue()
    return gzip.compress(raw, mtime=0) if compress else raw


def default_config(**overrides) -> Dict:
    config = {
        "User": "10001",
        "Env": ["PATH=/usr/bin:/bin"],
        "Labels": {"org.opencontainers.image.source": "https://git.example/app",
                   "org.opencontainers.image.revision": "0123abc", "org.opencontainers.image.version": "1.4.2"},
        "Healthcheck": {"Test": ["CMD", "/app/health"]},
    }
    config.update(overrides)
    return config


def _digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def build(tmp: Path, layers: List[bytes], config: Optional[Dict] = None, tag: str = "registry.example/app:1.4.2",
          fmt: str = "oci-archive", history: Optional[List[Dict]] = None) -> str:
    """Write an image; fmt is oci-layout (directory), oci-archive or docker-archive (tarballs)."""
    cfg = {"architecture": "amd64", "os": "linux", "config": config if config is not None else default_config(),
           "rootfs": {"type": "layers", "diff_ids": [_digest(b) for b in layers]},
           "history": history or [{"created_by": "COPY app /app"}]}
    cfg_bytes = json.dumps(cfg).encode()
    files: Dict[str, bytes] = {}
    if fmt == "docker-archive":
        names = []
        for i, data in enumerate(layers):
            names.append(f"layer{i}/layer.tar")
            files[names[-1]] = data
        files["config.json"] = cfg_bytes
        files["manifest.json"] = json.dumps([{"Config": "config.json", "RepoTags": [tag] if tag else [],
                                              "Layers": names}]).encode()
    else:
        manifest = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                    "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": _digest(cfg_bytes),
                               "size": len(cfg_bytes)},
                    "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": _digest(b),
                                "size": len(b)} for b in layers]}
        man_bytes = json.dumps(manifest).encode()
        for blob in [cfg_bytes, man_bytes] + layers:
            files["blobs/sha256/" + _digest(blob).split(":")[1]] = blob
        desc = {"mediaType": manifest["mediaType"], "digest": _digest(man_bytes), "size": len(man_bytes),
                "platform": {"os": "linux", "architecture": "amd64"}}
        if tag:
            desc["annotations"] = {"org.opencontainers.image.ref.name": tag}
        files["index.json"] = json.dumps({"schemaVersion": 2, "manifests": [desc]}).encode()
        files["oci-layout"] = b'{"imageLayoutVersion": "1.0.0"}'
    if fmt == "oci-layout":
        root = tmp / "layout"
        for name, data in files.items():
            (root / name).parent.mkdir(parents=True, exist_ok=True)
            (root / name).write_bytes(data)
        return str(root)
    path = tmp / f"image-{fmt}.tar"
    with tarfile.open(path, "w") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return str(path)


CLEAN_LAYER = [("app", None, 0o755), ("app/server", "#!/bin/sh\necho ok\n", 0o755), ("tmp", None, 0o1777),
               ("etc", None, 0o755), ("etc/app.conf", "listen = 127.0.0.1:8080\n", 0o644)]
