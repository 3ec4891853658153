# Copyright: (c) 2026, deploysafe.preflight contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Keys that sign a sign-off record and keys that verify it.

Three kinds of signing key:
- an SSH ed25519 private key (OpenSSH or PKCS#8 PEM): signs with Ed25519; verified with its public key
  (`ssh-ed25519 AAAA...`), so whoever checks the sign-off cannot forge one.
- an age identity (`AGE-SECRET-KEY-1...`): age keys are X25519 keys, which agree on secrets but cannot
  sign. An Ed25519 signing key is derived from the identity's 32 secret bytes with HKDF-SHA256 under a
  label of its own, so the approver keeps one secret, the X25519 key itself is never used for anything
  but age, and verification still needs only a public key (the derived `ssh-ed25519` key this module
  prints). An HMAC keyed from the identity was rejected: every verifier would need the identity, which
  also decrypts the backups, and could then forge sign-offs.
- an HMAC secret (for example an AWX credential): HMAC-SHA256. Simple, but whoever can verify can sign.

Signatures cover the canonical JSON of the record (sorted keys, no spaces, ASCII) behind a fixed
prefix, so a signature made for anything else never verifies here. Key ids name keys without
revealing them: `SHA256:...` as `ssh-keygen -l` prints it, `hmac:` + 16 hex of an HMAC of a label.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from dataclasses import dataclass
from typing import Any, Callable, List, Optional, Sequence, Tuple

from ansible_collections.deploysafe.preflight.plugins.module_utils.checklist.items import ChecklistError

try:
    from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ed25519
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF
except ImportError:  # only SSH and age keys need it; HMAC works without
    ed25519 = None

ED25519 = "ssh-ed25519"
HMAC_SHA256 = "hmac-sha256"
_PREFIX = b"deploysafe.preflight signoff v1\n"
_AGE_LABEL = b"deploysafe.preflight signoff ed25519 from age identity v1"
_HMAC_ID_LABEL = b"deploysafe.preflight signoff key id"
MIN_HMAC_SECRET = 16
_BECH32 = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"  # pragma: allowlist secret (bech32 alphabet)


def canonical(payload: Any) -> bytes:
    """The exact bytes a signature covers."""
    return _PREFIX + json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()


@dataclass(frozen=True)
class Signer:
    """A loaded signing key: alg, key_id, source (ssh, age, hmac), public_key ('' for HMAC)."""
    alg: str
    key_id: str
    source: str
    public_key: str
    _sign: Callable[[bytes], bytes]

    def sign(self, payload: Any) -> dict:
        """The signature block stored in the record."""
        value = base64.b64encode(self._sign(canonical(payload))).decode()
        block = {"alg": self.alg, "key_id": self.key_id, "key_source": self.source, "value": value}
        if self.public_key:
            block["public_key"] = self.public_key  # informational: verification uses configured keys only
        return block

    def verifier(self) -> "Verifier":
        return _SIGNER_VERIFIERS[self.alg](self)


@dataclass(frozen=True)
class Verifier:
    """A configured verification key: alg, key_id and a check of (data, signature bytes)."""
    alg: str
    key_id: str
    _verify: Callable[[bytes, bytes], bool]

    def verify(self, payload: Any, value: str) -> bool:
        try:
            raw = base64.b64decode(value.encode(), validate=True)
        except (ValueError, AttributeError):
            return False
        return self._verify(canonical(payload), raw)


def _require_cryptography(what: str) -> None:
    if ed25519 is None:
        raise ChecklistError(f"{what} needs the Python library cryptography (pip install cryptography); "
                             "an HMAC secret works without it")


def _ssh_key_id(public: Any) -> Tuple[str, str]:
    """(`ssh-ed25519 AAAA...`, `SHA256:...`) of an Ed25519 public key."""
    line = public.public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH).decode()
    blob = base64.b64decode(line.split()[1])
    return line, "SHA256:" + base64.b64encode(hashlib.sha256(blob).digest()).decode().rstrip("=")


def _ed25519_signer(private: Any, source: str) -> Signer:
    line, key_id = _ssh_key_id(private.public_key())
    return Signer(ED25519, key_id, source, f"{line} deploysafe-signoff", private.sign)


