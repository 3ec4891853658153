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
from typing import Tuple

from ansible_collections.deploysafe.preflight.plugins.module_utils.findings import Check


@dataclass(frozen=True)
class Rule:
    check: Check
    pattern: "re.Pattern[bytes]"
    keywords: Tuple[bytes, ...]
    entropy: bool = False  # value must also pass the per-charset entropy threshold
    placeholder_check: bool = False  # value must not look like a template/placeholder
    # Common keywords (password, token, ://): run the pattern only on lines holding a keyword.
    line_scoped: bool = False
    # Unquoted `key = value` is a variable in source code; only configuration files hold literals that way.
    config_only: bool = False


def _rule(check_id: str, severity: str, title: str, pattern: str, keywords: Tuple[str, ...],
          flags: int = 0, **kw) -> Rule:
    remediation = ("Revoke and rotate the credential, remove it from the file (and from history), and load it "
                   "from a secret store or environment at run time.")
    return Rule(Check(check_id, severity, title, remediation), re.compile(pattern.encode(), flags),
                tuple(k.encode() for k in keywords), **kw)


_I = re.IGNORECASE
_GENERIC_KEYWORDS = ("pass", "secret", "token", "api_key", "api-key", "apikey", "access_key", "access-key")
_KEYNAME = r"(?:password|passwd|passphrase|secret|api[_-]?key|apikey|access[_-]?key|auth[_-]?token|access[_-]?token|client[_-]?secret|private[_-]?token|token)"

RULES = (
    _rule("secret.aws-access-key-id", "high", "AWS access key id",
          r"\b(?P<v>(?:AKIA|ASIA|ABIA|ACCA)[A-Z2-7]{16})\b", ("akia", "asia", "abia", "acca")),
    _rule("secret.aws-secret-access-key", "critical", "AWS secret access key",
          r"aws.{0,24}?(?:secret|private).{0,24}?['\"\s:=]+(?P<v>[A-Za-z0-9/+]{40})(?![A-Za-z0-9/+=])",
          ("aws",), _I, entropy=True, line_scoped=True),
    _rule("secret.gcp-api-key", "high", "Google Cloud API key",
          r"\b(?P<v>AIza[0-9A-Za-z_\-]{35})(?![0-9A-Za-z_\-])", ("aiza",)),
    _rule("secret.gcp-service-account", "critical", "Google Cloud service account key file",
          r"\"private_key_id\"\s*:\s*\"(?P<v>[a-f0-9]{40})\"", ("private_key_id",)),
    _rule("secret.azure-storage-key", "critical", "Azure storage account key",
          r"AccountKey=(?P<v>[A-Za-z0-9+/]{86}==)", ("accountkey",)),
    _rule("secret.azure-client-secret", "high", "Azure AD client secret",
          r"(?<![A-Za-z0-9_~.-])(?P<v>[A-Za-z0-9_~.]{3}\dQ~[A-Za-z0-9_~.-]{31,34})(?![A-Za-z0-9_~.-])", ("q~",)),
    _rule("secret.github-token", "critical", "GitHub token",
          r"\b(?P<v>(?:ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9]{36}|github_pat_[A-Za-z0-9_]{82})\b",
          ("ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_")),
    _rule("secret.gitlab-token", "critical", "GitLab token",
          r"\b(?P<v>gl(?:pat|ptt|dt|rt|cbt|oas)-[A-Za-z0-9_\-]{20,})\b", ("glpat-", "glptt-", "gldt-", "glrt-")),
    _rule("secret.slack-token", "high", "Slack token or webhook",
          r"(?P<v>\bxox[abposr]-[0-9A-Za-z\-]{10,}|https://hooks\.slack\.com/services/T[A-Z0-9]+/B[A-Z0-9]+/[A-Za-z0-9]{20,})",
          ("xox", "hooks.slack.com")),
    _rule("secret.stripe-key", "critical", "Stripe secret or restricted key",
          r"\b(?P<v>(?:sk|rk)_(?:live|test)_[0-9A-Za-z]{20,})\b", ("sk_live_", "sk_test_", "rk_live_", "rk_test_")),
    _rule("secret.private-key", "critical", "Private key",
          r"-----BEGIN[ A-Z0-9_-]{0,40}PRIVATE KEY(?: BLOCK)?-----\s*(?P<v>(?:[A-Za-z0-9+/=:, -]{16,}\r?\n){2,})",
          ("private key",), _I),
    _rule("secret.jwt", "medium", "JSON Web Token",
          r"\b(?P<v>eyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{16,})", ("eyj",)),
    _rule("secret.basic-auth-url", "high", "Credentials in a URL",
          r"\b[a-z][a-z0-9+.-]{1,20}://[^:/\s@'\"<>{}]{1,64}:(?P<v>[^@/\s'\"<>{}$%]{3,128})@[A-Za-z0-9.\-_\[]",
          ("://",), _I, placeholder_check=True, line_scoped=True),
    _rule("secret.password-assignment", "high", "Hard-coded password or token",
          _KEYNAME + r"[A-Za-z0-9_]{0,20}['\"]?\s*(?::=|=>|[:=])\s*(?P<q>['\"])(?P<v>[^'\"\s]{6,200})(?P=q)",
          _GENERIC_KEYWORDS, _I, placeholder_check=True, line_scoped=True),
    _rule("secret.password-assignment", "high", "Hard-coded password or token",
          _KEYNAME + r"[ \t]*[:=][ \t]*(?P<v>[^\s'\"#]{8,200})[ \t]*\r?$",
          _GENERIC_KEYWORDS, _I | re.MULTILINE, placeholder_check=True, line_scoped=True, config_only=True),
    _rule("secret.high-entropy-string", "medium", "High-entropy string next to a secret-like name",
          _KEYNAME + r"[A-Za-z0-9_]{0,20}['\"]?\s*(?::=|=>|[:=(])\s*b?['\"](?P<v>[A-Za-z0-9+/=_\-]{20,})['\"]",
          _GENERIC_KEYWORDS, _I, entropy=True, line_scoped=True),
)

CODE_SUFFIXES = (".py", ".pyi", ".js", ".mjs", ".cjs", ".ts", ".tsx", ".jsx", ".go", ".java", ".kt", ".scala", ".rb",
                 ".php", ".c", ".h", ".cc", ".cpp", ".hpp", ".cs", ".rs", ".swift", ".m", ".pl", ".lua", ".groovy")
CHECKS = tuple({r.check.check_id: r.check for r in RULES}.values())
