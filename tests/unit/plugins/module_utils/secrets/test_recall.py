"""Labelled corpus for the secret detector: every class of issue 14 planted in the file type where it lives,
its placeholder twin that must stay quiet, and real files of the venv that hold no secret.

Every secret is assembled at test time from os.urandom, so this file holds no secret-shaped literal.
"""

from __future__ import annotations

import base64
import os
import string
import uuid

import pytest

from ansible_collections.deploysafe.preflight.plugins.module_utils.secrets import SecretScanner, matches_to_findings

_B64 = string.ascii_letters + string.digits + "+/"
_UPPER = string.ascii_uppercase + string.digits


def rnd(n: int, alphabet: str = _B64) -> str:
    """n random characters, starting with a letter (a leading / reads as a path) and holding a digit."""
    raw = os.urandom(n)
    out = "".join(alphabet[b % len(alphabet)] for b in raw)
    return "K" + out[1:-1] + "7"


def hexs(n: int) -> str:
    return os.urandom(n // 2).hex()


def pw() -> str:
    return "pw" + rnd(10, string.ascii_letters + string.digits)


def key_block(kind: str, sep: str, indent: str = "") -> str:
    lines = [rnd(64) for _ in range(3)]
    body = sep.join(indent + line for line in lines)
    return f"{indent}-----BEGIN {kind}PRIVATE KEY-----{sep}{body}{sep}{indent}-----END {kind}PRIVATE KEY-----"


def planted():
    """(id, check_id, file name, text, secret) for every class the detector must find."""
    p = pw()
    yield "key-in-yaml-escaped", "secret.private-key", "values.yaml", f'tls_key: "{key_block("RSA ", chr(92) + "n")}"\n'
    yield "key-in-env", "secret.private-key", "app.env", f'SSH_KEY="{key_block("OPENSSH ", chr(92) + "n")}"\n'
    yield "key-in-k8s-env", "secret.private-key", "pod.yaml", (
        "env:\n  - name: TLS_KEY\n    value: |\n" + key_block("EC ", "\n", "      ") + "\n")
    yield "b64-in-env-no-name", "secret.high-entropy-string", "settings.env", f"mimi={rnd(64)}\n"
    yield "hex-in-ini-no-name", "secret.high-entropy-string", "app.ini", f"[x]\nvalue = {hexs(40)}\n"
    yield "b64-quoted-in-code", "secret.high-entropy-string", "conf.py", f"SETTING = '{rnd(64)}'\n"
    yield "yaml-password", "secret.password-assignment", "vars.yml", f"db:\n  password: {p}\n"
    yield "configmap-data", "secret.password-assignment", "cm.yaml", (
        f"apiVersion: v1\nkind: ConfigMap\ndata:\n  DB_PASSWORD: {p}\n")
    yield "pod-env-literal", "secret.password-assignment", "deploy.yaml", (
        f"env:\n  - name: API_TOKEN\n    value: \"{rnd(24)}\"\n")
    yield "aws-id-with-fake", "secret.aws-access-key-id", "aws.yml", f"aws_id: AKIA{'FAKE'}{rnd(12, _UPPER)}\n"
    yield "aws-id-with-test", "secret.aws-access-key-id", "aws.json", f'{{"id": "AKIA{"TEST"}{rnd(12, _UPPER)}"}}\n'
    yield "aws-secret-with-example", "secret.aws-secret-access-key", "credentials", (
        f"aws_secret_access_key = {rnd(30)}{'EXAMPLE'}{rnd(3)}\n")
    yield "aws-session-token", "secret.aws-session-token", "credentials", f"aws_session_token = {rnd(300)}\n"
    yield "ini-multiline", "secret.password-assignment", "app.cfg", f"[creds]\npassword =\n    {p}\n    other\n"
    yield "npmrc", "secret.npm-token", ".npmrc", f"//registry.npmjs.org/:_authToken={uuid.uuid4()}\n"
    yield "pypirc", "secret.password-assignment", ".pypirc", f"[pypi]\nusername: me\npassword: {p}\n"
    yield "dockerfile-env-space", "secret.password-assignment", "Dockerfile", f"FROM x\nENV API_TOKEN {rnd(24)}\n"
    yield "dockerfile-env-eq", "secret.password-assignment", "Dockerfile", f"FROM x\nENV DB_PASSWORD={p}\n"
    yield "jdbc-query", "secret.basic-auth-url", "Dao.java", (
        f'String url = "jdbc:mysql://db/app?user=app&password={p}";\n')
    yield "amqp-uri", "secret.basic-auth-url", "settings.py", f'BROKER = "amqp://app:{p}@rabbit:5672/vhost"\n'
    yield "ado-connection", "secret.basic-auth-url", "web.config", f"<add value=\"Server=db;Uid=app;Password={p};\"/>\n"
    yield "docker-auth", "secret.registry-auth", "config.json", (
        f'{{"auths": {{"r.io": {{"auth": "{base64.b64encode(("me:" + p).encode()).decode()}"}}}}}}\n')
    yield "curl-user", "secret.basic-auth-url", "deploy.sh", f"curl -u admin:{p} https://api.internal/\n"
    yield "xml-element", "secret.password-assignment", "settings.xml", f"<server><password>{p}</password></server>\n"
    yield "quoted-in-code", "secret.password-assignment", "db.py", f'connect(password="{p}")\n'


CASES = list(planted())


@pytest.mark.parametrize("name,check_id,filename,text", CASES, ids=[c[0] for c in CASES])
def test_planted_secret_is_found_and_never_printed(name, check_id, filename, text, tmp_path):
    matches = SecretScanner().scan_bytes(text.encode(), filename)
    assert check_id in {m.check_id for m in matches}, (name, [(m.check_id, m.line) for m in matches])
    for finding in matches_to_findings(matches, "repo/"):
        shown = str(finding.to_dict())
        assert f"repo/{filename}:" in finding.message and finding.location.line >= 1
        for token in text.replace('"', " ").replace("=", " ").replace(":", " ").split():
            if len(token) >= 12 and any(c.isdigit() for c in token):
                assert token not in shown, name


def k8s_secret_ref():
    return ("env:\n  - name: DB_PASSWORD\n    valueFrom:\n      secretKeyRef:\n        name: db\n"
            "        key: password\n")


CLEAN = [
    ("placeholder-word", "vars.yml", "password: password\n"),
    ("same-as-key", "vars.yml", "TRAVEL_API_KEY: TRAVEL_API_KEY\n"),
    ("dollar-brace", "app.env", "DB_PASSWORD=${DB_PASSWORD}\n"),
    ("dollar", "app.env", "DB_PASSWORD=$DB_PASSWORD\n"),
    ("jinja", "vars.yml", 'db_password: "{{ vault_db_password }}"\n'),
    ("erb", "vars.yml", "MasterUserPassword: <% PASSWORD_HERE %>\n"),
    ("symfony-env", "params.yml", "db_secret: '%env(DB_SECRET_VALUE)%'\n"),
    ("empty", "app.env", 'API_TOKEN=""\nDB_PASSWORD=\n'),
    ("npmrc-references", ".npmrc", "//r.io/:_authToken=${NPM_TOKEN}\n//r.io/:_authToken=$NPM_TOKEN\n"
                                   "//r.io/:_authToken={NPM_TOKEN}\n//r.io/:_authToken={}\n//r.io/:_authToken=\n"),
    ("secret-key-ref", "deploy.yaml", k8s_secret_ref()),
    ("semver", "package.json", '{"dependencies": {"jsonwebtoken": "^9.0.2", "passport-token": ">=1.2.0 <2.0.0"}}\n'),
    ("file-path", "vars.yml", "token_file: /var/run/secrets/kubernetes.io/token\napi_key: ./keys/api.txt\n"),
    ("network-path", "vars.yml", "password_store: '\\\\fileserver\\share\\store'\n"),
    ("uuid", "vars.yml", f"api_key: {uuid.UUID(int=0x123e4567e89b12d3a456426614174000)}\n"),
    ("env-name", "vars.yml", "client_secret: CLIENT_SECRET_FROM_VAULT\n"),
    ("pagination-token", "paginators.json", '{"input_token": "Marker", "output_token": "NextMarker"}\n'),
    ("ansible-vault", "vault.yml", "db_password: !vault |\n  $ANSIBLE_VAULT;1.1;AES256\n  " + "3" * 10 + "\n"),
    ("doc-aws-key", "README.md", "aws_access_key_id = " + "AKIAIOSFODNN7" + "EXAMPLE" + "\n"),
    ("key-mention", "README.md", "the file starts with -----BEGIN RSA PRIVATE KEY----- and ends with -----END\n"),
    ("flow-mapping", "types.yml", "- {id: password, label: Password, type: string, secret: true}\n"),
    ("digest", "lock.json", f'{{"sha256": "{"ab12" * 16}", "commit": "{"9f3e" * 10}"}}\n'),
]


@pytest.mark.parametrize("name,filename,text", CLEAN, ids=[c[0] for c in CLEAN])
def test_placeholder_twin_stays_quiet(name, filename, text):
    assert SecretScanner().scan_bytes(text.encode(), filename) == [], name


def test_public_key_der_is_not_a_secret():
    """A base64 SubjectPublicKeyInfo (AWS examples, JWKS) is public; generated here with cryptography."""
    serialization = pytest.importorskip("cryptography.hazmat.primitives.serialization")
    ec = pytest.importorskip("cryptography.hazmat.primitives.asymmetric.ec")
    public = ec.generate_private_key(ec.SECP256R1()).public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    text = f'{{"AttributeValue": "{base64.b64encode(public).decode()}"}}\n'
    assert SecretScanner().scan_bytes(text.encode(), "examples.json") == []


@pytest.mark.parametrize("marker", ["# pragma: allowlist secret", "# gitleaks:allow"])
def test_inline_allow_comments_of_detect_secrets_and_gitleaks(marker):
    text = f"aws_id: AKIA{rnd(16, _UPPER)}  {marker}\npassword: {pw()}  {marker}\n"
    assert SecretScanner().scan_bytes(text.encode(), "aws.yml") == []


def _real_files():
    """Configuration and source files of installed packages that are known to hold no secret."""
    import jinja2
    import yaml
    out = []
    for pkg in (yaml, jinja2):
        root = os.path.dirname(pkg.__file__)
        out += [os.path.join(root, f) for f in sorted(os.listdir(root)) if f.endswith((".py", ".yml", ".json"))]
    return out


def test_real_files_without_secrets_stay_quiet():
    files = _real_files()
    assert len(files) > 20
    scanner = SecretScanner()
    noisy = {}
    for path in files:
        with open(path, "rb") as handle:
            found = scanner.scan_bytes(handle.read(), os.path.basename(path))
        if found:
            noisy[path] = [(m.check_id, m.line) for m in found]
    assert noisy == {}
