# Copyright: (c) 2026, deploysafe.preflight contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Provider patterns of the secret detector.

Each rule has lowercase keywords: a file is only matched against the rules whose keywords occur in
it (one combined keyword search per file), which keeps the scan fast on large trees. Group `v`
of each pattern is the secret value; it is fingerprinted and redacted, never returned.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable, Optional, Tuple

from ansible_collections.deploysafe.preflight.plugins.module_utils.findings import Check
from ansible_collections.deploysafe.preflight.plugins.module_utils.secrets import values as vf


# (value, key, line) -> True when the match is not a secret (a placeholder, reference, digest...)
Drop = Callable[[str, str, bytes], bool]


@dataclass(frozen=True)
class Rule:
    check: Check
    pattern: "re.Pattern[bytes]"
    keywords: Tuple[bytes, ...]
    entropy: bool = False  # value must also pass the per-charset entropy threshold
    drop: Optional[Drop] = None
    # Common keywords (password, token, ://): run the pattern only on lines holding a keyword.
    line_scoped: bool = False
    # Unquoted `key = value` is a variable in source code; only configuration files hold literals that way.
    config_only: bool = False
    files: Tuple[str, ...] = ()  # lowercase basename suffixes the rule is limited to (empty: every file)
    lines_after: int = 0  # a line-scoped match may run on into this many following lines (name/value pairs)
    # Line-scoped rules: a cheap case-sensitive regex run on the lowercased file picks the lines (instead of
    # every line holding a keyword): a leading alternation of literals lets the regex engine skip ahead.
    gate: Optional["re.Pattern[bytes]"] = None
    boundary: bool = False  # the value must not follow a letter or digit (checked outside the regex, for speed)
    # The pattern matched only the last word of the key (group k) and runs on the lowercased file: the whole
    # key is read back from the data and must pass KEY_NAME. Starting at the secret word, not at every word,
    # is what keeps these rules linear and fast.
    key_tail: bool = False


_REMEDIATION = ("Revoke and rotate the credential, remove it from the file (and from history), and load it "
                "from a secret store or environment at run time.")


def _rule(check_id: str, severity: str, title: str, pattern: str, keywords: Tuple[str, ...],
          flags: int = 0, **kw) -> Rule:
    return Rule(Check(check_id, severity, title, _REMEDIATION), re.compile(pattern.encode(), flags),
                tuple(k.encode() for k in keywords), **kw)


_I = re.IGNORECASE
_IM = re.IGNORECASE | re.MULTILINE
# A key name is secret-like when it ENDS with one of these words: db_password, secretKey, _authToken,
# sonar.jdbc.password; not passwordForPassenger, secretary, publicKey, bypass.
_SENSITIVE = (r"(?:passw(?:or)?d|passphrase|pwd|(?<![a-z])pass|(?:db|sql|user|admin|root|ftp|smtp|mail|redis|ldap"
              r"|ssh|mq)pass|secret|token|apikey|(?:api|auth|service|account|db|database|priv|private|client|access"
              r"|signing|encryption|master|license|app|secret|consumer|webhook)[_.-]?key|credentials?"
              r"|contrase(?:\xc3\xb1|n)a)\d{0,2}")
# Greedy from a word start (the lookbehind): linear in the line, where a lazy prefix from every position is not.
_TAIL = (r"(?P<k>(?:passw(?:or)?d|passphrase|pwd|pass|secret|token|key|credentials?|contrase(?:\xc3\xb1|n)a)"
         r"\d{0,2})(?![\w-])")
