# Copyright: (c) 2026, deploysafe.preflight contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Repository checks that look at one file's name and bytes (read once by the scanner)."""

from __future__ import annotations

import fnmatch
import json
import os
import re
from dataclasses import dataclass
from typing import Callable, List, Optional, Tuple

from ansible_collections.deploysafe.preflight.plugins.module_utils.findings import Check, Finding, Location, make_finding

UNPINNED = Check("repo.unpinned-dependency", "medium", "Dependency not pinned to an exact version",
                 "Pin exact versions (== in requirements, exact versions or a lockfile for npm).")
TLS_OFF = Check("repo.tls-verify-disabled", "high", "TLS verification disabled",
                "Keep certificate verification on; trust a private CA with a CA bundle instead.")
DEBUG_PROD = Check("repo.debug-in-production", "high", "Debug mode on in production configuration",
                   "Turn debug off in production settings; enable it per developer environment only.")
CORS_WILDCARD = Check("repo.cors-wildcard", "medium", "CORS allows any origin",
                      "List the allowed origins explicitly.")
ADMIN_BIND_ALL = Check("repo.admin-bind-all", "medium", "Admin/debug endpoint bound to all interfaces",
                       "Bind admin, debug and management listeners to 127.0.0.1 or a private interface.")
KEY_FILE = Check("repo.private-key-file", "critical", "Private key or kubeconfig committed",
                 "Remove the file from the repository and its history, revoke it, and distribute it from a "
                 "secret store.")
SECRET_NAME = Check("repo.secret-like-filename", "high", "File with a secret-like name is tracked",
                    "Untrack the file (git rm --cached), add it to .gitignore and keep an example file instead.")
UNPARSEABLE = Check("repo.unparseable", "low", "A file the checks need could not be parsed",
                    "Fix the file's syntax so it can be checked.")
# A file the scan could not read is not a defect in the repository but a hole in the scan: it makes the
# verdict pending (gate pending) until it is readable or excluded. A file over the size limit was skipped
# on purpose and is reported so the skip is visible (and fails at threshold low or info).
UNREADABLE = Check("repo.unreadable", "medium", "A file or directory could not be read, so it was not scanned",
                   "Make it readable by the scanning user, or exclude it explicitly (exclude) if it must not be "
                   "scanned.", gate="pending")
SKIPPED_LARGE = Check("repo.skipped-large", "low", "A file over the size limit was not scanned",
                      "Raise max_file_size to scan it, or exclude it (exclude) if it holds no code or configuration.")
CHECKS = (UNPINNED, TLS_OFF, DEBUG_PROD, CORS_WILDCARD, ADMIN_BIND_ALL, KEY_FILE, SECRET_NAME, UNPARSEABLE, UNREADABLE,
          SKIPPED_LARGE)

SECRET_FILENAMES = (".env", ".env.*", "id_rsa", "id_dsa", "id_ecdsa", "id_ed25519", "*.pem", "*.key", "*.p12",
                    "*.pfx", "*.jks", "*.keystore", ".htpasswd", ".netrc", ".pgpass", ".pypirc", "*.kdbx",
                    "credentials.json", "terraform.tfstate", "*.tfstate", "secrets.y*ml")
SAFE_SUFFIXES = (".example", ".sample", ".template", ".dist", ".tmpl", ".pub")


@dataclass(frozen=True)
class LineRule:
    check: Check
    pattern: "re.Pattern[str]"
    keywords: Tuple[str, ...]
    message: str
    applies: Optional[Callable[[str], bool]] = None


def _is_production_config(rel: str) -> bool:
    low = rel.lower()
    return bool(re.search(r"(^|[/._-])(prod|production|live)([/._-]|$)", low))


_I = re.IGNORECASE
LINE_RULES = (
    LineRule(TLS_OFF, re.compile(r"\bverify\s*=\s*False\b|\b(?:verify_ssl|ssl_verify|verify_certs?|validate_certs|"
                                 r"tls_verify|sslverify)\b['\"]?\s*[:=]\s*['\"]?(?:false|no|0|off)\b", _I),
             ("verify", "validate_certs"), "certificate verification switched off"),
    LineRule(TLS_OFF, re.compile(r"\binsecure[_-]?skip[_-]?(?:tls[_-]?)?verify\b['\"]?\s*[:=]\s*['\"]?true\b|"
                                 r"rejectUnauthorized['\"]?\s*:\s*false|NODE_TLS_REJECT_UNAUTHORIZED\s*[=:]\s*['\"]?0|"
                                 r"\bCERT_NONE\b|\bcurl\b[^\n|]*\s(?:-k|--insecure)\b", _I),
             ("insecure", "rejectunauthorized", "node_tls_reject_unauthorized", "cert_none"),
             "TLS verification disabled"),
    LineRule(TLS_OFF, re.compile(r"\bsslmode\s*[=:]\s*['\"]?(?:disable|allow|prefer)\b", _I), ("sslmode",),
             "PostgreSQL sslmode does not require TLS"),
    LineRule(DEBUG_PROD, re.compile(r"^\s*(?:export\s+)?['\"]?(?:[A-Za-z_]*_)?debug['\"]?\s*[:=]\s*['\"]?"
                                    r"(?:true|yes|on|1)\b", _I | re.MULTILINE),
             ("debug",), "debug enabled", _is_production_config),
    LineRule(CORS_WILDCARD, re.compile(r"Access-Control-Allow-Origin['\"]?\s*[:,=]\s*['\"]?\*|"
                                       r"CORS_(?:ORIGIN_)?ALLOW_ALL(?:_ORIGINS)?\s*=\s*True|"
                                       r"(?:allow_?origins|allowed_?origins|cors_?origins?|origins?)['\"]?\s*[:=]\s*"
                                       r"\[?\s*['\"]\*['\"]", _I),
             ("origin", "cors"), "CORS allows any origin"),
    LineRule(ADMIN_BIND_ALL, re.compile(r"(?:admin|management|debug|pprof|actuator|metrics|console)[A-Za-z_.-]*"
                                        r"(?:addr|address|bind|host|listen)[A-Za-z_]*['\"]?\s*[:=]\s*['\"]?"
                                        r"(?:0\.0\.0\.0|\[::\]|::|\*)(?::\d+)?['\"]?\s*$", _I | re.MULTILINE),
             ("admin", "management", "debug", "pprof", "actuator", "metrics", "console"),
             "admin/debug listener bound to all interfaces"),
)


