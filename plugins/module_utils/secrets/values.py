# Copyright: (c) 2026, deploysafe.preflight contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a candidate secret value looks like: entropy, and the filters that tell a literal from a
placeholder, a reference, a path, a version range or an id.

The filters see the value, the key it was assigned to (may be empty) and the line that holds it.
They return True when the value is NOT a secret, so a rule can drop it.
"""

from __future__ import annotations

import base64
import binascii
import math
import re
from collections import Counter
from typing import Dict, Optional

ENTROPY_THRESHOLDS = {"hex": 3.0, "base64": 4.2, "other": 3.5}
# detect-secrets' Base64HighEntropyString / HexHighEntropyString limits, used where no key name helps.
BARE_LIMITS = {"hex": 3.0, "base64": 4.5}
_HEX = frozenset("0123456789abcdefABCDEF")
_B64 = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=_-")

# Published documentation credentials (AWS docs): public, never valid. Only these exact values are
# skipped; a value with FAKE/TEST/EXAMPLE inside that has a provider's exact format is still reported.
DOCUMENTED_EXAMPLES = frozenset((
    "AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    "AKIAI44QH8DHBEXAMPLE", "je7MtGbClwBF/2Zp9Utk/h3yCo8nvbEXAMPLEKEY",
))

# Digests of empty input: constants in every HTTP signing library.
_EMPTY_DIGESTS = frozenset(("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
                            "da39a3ee5e6b4b0d3255bfef95601890afd80709", "d41d8cd98f00b204e9800998ecf8427e"))
# Values that stand for "put the secret here" or are a type/word, not a secret.
_PLACEHOLDER_VALUES = frozenset("""
password passwd pass pwd secret secrets token key apikey api_key credentials credential passphrase
changeme change_me changeit placeholder null none nil undefined true false yes no on off empty
redacted hidden masked sensitive required optional default value values str string bytes int integer
bool boolean dict list object any text unset notset not_set secret_value test testing tbd todo fixme
dummy fake sample example foo bar baz foobar xxx bearer basic token_type prompt ask input
""".split())
_PLACEHOLDER_PARTS = ("example", "changeme", "change_me", "change-me", "placeholder", "your_", "your-", "yourpass",
                      "****", "....", "redacted", "<", ">", "os.environ", "getenv", "process.env", "env(", "lookup(",
                      "vault(", "secret(")
# Template and reference syntaxes: ${VAR} $VAR $(cmd) {{ x }} {% %} <% %> %env(X)% %X% %(x)s {x} !Ref
_TEMPLATE = re.compile(r"""\$\{|\$\(|\{\{|\}\}|\{%|%\}|<%|%>|%\(\w+\)s|\A\$\$?\w|\A%[\w.()-]+%\Z|\A%s\Z
                           |\A\{[^{}]*\}\Z|\{[\w.\[\]:!]*\}|%[sdrif]|\[-?\d*\]|xxxx|XXXX|\A!(?!!binary)
                           |\A\$ANSIBLE_VAULT|\A@\w|\A\[\[|\A\#\{""", re.X)
_NOT_A_SECRET_TOKEN = re.compile(r"(?:next|continuation|page|pagination|marker|cursor|start|purchase|clientrequest"
                                 r"|client_request|clienttoken|idempotency|change|verification|csrf|xsrf|sync|resume"
                                 r"|continue|input|output|result)[_-]?(?:token|key)?\d*\Z", re.I)
_HASHED_KEY = re.compile(r"hash|digest|checksum|fingerprint|_sha\d*|md5", re.I)
_TOKENISH_KEY = re.compile(r"token|key|credentials?\d*\Z", re.I)
_PASSWORDISH_KEY = re.compile(r"pass|pwd|secret|contrase", re.I)
_ENV_NAME = re.compile(r"[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+\Z")
_DOTTED = re.compile(r"[A-Za-z_]+(?:\.[A-Za-z_]+)+(?:\(\))?\Z")
_CALL = re.compile(r"[\w.]+\(.*\)\Z")
_SENSITIVE_WORD = re.compile(r"pass|pwd|secret|token|key|credential|auth", re.I)
_LETTERS = re.compile(r"[A-Za-z_]+\Z")
_CAMEL = re.compile(r"\A(?:[A-Z][a-z]{2,}|[A-Z]\d+)(?:[A-Z][a-z]+|\d+)+\Z")  # V1Secret, NextPageMarker
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_COLOUR = re.compile(r"\A#(?:[0-9a-fA-F]{3,8}|[A-Za-z_]+)\Z")  # colours and #markers
_PATH = re.compile(r"""\A(?:/|\./|\.\./|~/|\.\\|\\\\|[A-Za-z]:[\\/]|file:|\w+:///)|\\[A-Za-z]""")
_URL = re.compile(r"\A[a-z][a-z0-9+.-]*://[^@\s]*\Z", re.I)
_SEMVER = re.compile(r"""\A(?:[\^~<>=v*]|\|\||\s)*\d+(?:\.(?:\d+|x|X|\*)){1,3}(?:[-+][\w.]+)?
                         (?:(?:\s*(?:\|\||-|,)?\s*)(?:[\^~<>=v]*)\d+(?:\.(?:\d+|x|X|\*)){0,3}(?:[-+][\w.]+)?)*
                         \Z""", re.X)
_UUID = re.compile(r"\A\{?[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\}?\Z", re.I)
_UUID_IN = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.I)
_SEPARATORS = re.compile(r"[-_/.]")
_EMAIL = re.compile(r"\A[\w.+-]+@[\w-]+(?:\.[\w-]+)+\Z")
_DIGEST_PREFIX = re.compile(r"\A(?:sha1|sha224|sha256|sha384|sha512|md5|blake2b?)[:=-]", re.I)
# Words on a line that say a long hex/base64 string is a digest, a revision or an id, not a credential.
_DIGEST_CONTEXT = re.compile(rb"(?i:sha\d|md5|hash|digest|checksum|csum|integrity|commit|revision|etag"
                             rb"|fingerprint|uuid|guid|nonce|salt|vector|expected|signature|public|recipient|cert"
                             rb"|\.lock|marker|cursor|pagination|nexttoken|next_token|continuation)"
                             rb"|\b(?:id|ID|Id|rev|sri|crc|sum)\b|[a-z](?:Id|ID)\b|_(?:id|ID)\b")
_ALPHABETS = ("abcdefghijklmnopqrstuvwxyz", "ABCDEFGHIJKLMNOPQRSTUVWXYZ", "0123456789", "0123456789abcdef")


def shannon_entropy(value: str) -> float:
    if not value:
        return 0.0
    counts = Counter(value)
    n = len(value)
    return -sum(c / n * math.log2(c / n) for c in counts.values())


def charset_of(value: str) -> str:
    chars = set(value)
    if chars <= _HEX:
        return "hex"
    if chars <= _B64:
        return "base64"
    return "other"


def entropy_ok(value: str, thresholds: Optional[Dict[str, float]] = None) -> bool:
    """Per-charset threshold, lowered for short strings whose maximum entropy is log2(len)."""
    limit = min((thresholds or ENTROPY_THRESHOLDS)[charset_of(value)], 0.85 * math.log2(max(len(value), 2)))
    return shannon_entropy(value) >= limit


def bare_entropy_ok(value: str) -> bool:
    """detect-secrets' limits for a string with no secret-like name: base64 4.5, hex 3.0 (a hex string made of
    digits only is penalised as detect-secrets does, since numbers are rarely secrets)."""
    kind = charset_of(value)
    if kind == "other":
        return False
    entropy = shannon_entropy(value)
    if kind == "hex":
        if value.isdigit():
            entropy -= 1.2 / math.log2(len(value))
        return entropy > BARE_LIMITS["hex"]
    return entropy > BARE_LIMITS["base64"]


def _norm(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", text.lower())


def _ascending_run(value: str) -> int:
    """Length of the longest run of consecutive characters (abcdef, 123456)."""
    best = run = 1
    for a, b in zip(value, value[1:]):
        run = run + 1 if ord(b) == ord(a) + 1 else 1
        best = max(best, run)
    return best if value else 0


def is_sequential(value: str) -> bool:
    """An alphabet or a run of one (abcdef..., 0123456789..., ABCDEF...): test data, not a secret."""
    low = value.lower()
    return any(low[:12] in alpha.lower() * 2 for alpha in _ALPHABETS if len(low) >= 8) or len(set(value)) <= 3


def not_a_literal(value: str, key: str = "", line: bytes = b"") -> bool:
    """True when a value assigned to a secret-like name is not a hard-coded secret: empty, a template or
    variable reference, a placeholder word, the key's own name, an environment-variable name, a dotted or
    called reference, a path, a URL without credentials, a version range, a UUID, an e-mail address,
    a digest, or too short/too uniform to be a credential."""
    value = value.strip().strip("'\"` ")
    if len(value) < 4 or len(set(value)) <= 2:
        return True
    low = value.lower()
    if low in _PLACEHOLDER_VALUES or any(part in low for part in _PLACEHOLDER_PARTS) or _TEMPLATE.search(value):
        return True
    if key and (_norm(value) == _norm(key) or _norm(key).endswith(_norm(value))):
        return True  # TRAVEL_API_KEY: TRAVEL_API_KEY, password: password
    if key and _NOT_A_SECRET_TOKEN.search(key):
        return True  # NextToken, ClientRequestToken, csrf_token: pagination, idempotency and form tokens
    if key and _HASHED_KEY.search(key):
        return True  # hashed_secret, password_digest: a one-way hash of the secret, not the secret
    if _ENV_NAME.match(value) or _DOTTED.match(value) or _CALL.match(value):
        return True
    if _IDENT.match(value) and _SENSITIVE_WORD.search(value) and (
            _CAMEL.match(value) or not any(c.isdigit() for c in value)):
        # V1Secret, NextToken, webhookApiSecret, user_password: a name (password1, secret2 stay: weak literals)
        return True
    if _TOKENISH_KEY.search(key) and not _PASSWORDISH_KEY.search(key) and (
            _LETTERS.match(value) and (len(value) < 16 or _CAMEL.match(value)) or _ascending_run(value) >= 6):
        # "input_token": "Marker", "ExclusiveStartTableName", "abcdefg123": a token or key is never a plain word,
        # an identifier or an alphabet run (a password can be a word, so `password: hardcoded` stays)
        return True
    if value.isdigit() and len(value) < 6:
        return True
    if any(p.search(value) for p in (_PATH, _URL, _COLOUR, _SEMVER, _UUID, _EMAIL, _DIGEST_PREFIX)):
        return True  # a path, a URL without credentials, a colour, a version range, a UUID, an address, a digest
    return value.startswith("-") or value.endswith((",", "[", "]", "(", "{", "-", "_", ":"))


def digest_context(line: bytes) -> bool:
    """The line names the string a digest, revision, id, test vector or public material."""
    return bool(_DIGEST_CONTEXT.search(line))


def public_der(value: str) -> bool:
    """Base64 DER whose outer SEQUENCE starts with a SEQUENCE: a public key (SubjectPublicKeyInfo) or a
    certificate. Private keys (PKCS#1, PKCS#8) start with the INTEGER version instead."""
    if not value.startswith("M"):  # 0x30, a DER SEQUENCE
        return False
    try:
        der = base64.b64decode(value[:16] + "=" * (-len(value[:16]) % 4))
    except (binascii.Error, ValueError):
        return False
    if len(der) < 6 or der[0] != 0x30:
        return False
    offset = 2 + (der[1] & 0x7F if der[1] & 0x80 else 0)
    return len(der) > offset and der[offset] == 0x30


def not_a_bare_secret(value: str, key: str = "", line: bytes = b"") -> bool:
    """For a string with no secret-like name: True unless it passes detect-secrets' entropy limits, mixes
    letters and digits, is not an alphabet run, and its line does not call it a digest, revision or id."""
    value = value.strip()
    if value in DOCUMENTED_EXAMPLES or value.lower() in _EMPTY_DIGESTS or is_sequential(value) or \
            not bare_entropy_ok(value):
        return True
    if not (any(c.isdigit() for c in value) and any(c.isalpha() for c in value)):
        return True
    if charset_of(value) == "hex" and len(value) < 32:
        return True  # short hex: colours, ids, counters; detect-secrets' main noise
    if len(value) > 512 or _PATH.search(value) or value.startswith("age1") or public_der(value):
        return True  # embedded data (images, fonts, certificates), a path, an age recipient (public key)
    words = [p for p in _SEPARATORS.split(value) if p.isalpha() and p.islower()]
    if _UUID_IN.search(value) or len([w for w in words if len(w) >= 4]) >= 2 or any(len(w) >= 10 for w in words):
        return True  # an id with a UUID inside, or lowercase words joined by - _ / . (a name, not random data)
    return digest_context(line.replace(value.encode("utf-8", "replace"), b""))  # context around it, not in it


def not_a_keyed_secret(value: str, key: str = "", line: bytes = b"") -> bool:
    """A value next to a secret-like name, reported on entropy: dropped when it is a reference or a digest."""
    return value.strip() in DOCUMENTED_EXAMPLES or not_a_literal(value, key, line) or is_sequential(value)


def documented_example(value: str, key: str = "", line: bytes = b"") -> bool:
    """Provider-format rules drop only the published documentation values."""
    return value.strip() in DOCUMENTED_EXAMPLES


def not_mixed_case_key(value: str, key: str = "", line: bytes = b"") -> bool:
    """A provider secret of exact length next to its name: dropped only when it is a published example, an
    alphabet run, or lacks the upper case, lower case and digits every generated key has. (No entropy limit:
    a key with FAKE or EXAMPLE spliced in keeps its format and is still reported.)"""
    value = value.strip()
    return value in DOCUMENTED_EXAMPLES or is_sequential(value) or not (
        any(c.isupper() for c in value) and any(c.islower() for c in value) and any(c.isdigit() for c in value))


def basic_auth_placeholder(value: str, key: str = "", line: bytes = b"") -> bool:
    """Password part of user:pass@host: a template, a variable or a placeholder word, not a letters-only
    literal (admin:hardcoded@ is a credential)."""
    if _TEMPLATE.search(value.strip()):
        return True
    value = value.strip().rstrip(")]},;.")
    low = value.lower()
    if len(value) < 3 or low in _PLACEHOLDER_VALUES or any(part in low for part in _PLACEHOLDER_PARTS):
        return True
    return bool(_TEMPLATE.search(value)) or value.startswith(("$", "%", "*")) or len(set(value)) <= 2


def docker_auth_placeholder(value: str, key: str = "", line: bytes = b"") -> bool:
    """A registry `auth` value is base64 of user:password; anything else is not a credential."""
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
    except (binascii.Error, ValueError):
        return True
    user, sep, password = decoded.strip().partition(":")
    return not (sep and user and password and password.isprintable())


def key_body_too_short(value: str, key: str = "", line: bytes = b"") -> bool:
    """A BEGIN ... PRIVATE KEY block whose body holds less than 32 base64 characters (`...`, a mention in
    prose) is documentation, not a key. Escaped newlines and string quoting are not counted."""
    body = re.sub(r"\\[nrt]|[^A-Za-z0-9+/=]", "", value)
    return len(body) < 32