KEY_NAME = re.compile((r"[\w.-]*" + _SENSITIVE + r"\Z").encode(), re.I)
_KEY = r"(?<![\w.-])(?P<k>[\w.-]*" + _SENSITIVE + r")(?![\w-])"
_ASSIGN = r"""['"]?\]?[ \t]*(?P<op>:=|=>|={1,3}|:)[ \t]*"""
_WORDS = r"(?:pass|pwd|secret|token|key|credential|contrase)"
_ASSIGN_GATE = re.compile((_WORDS + r"""[\w.\-]{0,40}['"]?\]?[ \t]*(?:[:=(]|=>)""").encode())
_ENV_GATE = re.compile(rb"^[ \t]*(?:env|arg)[ \t]", re.MULTILINE)
_XML_GATE = re.compile((r"<[\w.:\-]*" + _WORDS + r"[\w]*>").encode())
_PAIR_GATE = re.compile((r"""(?:name|key)['"]?[ \t]*:[ \t]*['"]?[\w.\-]*""" + _WORDS + r"|<(?:key|name)>").encode())
_QUERY_GATE = re.compile(rb"[?&;](?:amp;)?(?:password|passwd|pwd|userpass|pass|secret|access_token|api_key|apikey)=")
# Few, short gate words: each is one C-speed scan of the file, and the key regex runs only on their lines.
_KEYWORDS = ("pass", "pwd", "secret", "token", "key", "credential", "contrase")
_AWS_SESSION = ("session_token", "sessiontoken", "session-token", "security_token", "securitytoken",
                "security-token", "aws_token", "awstoken")
_CONFIG_FILES = (".ini", ".cfg", ".conf", ".cnf", ".pypirc", ".gitconfig", ".properties", ".toml", ".desktop")

