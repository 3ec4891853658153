"""Secret detector: every rule fires on a planted value and stays quiet on a look-alike.

Planted values are assembled at run time so this file itself holds no secret-shaped literal.
"""

from __future__ import annotations

import hashlib
import os
import string

import pytest

from ansible_collections.deploysafe.preflight.plugins.module_utils.secrets import (
    Allowlist, SecretScanner, entropy_ok, matches_to_findings, redact,
)



def _token(n: int, seed: str) -> str:
    """A deterministic random-looking alphanumeric string, derived at run time (no secret-shaped literal)."""
    alphabet = string.ascii_letters + string.digits
    out = "".join(alphabet[b % len(alphabet)] for b in hashlib.sha512(seed.encode()).digest())
    return out[:n - 2] + "Q7"


RAND40 = _token(40, "aws-secret")
RAND36 = _token(36, "github")


def j(*parts):
    return "".join(parts)


PLANTED = [
    ("secret.aws-access-key-id", j("aws_id = '", "AKIA", "Z7QPLM2XW4RT6YVB", "'\n")),
    ("secret.aws-secret-access-key", j("aws_secret_access_key = ", RAND40, "\n")),
    ("secret.gcp-api-key", j('key: "', "AIza", "SyD3x9Qk_7LmN2pR4sT6uV8wX0yZ1aB2cDe", '"\n')),
    ("secret.gcp-service-account", j('{"type": "service_account", "private_key_id": "', "9f" * 20, '"}\n')),
    ("secret.azure-storage-key", j("DefaultEndpointsProtocol=https;AccountName=x;AccountKey=", (RAND40 * 3)[:86], "==;\n")),
    ("secret.azure-client-secret", j("client = '", "abc", "8Q~", "Xy7_kLm.Np2Qr4St6Uv8Wx0Yz1Ab3Cd5E", "'\n")),
    ("secret.github-token", j("GH=", "ghp_", RAND36, "\n")),
    ("secret.gitlab-token", j("token: ", "glpat-", "Ab3Cd5Ef7Gh9Ij1Kl3Mn", "\n")),
    ("secret.slack-token", j("slack = '", "xoxb-", "123456789012-123456789012-", RAND36[:24], "'\n")),
    ("secret.stripe-key", j("stripe.api_key = '", "sk_live_", RAND36[:26], "'\n")),
    ("secret.private-key", j("-----BEGIN RSA ", "PRIVATE KEY-----\n", (RAND40 + RAND36[:24] + "\n") * 4,
                             "-----END RSA PRIVATE KEY-----\n")),
    ("secret.jwt", j("Authorization: Bearer ", "eyJ", "hbGciOiJIUzI1NiJ9.", "eyJ", "zdWIiOiIxMjM0NTY3ODkwIn0.",
                     "SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c", "\n")),
    ("secret.basic-auth-url", j("DATABASE_URL=postgres://app:", "Tr0ub4dor-3x", "@db.internal:5432/app\n")),
    ("secret.password-assignment", j('db_password = "', "hunter2-", "Prod!", '"\n')),
    ("secret.password-assignment", j("export API_TOKEN=", "9c1e7b2a44f", "0d3e8", "\n")),
    ("secret.high-entropy-string", j("client.set_token('", RAND40, "')\n")),
]

CLEAN = [
    "aws_id = 'AKIAEXAMPLE'\n",  # too short, not a key id
    "aws_secret_access_key = os.environ['AWS_SECRET_ACCESS_KEY']\n",
    'key: "AIzaTooShort"\n',
    '{"type": "service_account", "private_key_id": "<fill me>"}\n',
    "AccountKey=${STORAGE_KEY};\n",
    "client = 'not~a~secret'\n",
    "GH=ghp_short\n",
    "token: glpat-\n",
    "slack = 'xoxb-'\n",
    "stripe.api_key = os.environ['STRIPE_KEY']\n",
    "# files look like -----BEGIN RSA PRIVATE KEY----- followed by base64\n",
    "Authorization: Bearer eyJhbGciOi\n",
    "DATABASE_URL=postgres://app:${DB_PASSWORD}@db.internal:5432/app\n",
    'db_password = "changeme"\n',
    "password: {{ vault_db_password }}\n",
    'output_token = "NextToken"\n',
    "export API_TOKEN=$(cat /run/secrets/token)\n",
    "client.set_token('aaaaaaaaaaaaaaaaaaaaaaaaaaaa')\n",
]


@pytest.mark.parametrize("check_id,text", PLANTED, ids=[f"{c}-{i}" for i, (c, _) in enumerate(PLANTED)])
def test_rule_fires_on_planted_secret_without_leaking_it(check_id, text):
    matches = SecretScanner().scan_bytes(text.encode(), "planted.txt")
    assert check_id in {m.check_id for m in matches}, matches
    for m in matches:
        assert m.line >= 1 and m.fingerprint
        body = "".join(str(v) for v in vars(m).values())
        for token in (RAND40, RAND36, "Z7QPLM2XW4RT6YVB", "hunter2-Prod!", "Tr0ub4dor-3x"):
            assert token not in body