def check_lines(rel: str, data: bytes, low: bytes) -> List[Finding]:
    """Regex checks on config and code lines, gated by cheap keyword tests."""
    out: List[Finding] = []
    text = None
    for rule in LINE_RULES:
        if rule.applies and not rule.applies(rel):
            continue
        if not any(k.encode() in low for k in rule.keywords):
            continue
        if text is None:
            text = data.decode("utf-8", "replace")
        for m in rule.pattern.finditer(text):
            line = text.count("\n", 0, m.start()) + 1
            snippet = m.group(0).strip()[:80]
            out.append(make_finding(rule.check, f"{rule.message} in {rel}:{line}", Location(file=rel, line=line),
                                    evidence_redacted=snippet))
    return out


def check_filename(rel: str) -> List[Finding]:
    name = os.path.basename(rel)
    if name.endswith(SAFE_SUFFIXES):
        return []
    if any(fnmatch.fnmatchcase(name, pat) for pat in SECRET_FILENAMES):
        return [make_finding(SECRET_NAME, f"{rel} has a secret-like name and is part of the repository",
                             Location(file=rel))]
    return []


_KUBECONFIG = re.compile(rb"^kind:\s*Config\s*$", re.MULTILINE)
_KEY_BEGIN = re.compile(rb"^\s*-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----", re.MULTILINE)


def check_key_material(rel: str, data: bytes) -> List[Finding]:
    """A private key file (PEM or PKCS#12) or a kubeconfig with credentials."""
    low_name = rel.lower()
    if _KEY_BEGIN.match(data[:4096]) or low_name.endswith((".p12", ".pfx")):
        return [make_finding(KEY_FILE, f"{rel} is a private key file", Location(file=rel, line=1))]
    if b"clusters:" in data and b"users:" in data and _KUBECONFIG.search(data):
        if re.search(rb"^\s*(?:client-key-data|token|password|client-key):", data, re.MULTILINE):
            return [make_finding(KEY_FILE, f"{rel} is a kubeconfig with credentials", Location(file=rel))]
    return []


_REQ_LINE = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)(\[[^\]]*\])?\s*(.*)$")


def check_requirements(rel: str, text: str) -> List[Finding]:
    out = []
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.split(" #", 1)[0].strip()
        if not line or line.startswith(("#", "-", "git+", "http:", "https:", "file:", ".")):
            continue
        m = _REQ_LINE.match(line)
        if not m:
            continue
        spec = m.group(3).split(";")[0].strip()
        if not spec.startswith("==") or "*" in spec or "," in spec:
            out.append(make_finding(UNPINNED, f"{m.group(1)} is not pinned with == ({spec or 'no version'})",
                                    Location(file=rel, line=number), evidence_redacted=line[:80]))
    return out


_NPM_EXACT = re.compile(r"^v?\d+\.\d+\.\d+(?:[-+][0-9A-Za-z.-]+)?$")


def check_package_json(rel: str, text: str) -> List[Finding]:
    try:
        doc = json.loads(text)
    except ValueError as exc:
        line = getattr(exc, "lineno", None)
        return [make_finding(UNPARSEABLE, f"{rel}: invalid JSON: {getattr(exc, 'msg', exc)}",
                             Location(file=rel, line=line, column=getattr(exc, "colno", None)))]
    out = []
    lines = text.splitlines()
    for section in ("dependencies", "devDependencies", "optionalDependencies", "peerDependencies"):
        deps = doc.get(section) if isinstance(doc, dict) else None
        if not isinstance(deps, dict):
            continue
        for name, spec in deps.items():
            spec = str(spec)
            if section == "peerDependencies" or _NPM_EXACT.match(spec) or spec.startswith(("file:", "workspace:", "npm:")):
                continue
            line = next((i for i, l in enumerate(lines, 1) if f'"{name}"' in l), None)
            out.append(make_finding(UNPINNED, f"{section}.{name} uses range {spec!r}",
                                    Location(file=rel, line=line, pointer=f"/{section}/{name.replace('/', '~1')}")))
    return out
