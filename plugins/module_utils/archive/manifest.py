# Copyright: (c) 2026, deploysafe.preflight contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The manifest JSON stored beside each artifact, with a digest over its own content.

The digest (sha256 of the canonical JSON without the `digest` key) catches accidental edits and
truncation; it is not a signature (whoever can write the file can recompute it).
"""

from __future__ import annotations

import hashlib
import json
from typing import Any, Dict

from ..verdict import atomic_write_bytes
from .errors import ArchiveError

MANIFEST_FORMAT = "deploysafe.preflight/archive-manifest"
MANIFEST_VERSION = 1
MANIFEST_SUFFIX = ".manifest.json"
TOOL_NAME = "deploysafe.preflight"
TOOL_VERSION = "0.1.0"

REQUIRED = ("format", "format_version", "tool", "artifact", "plaintext", "compression", "encryption",
            "source_identity", "source", "started_at", "finished_at", "digest")


def manifest_path(artifact_path: str) -> str:
    """Where the manifest of an artifact lives: `<artifact>.manifest.json`."""
    return artifact_path + MANIFEST_SUFFIX


def _canonical(doc: Dict[str, Any]) -> bytes:
    body = {k: v for k, v in doc.items() if k != "digest"}
    return json.dumps(body, sort_keys=True, separators=(",", ":"), default=str).encode()


def seal(doc: Dict[str, Any]) -> Dict[str, Any]:
    """Return doc with `digest` set over the rest of its content."""
    sealed = dict(doc)
    sealed["digest"] = "sha256:" + hashlib.sha256(_canonical(doc)).hexdigest()
    return sealed


def write_manifest(path: str, doc: Dict[str, Any]) -> Dict[str, Any]:
    """Seal and publish atomically (mode 0600); returns the sealed document."""
    sealed = seal(doc)
    try:
        atomic_write_bytes(path, (json.dumps(sealed, indent=2, sort_keys=True, default=str) + "\n").encode())
    except OSError as exc:
        raise ArchiveError(f"cannot write manifest {path}: {exc.strerror or exc}") from None
    return sealed


def load_manifest(path: str) -> Dict[str, Any]:
    """Read and check a manifest: present, JSON, known format, all keys, digest intact."""
    try:
        with open(path, "rb") as handle:
            raw = handle.read()
    except FileNotFoundError:
        raise ArchiveError(f"manifest missing: {path} does not exist") from None
    except OSError as exc:
        raise ArchiveError(f"cannot read manifest {path}: {exc.strerror or exc}") from None
    try:
        doc = json.loads(raw)
    except ValueError as exc:
        raise ArchiveError(f"manifest {path} is not valid JSON: {exc}") from None
    if not isinstance(doc, dict) or doc.get("format") != MANIFEST_FORMAT:
        raise ArchiveError(f"manifest {path} is not a {MANIFEST_FORMAT} document")
    if doc.get("format_version") != MANIFEST_VERSION:
        raise ArchiveError(f"manifest {path} has format_version {doc.get('format_version')!r}; "
                           f"this tool reads version {MANIFEST_VERSION}")
    missing = [k for k in REQUIRED if k not in doc]
    if missing:
        raise ArchiveError(f"manifest {path} lacks {', '.join(missing)}")
    if seal(doc)["digest"] != doc["digest"]:
        raise ArchiveError(f"manifest {path} was modified after it was written (its digest does not match)")
    return doc