def _bech32_decode(text: str, hrp: str) -> bytes:
    """The payload bytes of a bech32 string (age's encoding of keys); raises ValueError when malformed."""
    text = text.lower()
    if not text.startswith(hrp + "1"):
        raise ValueError(f"does not start with {hrp}1")
    data = [_BECH32.find(c) for c in text[len(hrp) + 1:]]
    if len(data) < 7 or -1 in data:
        raise ValueError("not bech32")
    gen = (0x3B6A57B2, 0x26508E6D, 0x1EA119FA, 0x3D4233DD, 0x2A1462B3)
    chk = 1
    for value in [ord(c) >> 5 for c in hrp] + [0] + [ord(c) & 31 for c in hrp] + data:
        top = chk >> 25
        chk = (chk & 0x1FFFFFF) << 5 ^ value
        for i in range(5):
            chk ^= gen[i] if (top >> i) & 1 else 0
    if chk != 1:
        raise ValueError("bad checksum")
    acc, bits, out = 0, 0, bytearray()
    for value in data[:-6]:
        acc, bits = (acc << 5) | value, bits + 5
        if bits >= 8:
            bits -= 8
            out.append((acc >> bits) & 0xFF)
    if bits >= 5 or acc & ((1 << bits) - 1):
        raise ValueError("bad padding")
    return bytes(out)


def age_identity_secret(text: str) -> bytes:
    """The 32 secret bytes of the one AGE-SECRET-KEY-1 line in text (comment lines are ignored)."""
    lines = [line.strip() for line in text.splitlines() if line.strip() and not line.strip().startswith("#")]
    keys = [line for line in lines if line.upper().startswith("AGE-SECRET-KEY-1")]
    if len(keys) != 1 or len(lines) != 1:
        raise ChecklistError(f"an age signing identity must hold exactly one AGE-SECRET-KEY-1 line, found {len(keys)} "
                             f"among {len(lines)} non-comment line(s)")
    try:
        secret = _bech32_decode(keys[0], "age-secret-key-")
    except ValueError as exc:
        raise ChecklistError(f"the age identity is malformed ({exc})") from None
    if len(secret) != 32:
        raise ChecklistError(f"the age identity holds {len(secret)} bytes, not 32")
    return secret


def _age_signer(text: str) -> Signer:
    _require_cryptography("signing with an age identity")
    seed = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_AGE_LABEL).derive(age_identity_secret(text))
    return _ed25519_signer(ed25519.Ed25519PrivateKey.from_private_bytes(seed), "age")


def _ssh_signer(text: str, passphrase: Optional[str]) -> Signer:
    _require_cryptography("signing with an SSH key")
    data = text.encode()
    password = passphrase.encode() if passphrase else None
    try:
        if b"OPENSSH PRIVATE KEY" in data:
            private = serialization.load_ssh_private_key(data, password)
        else:
            private = serialization.load_pem_private_key(data, password)
    except UnsupportedAlgorithm:
        raise ChecklistError("the SSH signing key is passphrase-protected, which needs the Python library bcrypt "
                             "(pip install bcrypt); or give the key unencrypted through a vault or an AWX credential") from None
    except (ValueError, TypeError) as exc:
        # the library's message names the problem (bad passphrase, not a key); it never contains key material
        raise ChecklistError(f"cannot load the SSH signing key: {exc}") from None
    if not isinstance(private, ed25519.Ed25519PrivateKey):
        raise ChecklistError(f"the SSH signing key is {type(private).__name__.replace('PrivateKey', '')}, "
                             "not ed25519 (create one with ssh-keygen -t ed25519)")
    return _ed25519_signer(private, "ssh")


def hmac_key_id(secret: bytes) -> str:
    return "hmac:" + hmac.new(secret, _HMAC_ID_LABEL, hashlib.sha256).hexdigest()[:16]


def _hmac_secret(text: str) -> bytes:
    secret = text.encode()
    if len(secret) < MIN_HMAC_SECRET:
        raise ChecklistError(f"the HMAC secret is shorter than {MIN_HMAC_SECRET} bytes; use a long random value")
    return secret


def _hmac_signer(text: str) -> Signer:
    secret = _hmac_secret(text)
    return Signer(HMAC_SHA256, hmac_key_id(secret), "hmac", "",
                  lambda data: hmac.new(secret, data, hashlib.sha256).digest())


