# Copyright: (c) 2026, deploysafe.preflight contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""age recipients and identities (pyrage): parsing, fingerprints, identity files."""

from __future__ import annotations

import hashlib
from typing import Any, List, Sequence

from .errors import ArchiveError

try:
    import pyrage
except ImportError:  # the module reports missing_required_lib; plain callers get ArchiveError
    pyrage = None


def require_pyrage() -> Any:
    if pyrage is None:
        raise ArchiveError("age encryption needs the Python library pyrage (pip install pyrage)")
    return pyrage


def fingerprint(public_key: str) -> str:
    """Stable short name of a recipient: sha256 of its public key text, 16 hex digits."""
    return "sha256:" + hashlib.sha256(public_key.strip().encode()).hexdigest()[:16]


def parse_recipients(keys: Sequence[str]) -> List[Any]:
    """age1... (X25519) or ssh-ed25519/ssh-rsa public keys -> pyrage recipient objects."""
    lib = require_pyrage()
    parsed = []
    for key in keys:
        text = key.strip()
        try:
            if text.startswith("age1"):
                parsed.append(lib.x25519.Recipient.from_str(text))
            elif text.startswith("ssh-"):
                parsed.append(lib.ssh.Recipient.from_str(text))
            else:
                raise ValueError("expected an age1... or ssh-... public key")
        except (ValueError, lib.RecipientError) as exc:
            raise ArchiveError(f"invalid age recipient {text[:24]!r}: {exc}") from None
    return parsed


def load_identities(path: str) -> List[Any]:
    """Read an age identity file (AGE-SECRET-KEY-1... lines, # comments) or an SSH private key."""
    lib = require_pyrage()
    try:
        with open(path, "rb") as handle:
            data = handle.read()
    except OSError as exc:
        raise ArchiveError(f"cannot read identity file {path}: {exc.strerror or exc}") from None
    text = data.decode("utf-8", "replace")
    identities = []
    if "PRIVATE KEY" in text and "-----BEGIN" in text:
        try:
            identities.append(lib.ssh.Identity.from_buffer(data))
        except Exception as exc:  # pyrage raises its own IdentityError subclasses
            raise ArchiveError(f"identity file {path}: not a usable SSH private key: {exc}") from None
    else:
        for number, line in enumerate(text.splitlines(), 1):
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            try:
                identities.append(lib.x25519.Identity.from_str(line))
            except Exception:
                raise ArchiveError(f"identity file {path} line {number}: not an AGE-SECRET-KEY-1... identity") from None
    if not identities:
        raise ArchiveError(f"identity file {path} holds no identity")
    return identities


def identity_fingerprints(identities: Sequence[Any]) -> List[str]:
    """Fingerprints of the X25519 identities' public keys (SSH identities cannot be mapped)."""
    out = []
    for ident in identities:
        to_public = getattr(ident, "to_public", None)
        if to_public is not None:
            out.append(fingerprint(str(to_public())))
    return out