RULES = (
    # Provider formats: the exact shape is the evidence; only published documentation values are dropped.
    _rule("secret.aws-access-key-id", "high", "AWS access key id",
          r"(?P<v>(?:A3T[A-Z0-9]|AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16})(?![A-Z0-9])",
          ("akia", "asia", "abia", "acca", "a3t"), drop=vf.documented_example, boundary=True),
    _rule("secret.aws-secret-access-key", "critical", "AWS secret access key",
          r"aws.{0,24}?(?:secret|private|key).{0,24}?['\"\s:=>]+(?P<v>[A-Za-z0-9/+]{40})(?![A-Za-z0-9/+=])",
          ("aws",), _I, line_scoped=True, drop=vf.not_mixed_case_key),
    _rule("secret.aws-session-token", "high", "AWS session token",
          r"(?:" + "|".join(_AWS_SESSION) + r")['\"]?\s*(?::=|=>|[:=])\s*['\"]?(?P<v>[A-Za-z0-9/+=]{100,})",
          _AWS_SESSION, _I, line_scoped=True),
    _rule("secret.gcp-api-key", "high", "Google Cloud API key",
          r"\b(?P<v>AIza[0-9A-Za-z_\-]{35})(?![0-9A-Za-z_\-])", ("aiza",)),
    _rule("secret.gcp-service-account", "critical", "Google Cloud service account key file",
          r"\"private_key_id\"\s*:\s*\"(?P<v>[a-f0-9]{40})\"", ("private_key_id",)),
    _rule("secret.azure-storage-key", "critical", "Azure storage account key",
          r"AccountKey=(?P<v>[A-Za-z0-9+/]{86}==)", ("accountkey",)),
    _rule("secret.azure-client-secret", "high", "Azure AD client secret",
          r"(?<![A-Za-z0-9_~.-])(?P<v>[A-Za-z0-9_~.]{3}\dQ~[A-Za-z0-9_~.-]{31,34})(?![A-Za-z0-9_~.-])", ("q~",)),
    _rule("secret.github-token", "critical", "GitHub token",
          r"\b(?P<v>(?:ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9]{36,76}|github_pat_[A-Za-z0-9_]{82})\b",
          ("ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_")),
    _rule("secret.gitlab-token", "critical", "GitLab token",
          r"\b(?P<v>gl(?:pat|ptt|dt|rt|cbt|oas)-[A-Za-z0-9_\-]{20,})\b", ("glpat-", "glptt-", "gldt-", "glrt-")),
    _rule("secret.slack-token", "high", "Slack token or webhook",
          r"(?P<v>\bxox[abposr]-[0-9A-Za-z\-]{10,}|https://hooks\.slack\.com/services/T[A-Z0-9]+/B[A-Z0-9]+/[A-Za-z0-9]{20,})",
          ("xox", "hooks.slack.com")),
    _rule("secret.stripe-key", "critical", "Stripe secret or restricted key",
          r"\b(?P<v>(?:sk|rk)_(?:live|test)_[0-9A-Za-z]{20,})\b", ("sk_live_", "sk_test_", "rk_live_", "rk_test_")),
    _rule("secret.npm-token", "critical", "npm registry token",
          r"(?:_authToken|_auth|_password)[ \t]*=[ \t]*['\"]?(?P<v>[^\s'\"]+)", ("_auth", "_password"),
          line_scoped=True, drop=vf.basic_auth_placeholder, files=(".npmrc", ".yarnrc", ".yarnrc.yml")),
    _rule("secret.registry-auth", "critical", "Container registry credentials (docker config auth)",
          r"\"auth\"\s*:\s*\"(?P<v>[A-Za-z0-9+/]{8,}={0,2})\"", ('"auth"',), line_scoped=True,
          drop=vf.docker_auth_placeholder),
    # A private key block, standalone or embedded in a YAML/JSON/.env value (escaped \n, line continuations).
    _rule("secret.private-key", "critical", "Private key",
          r"-----BEGIN[ A-Z0-9_-]{0,40}PRIVATE KEY(?: BLOCK)?-----(?P<v>(?:[^-]|-(?!----END)){20,8192}?)-----END",
          ("private key",), _I | re.DOTALL, drop=vf.key_body_too_short),
    _rule("secret.jwt", "medium", "JSON Web Token",
          r"\b(?P<v>eyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{16,})", ("eyj",)),
    _rule("secret.basic-auth-url", "high", "Credentials in a URL",
          r"\b[a-z][a-z0-9+.-]{1,20}://[^:/\s@'\"<>{}]{1,64}:(?P<v>[^@/\s'\"<>{}]{3,128})@[A-Za-z0-9.\-_\[]",
          ("://",), _I, drop=vf.basic_auth_placeholder, line_scoped=True),
    # JDBC/ODBC/AMQP query credentials: ?user=app&password=..., ;Password=...;
    _rule("secret.basic-auth-url", "high", "Credentials in a URL",
          r"(?:[?&;]|&amp;)(?P<k>password|passwd|pwd|userpass|pass|secret|access_token|api_key|apikey)"
          r"=(?P<v>[^&;\s'\"<>#]+)",
          ("pass", "pwd", "secret", "access_token", "api_key", "apikey"), _I, drop=vf.not_a_literal,
          line_scoped=True, gate=_QUERY_GATE),
    _rule("secret.basic-auth-url", "high", "Credentials on a command line (curl -u user:password)",
          r"\bcurl\b.*?(?:-u|--user|--proxy-user)[ \t]+['\"]?[^:\s'\"]+:(?P<v>[^\s'\"()]+)", ("curl",),
          line_scoped=True, drop=vf.basic_auth_placeholder),
    # Secret-like names with a literal value: quoted anywhere, unquoted only in configuration files.
    _rule("secret.password-assignment", "high", "Hard-coded password or token",
          _TAIL + _ASSIGN + r"""(?:[bruf]{1,2})?(?P<q>['"])(?P<v>[^'"\s]{4,200})(?P=q)""",
          _KEYWORDS, drop=vf.not_a_literal, line_scoped=True, gate=_ASSIGN_GATE, key_tail=True),
    _rule("secret.password-assignment", "high", "Hard-coded password or token",
          _TAIL + _ASSIGN + r"""(?:!!binary[ \t]+)?(?P<v>[^\s'"#;,&<>`|\[\]{}()]{4,200})(?=[\s;,&<>"'\]})]|$)""",
          _KEYWORDS, re.MULTILINE, drop=vf.not_a_literal, line_scoped=True, config_only=True, gate=_ASSIGN_GATE,
          key_tail=True),
    _rule("secret.password-assignment", "high", "Hard-coded password or token",
          r"^[ \t]*(?:ENV|ARG)[ \t]+" + _KEY + r"""[ \t]+['"]?(?P<v>[^\s'"=]+)['"]?[ \t]*$""",
          _KEYWORDS, _IM, drop=vf.not_a_literal, line_scoped=True, gate=_ENV_GATE),
    _rule("secret.password-assignment", "high", "Hard-coded password in an XML element",
          r"<(?P<k>[\w.:-]*?" + _SENSITIVE + r")>[ \t]*(?P<v>[^<\s]{4,200})[ \t]*</", _KEYWORDS, _I,
          drop=vf.not_a_literal, line_scoped=True, gate=_XML_GATE),
    # name/value pairs: Kubernetes env, ECS task definitions, key/value lists in YAML, JSON and XML.
    _rule("secret.password-assignment", "high", "Hard-coded password in a name/value pair",
          r"""(?:name|key)['"]?[ \t]*:[ \t]*['"]?""" + _KEY + r"""['"]?[ \t]*,?[ \t]*\r?\n?[ \t]*['"]?value['"]?"""
          r"""[ \t]*:[ \t]*['"]?(?P<v>[^\s'"#]{4,200})""", _KEYWORDS, _I, drop=vf.not_a_literal, line_scoped=True,
          lines_after=1, gate=_PAIR_GATE),
    _rule("secret.password-assignment", "high", "Hard-coded password in a name/value pair",
          r"<(?:key|name)>[ \t]*" + _KEY + r"[ \t]*</(?:key|name)>\s*<value>[ \t]*(?P<v>[^<\s]{4,200})[ \t]*</value>",
          _KEYWORDS, _I, drop=vf.not_a_literal, line_scoped=True, lines_after=1, gate=_PAIR_GATE),
    # Multi-line ini values: `key =` then indented continuation lines (configparser syntax).
    _rule("secret.password-assignment", "high", "Hard-coded password in a multi-line value",
          r"^[ \t]*(?P<k>[\w.-]*?" + _SENSITIVE + r"[\w.-]*)[ \t]*[=:][ \t]*\r?\n[ \t]+(?P<v>[^\s#;]{4,200})[ \t]*\r?$",
          _KEYWORDS, _IM, drop=vf.not_a_literal, files=_CONFIG_FILES),
    _rule("secret.high-entropy-string", "medium", "High-entropy string next to a secret-like name",
          _TAIL + r"""['"]?\s*(?::=|=>|[:=(])\s*b?['"](?P<v>[a-z0-9+/=_\-]{20,})['"]""",
          _KEYWORDS, entropy=True, line_scoped=True, drop=vf.not_a_keyed_secret, gate=_ASSIGN_GATE, key_tail=True),
    # No secret-like name: detect-secrets' entropy limits on quoted strings and on configuration values.
    _rule("secret.high-entropy-string", "medium", "High-entropy string",
          r"""(?P<q>['"])(?P<v>[A-Za-z0-9+/=_\-]{20,600})(?P=q)""", ("'", '"'), drop=vf.not_a_bare_secret),
    _rule("secret.high-entropy-string", "medium", "High-entropy string",
          r"""^[ \t]*(?:export[ \t]+|-[ \t]+)?[\w.-]+[ \t]*[=:][ \t]*(?P<v>[A-Za-z0-9+/=_\-]{20,600})[ \t]*\r?$""",
          ("=", ":"), re.MULTILINE, drop=vf.not_a_bare_secret, config_only=True),
)

CODE_SUFFIXES = (".py", ".pyi", ".js", ".mjs", ".cjs", ".ts", ".tsx", ".jsx", ".go", ".java", ".kt", ".scala", ".rb",
                 ".php", ".c", ".h", ".cc", ".cpp", ".hpp", ".cs", ".rs", ".swift", ".m", ".pl", ".lua", ".groovy",
                 ".ps1", ".psm1", ".psd1", ".vb", ".fs", ".dart", ".ex", ".exs", ".erl", ".clj", ".r", ".jl")
CHECKS = tuple({r.check.check_id: r.check for r in RULES}.values())