def load_signer(key: str = "", key_file: str = "", passphrase: str = "", hmac_secret: str = "") -> Optional[Signer]:
    """The signing key given (key text, key file or HMAC secret), or None when none is. More than one is an error."""
    given = [name for name, value in (("signing_key", key), ("signing_key_file", key_file), ("hmac_secret", hmac_secret))
             if value]
    if len(given) > 1:
        raise ChecklistError(f"give one signing key, not {' and '.join(given)}")
    if hmac_secret:
        return _hmac_signer(hmac_secret)
    if key_file:
        try:
            with open(key_file, encoding="utf-8") as handle:
                key = handle.read()
        except (OSError, UnicodeDecodeError) as exc:
            raise ChecklistError(f"cannot read the signing key file {key_file}: {getattr(exc, 'strerror', None) or exc}") from None
    if not key:
        return None
    if "AGE-SECRET-KEY-1" in key.upper():
        return _age_signer(key)
    if "PRIVATE KEY-----" in key:
        return _ssh_signer(key, passphrase)
    raise ChecklistError("the signing key is neither an SSH ed25519 private key (-----BEGIN OPENSSH PRIVATE KEY-----) "  # pragma: allowlist secret
                         "nor an age identity (AGE-SECRET-KEY-1...)")


def _ed25519_verifier(public: Any) -> Verifier:
    _line, key_id = _ssh_key_id(public)

    def check(data: bytes, raw: bytes) -> bool:
        try:
            public.verify(raw, data)
            return True
        except (InvalidSignature, ValueError):
            return False
    return Verifier(ED25519, key_id, check)


def _hmac_verifier(secret: bytes) -> Verifier:
    return Verifier(HMAC_SHA256, hmac_key_id(secret),
                    lambda data, raw: hmac.compare_digest(hmac.new(secret, data, hashlib.sha256).digest(), raw))


def load_verifiers(public_keys: Sequence[str] = (), hmac_secret: str = "") -> List[Verifier]:
    """Verification keys: `ssh-ed25519 AAAA... [comment]` lines (SSH keys and keys derived from age
    identities), and/or the HMAC secret. An empty list means no key is configured."""
    verifiers: List[Verifier] = []
    for position, line in enumerate(k for k in public_keys if k and k.strip()):
        fields = line.strip().split()
        if fields[0] != ED25519 or len(fields) < 2:
            raise ChecklistError(f"sign-off public key {position + 1} must be an OpenSSH line 'ssh-ed25519 AAAA...', "
                                 f"got one starting {line.strip()[:16]!r}")
        _require_cryptography("verifying an ssh-ed25519 signature")
        try:
            public = serialization.load_ssh_public_key(" ".join(fields[:2]).encode())
        except (ValueError, UnsupportedAlgorithm) as exc:
            raise ChecklistError(f"sign-off public key {position + 1} is malformed: {exc}") from None
        verifiers.append(_ed25519_verifier(public))
    if hmac_secret:
        verifiers.append(_hmac_verifier(_hmac_secret(hmac_secret)))
    return verifiers


def signature_problem(payload: Any, block: Any, verifiers: Sequence[Verifier]) -> Tuple[Optional[str], str]:
    """(problem or None, state) for the signature block of a record against the configured keys.

    state is one of: verified, unsigned, not verified (no key configured), invalid."""
    if not isinstance(block, dict) or not block.get("value"):
        if verifiers:
            return ("the sign-off is not signed, but a verification key is configured "
                    f"({', '.join(v.key_id for v in verifiers)})"), "unsigned"
        return None, "unsigned"
    if not verifiers:
        return None, "not verified (no key configured)"
    key_id, alg = block.get("key_id"), block.get("alg")
    matching = [v for v in verifiers if v.key_id == key_id and v.alg == alg]
    if not matching:
        return (f"the sign-off is signed with {alg} key {key_id}, which is not a configured verification key "
                f"({', '.join(v.key_id for v in verifiers)})"), "invalid"
    if not any(v.verify(payload, str(block["value"])) for v in matching):
        return (f"the signature by key {key_id} does not verify: the sign-off record was changed after it was signed"
                ), "invalid"
    return None, "verified"


_SIGNER_VERIFIERS = {
    ED25519: lambda signer: load_verifiers([signer.public_key])[0],
    HMAC_SHA256: lambda signer: Verifier(HMAC_SHA256, signer.key_id,
                                         lambda data, raw: hmac.compare_digest(signer._sign(data), raw)),
}