@pytest.mark.parametrize("text", CLEAN)
def test_look_alikes_do_not_fire(text):
    assert SecretScanner().scan_bytes(text.encode(), "clean.txt") == []


def test_line_and_column_are_reported():
    data = b"first line\nsecond\n  GH=" + b"ghp_" + RAND36.encode() + b"\n"
    (m,) = SecretScanner().scan_bytes(data, "f")
    assert (m.line, m.column) == (3, 6)


def test_inline_allow_marker_and_allowlists(tmp_path):
    secret = j("ghp_", RAND36)
    assert SecretScanner().scan_bytes(f"x = '{secret}'  # pragma: allowlist secret\n".encode(), "f") == []
    (m,) = SecretScanner().scan_bytes(f"x = '{secret}'\n".encode(), "f")
    assert SecretScanner(Allowlist(fingerprints=[m.fingerprint])).scan_bytes(f"y={secret}\n".encode(), "g") == []
    assert SecretScanner(Allowlist(regexes=[r"^x = "])).scan_bytes(f"x = '{secret}'\n".encode(), "f") == []
    (tmp_path / "fixtures").mkdir()
    (tmp_path / "fixtures" / "t.txt").write_text(f"{secret}\n")
    (tmp_path / "app.py").write_text(f"{secret}\n")
    matches, stats = SecretScanner(Allowlist(paths=["fixtures/*"])).scan_tree(str(tmp_path))
    assert [m.file for m in matches] == ["app.py"] and stats.skipped_allowlisted == 1


def test_binary_huge_nonutf8_and_symlink_loop(tmp_path):
    secret = j("ghp_", RAND36).encode()
    (tmp_path / "bin.dat").write_bytes(b"\0\1\2" + secret)
    huge = tmp_path / "huge.log"
    with open(huge, "wb") as handle:  # sparse 200 MB file
        handle.truncate(200 * 1024 * 1024)
    (tmp_path / "latin1.txt").write_bytes(b"caf\xe9 \xff\xfe token=" + secret + b"\n")
    os.symlink("loop", tmp_path / "loop")
    os.symlink(".", tmp_path / "self")
    matches, stats = SecretScanner().scan_tree(str(tmp_path))
    assert [m.file for m in matches] == ["latin1.txt"]
    assert stats.skipped_binary >= 1 and stats.skipped_large == 1
    assert any("huge.log" in n and "limit" in n for n in stats.notes)
    assert any("loop" in n and "symlink" in n for n in stats.notes)


def test_entropy_thresholds_depend_on_charset():
    assert entropy_ok("9c1e7b2a44f0d3e8")  # hex
    assert not entropy_ok("aaaaaaaabbbbbbbb")
    assert entropy_ok(RAND40)
    assert not entropy_ok("abababababababababababababab")


def test_redaction_and_findings_never_carry_the_value():
    assert redact("short") == "***** (5 chars)"
    assert redact(RAND40).startswith(RAND40[:4]) and RAND40 not in redact(RAND40)
    matches = SecretScanner().scan_bytes(j("GH=", "ghp_", RAND36).encode(), "f")
    (finding,) = matches_to_findings(matches, "repo/")
    assert RAND36 not in str(finding.to_dict()) and finding.location.file == "repo/f"


def test_parallel_scan_finds_the_same(tmp_path):
    for i in range(300):
        (tmp_path / f"f{i:03d}.py").write_text(f"x = {i}\n" + (f"T = '{j('ghp_', RAND36)}'\n" if i % 50 == 0 else ""))
    serial, s1 = SecretScanner().scan_tree(str(tmp_path))
    parallel, s2 = SecretScanner().scan_tree(str(tmp_path), workers=2)
    assert [(m.file, m.line) for m in serial] == [(m.file, m.line) for m in parallel]
    assert len(serial) == 6 and s1.files_scanned == s2.files_scanned == 300


def test_unquoted_assignments_in_code_are_variables_not_secrets():
    text = b"password=conn_password,\nsecret = self.secrets[vault_id]\nPASSWORDFILE = '/etc/passwd'\n"
    assert SecretScanner().scan_bytes(text, "connection.py") == []
    (m,) = SecretScanner().scan_bytes(b"DB_PASSWORD=" + b"s3cr3t-Value9\n", "prod.env")
    assert m.check_id == "secret.password-assignment"


def test_documentation_example_keys_are_skipped():
    text = j("aws_access_key_id = ", "AKIAIOSFODNN7", "EXAMPLE", "\n").encode()
    assert SecretScanner().scan_bytes(text, "README.md") == []
