# Copyright: (c) 2026, deploysafe.preflight contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Secret detection engine shared by image_validate and security_scan.

Provider patterns (rules.py) plus entropy with per-charset thresholds, an allowlist by path glob,
regex and fingerprint, and an inline `pragma: allowlist secret` / `preflight: allow-secret` marker.
Binary and huge files are skipped with a note. Secret values never leave this module: a match
carries a salted fingerprint and a redacted preview only.
"""

from __future__ import annotations

import fnmatch
import hashlib
import os
import re
from dataclasses import dataclass, field
from typing import Dict, Iterable, List, Optional, Sequence, Tuple

from ansible_collections.deploysafe.preflight.plugins.module_utils.files import walk_files  # noqa: F401 (used by repo_scan, manifests)
from ansible_collections.deploysafe.preflight.plugins.module_utils.findings import Finding, Location
from ansible_collections.deploysafe.preflight.plugins.module_utils.secrets.rules import (
    CHECKS, CODE_SUFFIXES, KEY_NAME, RULES, Rule,
)
from ansible_collections.deploysafe.preflight.plugins.module_utils.secrets.values import (  # noqa: F401 (public API)
    ENTROPY_THRESHOLDS, charset_of, entropy_ok, not_a_literal, shannon_entropy,
)

__all__ = ["CHECKS", "Allowlist", "SecretMatch", "ScanStats", "SecretScanner", "fingerprint", "redact",
           "shannon_entropy", "entropy_ok", "matches_to_findings"]

MAX_FILE_BYTES = 10 * 1024 * 1024
BINARY_SNIFF = 8192
# Salted so a short fingerprint of a weak password is not a plain sha256 lookup.
_FP_SALT = b"deploysafe.preflight/secret-fingerprint/v1\0"
_INLINE_ALLOW = (b"pragma: allowlist secret", b"preflight: allow-secret", b"gitleaks:allow")
# Prose: `password: required` is a sentence there, so an unquoted letters-only value is not reported.
_PROSE_SUFFIXES = (".md", ".rst", ".txt", ".html", ".htm", ".adoc")
_KEY_CHARS = frozenset(b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-")
_LETTERS_ONLY = re.compile(r"[A-Za-z]+\Z")
# An Ansible Vault file is encrypted by design; its hex body is not a leak.
_VAULT_HEADER = b"$ANSIBLE_VAULT;"


def fingerprint(rule_id: str, value: bytes) -> str:
    return hashlib.sha256(_FP_SALT + value).hexdigest()[:20]


def redact(value: str) -> str:
    """A preview that identifies nothing: a short prefix only for long values, then stars and length."""
    keep = 4 if len(value) >= 20 else 2 if len(value) >= 12 else 0
    return value[:keep] + "*" * min(max(len(value) - keep, 3), 12) + f" ({len(value)} chars)"


@dataclass
class Allowlist:
    paths: Sequence[str] = ()  # globs matched against the relative path
    regexes: Sequence[str] = ()  # searched in the line that holds the match
    fingerprints: Sequence[str] = ()
    compiled: List["re.Pattern[bytes]"] = field(default_factory=list, init=False, repr=False)

    def __post_init__(self) -> None:
        self.compiled = [re.compile(r.encode()) for r in self.regexes]

    def path_allowed(self, rel: str) -> bool:
        return any(fnmatch.fnmatchcase(rel, p) or fnmatch.fnmatchcase(os.path.basename(rel), p) for p in self.paths)


@dataclass
class SecretMatch:
    check_id: str
    title: str
    severity: str
    file: str
    line: int
    column: int
    fingerprint: str
    preview: str
    layer: str = ""
    pointer: str = ""


@dataclass
class ScanStats:
    """What a scan read and what it skipped. Skipped paths are kept (not only counted) so the callers can
    turn them into findings: a file that was not read must never vanish from the report."""

    files_scanned: int = 0
    bytes_scanned: int = 0
    skipped_binary: int = 0
    skipped_large: int = 0
    skipped_unreadable: int = 0
    skipped_allowlisted: int = 0
    notes: List[str] = field(default_factory=list)
    max_notes: int = 50
    large_paths: List[Tuple[str, int]] = field(default_factory=list)  # (relative path, size in bytes)
    unreadable_paths: List[Tuple[str, str]] = field(default_factory=list)  # (relative path, reason)

    def note(self, text: str) -> None:
        if len(self.notes) < self.max_notes:
            self.notes.append(text)

    def too_large(self, rel: str, size: int, limit: int) -> None:
        self.skipped_large += 1
        self.large_paths.append((rel, size))
        self.note(f"{rel}: skipped, {size} bytes is over the {limit} byte limit")

    def unreadable(self, rel: str, reason: str) -> None:
        self.skipped_unreadable += 1
        self.unreadable_paths.append((rel, reason))
        self.note(f"{rel}: unreadable: {reason}")

    def add(self, other: "ScanStats") -> None:
        """Fold the stats of a part of the scan (one worker's chunk) into these."""
        for key in ("files_scanned", "bytes_scanned", "skipped_binary", "skipped_large", "skipped_unreadable",
                    "skipped_allowlisted"):
            setattr(self, key, getattr(self, key) + getattr(other, key))
        self.large_paths.extend(other.large_paths)
        self.unreadable_paths.extend(other.unreadable_paths)
        for text in other.notes:
            self.note(text)

    def summary(self) -> Dict[str, object]:
        """The counters and notes, without the path lists (those become findings)."""
        return {"files_scanned": self.files_scanned, "bytes_scanned": self.bytes_scanned,
                "skipped_binary": self.skipped_binary, "skipped_large": self.skipped_large,
                "skipped_unreadable": self.skipped_unreadable, "skipped_allowlisted": self.skipped_allowlisted,
                "notes": list(self.notes)}


class SecretScanner:
    """Scan bytes, files or trees. One keyword search per file selects the rules to run."""

    def __init__(self, allowlist: Optional[Allowlist] = None, max_file_bytes: int = MAX_FILE_BYTES,
                 rules: Sequence[Rule] = RULES, thresholds=None) -> None:
        self.allowlist = allowlist or Allowlist()
        self.max_file_bytes = max_file_bytes
        self.rules = tuple(rules)
        self.thresholds = dict(ENTROPY_THRESHOLDS, **(thresholds or {}))
        self._keywords = sorted({k for r in self.rules for k in r.keywords})

    def scan_bytes(self, data: bytes, origin: str, layer: str = "", pointer: str = "") -> List[SecretMatch]:
        if data.startswith(_VAULT_HEADER):
            return []
        # bytes.lower() and `in` are C loops: far cheaper than one case-insensitive alternation regex.
        low = data.lower()
        present = {k for k in self._keywords if k in low}
        if not present:
            return []
        out: List[SecretMatch] = []
        seen = set()
        gated: Dict[Tuple["re.Pattern[bytes]", int], List[Tuple[int, int]]] = {}
        name = origin.lower()
        is_code = name.endswith(CODE_SUFFIXES)
        is_prose = name.endswith(_PROSE_SUFFIXES)
        base = os.path.basename(name)
        for rule in self.rules:
            hits = [k for k in rule.keywords if k in present]
            if not hits or (rule.config_only and is_code) or (rule.files and not base.endswith(rule.files)):
                continue
            if not rule.line_scoped:
                spans = [(0, len(data))]
            elif rule.gate is not None:
                key = (rule.gate, rule.lines_after)
                if key not in gated:
                    gated[key] = _gate_lines(low, rule.gate, rule.lines_after)
                spans = gated[key]
            else:
                spans = _keyword_lines(low, hits, rule.lines_after)
            subject = low if rule.key_tail else data
            for m in (m for a, b in spans for m in rule.pattern.finditer(subject, a, b)):
                found = self._judge(rule, m, data, is_prose)
                if found is None:
                    continue
                line, column, fp, value = found
                if (line, fp) in seen:
                    continue
                seen.add((line, fp))
                out.append(SecretMatch(rule.check.check_id, rule.check.title, rule.check.severity, origin, line,
                                       column, fp, redact(value), layer, pointer))
        out.sort(key=lambda x: (x.line, x.column))
        return out

    def _judge(self, rule: Rule, m: "re.Match[bytes]", data: bytes,
               is_prose: bool) -> Optional[Tuple[int, int, str, str]]:
        """(line, column, fingerprint, value) of a match that is a secret, None for one that is not."""
        start = m.start("v")
        raw = data[start:m.end("v")]  # from the data: a key_tail rule matched the lowercased copy
        value = raw.decode("utf-8", "replace").strip()
        line_begin = data.rfind(b"\n", 0, start) + 1
        line_end = data.find(b"\n", start)
        line_text = data[line_begin:line_end if line_end >= 0 else len(data)]
        if rule.key_tail:
            key_start = m.start("k")
            while key_start and data[key_start - 1] in _KEY_CHARS:
                key_start -= 1
            if not KEY_NAME.match(data, key_start, m.end("k")):
                return None  # the key only contains the word (passwordForPassenger, publicKey)
            if key_start and data[key_start - 1] in b":/":
                return None  # a segment of an ARN, URN or path (arn:aws:secretsmanager:...:secret:name)
            key = data[key_start:m.end("k")].decode("utf-8", "replace")
        else:
            key = (m.group("k") or b"").decode("utf-8", "replace") if "k" in rule.pattern.groupindex else ""
        if rule.boundary and start and data[start - 1:start].isalnum():
            return None
        if "op" in rule.pattern.groupindex and m.group("op") in (b"==", b"===") and value.isalpha():
            return None  # `mode == 'always'`: a comparison with a word is an enum, not a password
        if rule.entropy and not entropy_ok(value, self.thresholds):
            return None
        if rule.drop is not None and rule.drop(value, key, line_text):
            return None
        if is_prose and rule.config_only and _LETTERS_ONLY.match(value):
            return None
        fp = fingerprint(rule.check.check_id, raw.strip())
        if fp in self.allowlist.fingerprints:
            return None
        if any(a in line_text for a in _INLINE_ALLOW) or any(r.search(line_text) for r in self.allowlist.compiled):
            return None
        return data.count(b"\n", 0, start) + 1, start - line_begin + 1, fp, value

    def scan_file(self, path: str, rel: str, stats: ScanStats) -> List[SecretMatch]:
        if self.allowlist.path_allowed(rel):
            stats.skipped_allowlisted += 1
            return []
        try:
            with open(path, "rb") as handle:
                size = os.fstat(handle.fileno()).st_size
                if size > self.max_file_bytes:
                    stats.too_large(rel, size, self.max_file_bytes)
                    return []
                data = handle.read()
                if b"\0" in data[:BINARY_SNIFF]:
                    stats.skipped_binary += 1
                    return []
        except OSError as exc:
            stats.unreadable(rel, str(exc.strerror or exc))
            return []
        stats.files_scanned += 1
        stats.bytes_scanned += len(data)
        return self.scan_bytes(data, rel)

    def scan_tree(self, root: str, exclude_dirs: Iterable[str] = (".git",),
                  workers: int = 1) -> Tuple[List[SecretMatch], ScanStats]:
        """Walk root without following symlinks (no loops), scanning every regular file once.

        workers > 1 scans chunks of files in that many processes (results are identical, in path order).
        """
        stats = ScanStats()
        matches: List[SecretMatch] = []
        if os.path.isfile(root):
            return self.scan_file(root, os.path.basename(root), stats), stats
        files = list(walk_files(root, set(exclude_dirs), stats))
        if workers <= 1 or len(files) < 200:
            for rel in files:
                matches.extend(self.scan_file(os.path.join(root, rel), rel, stats))
            return matches, stats
        from concurrent.futures import ProcessPoolExecutor
        chunks = [files[i:i + 256] for i in range(0, len(files), 256)]
        with ProcessPoolExecutor(max_workers=workers) as pool:
            for found, part in pool.map(_scan_chunk, [(self, root, chunk) for chunk in chunks]):
                matches.extend(found)
                stats.add(part)
        return matches, stats


def _scan_chunk(job: Tuple["SecretScanner", str, List[str]]) -> Tuple[List[SecretMatch], ScanStats]:
    scanner, root, rels = job
    stats = ScanStats()
    found: List[SecretMatch] = []
    for rel in rels:
        found.extend(scanner.scan_file(os.path.join(root, rel), rel, stats))
    return found, stats


def _keyword_lines(low: bytes, keywords: Sequence[bytes], lines_after: int = 0) -> List[Tuple[int, int]]:
    """Sorted (start, end) spans of the lines that contain one of the keywords, each extended by
    lines_after following lines."""
    spans = set()
    for kw in keywords:
        pos = low.find(kw)
        while pos >= 0:
            begin = low.rfind(b"\n", 0, pos) + 1
            line_end = end = low.find(b"\n", pos)
            for _line in range(lines_after):
                if end < 0:
                    break
                end = low.find(b"\n", end + 1)
            spans.add((begin, len(low) if end < 0 else end))
            pos = -1 if line_end < 0 else low.find(kw, line_end + 1)
    return sorted(spans)


def _gate_lines(low: bytes, gate: "re.Pattern[bytes]", lines_after: int) -> List[Tuple[int, int]]:
    """Sorted (start, end) spans of the lines where gate matches, each extended by lines_after lines."""
    spans = []
    last_end = -1
    for m in gate.finditer(low):
        if m.start() <= last_end:
            continue  # same line as the previous hit
        begin = low.rfind(b"\n", 0, m.start()) + 1
        line_end = end = low.find(b"\n", m.start())
        for _line in range(lines_after):
            if end < 0:
                break
            end = low.find(b"\n", end + 1)
        spans.append((begin, len(low) if end < 0 else end))
        last_end = len(low) if line_end < 0 else line_end
    return spans


def matches_to_findings(matches: Iterable[SecretMatch], origin_prefix: str = "") -> List[Finding]:
    """Findings for secret matches: fingerprint and redacted preview only, never the value."""
    remediation = next(iter(CHECKS)).remediation
    out = []
    for m in matches:
        where = f"{origin_prefix}{m.file}"
        out.append(Finding(check_id=m.check_id, severity=m.severity,
                           message=f"{m.title} in {where}:{m.line} (fingerprint {m.fingerprint})",
                           location=Location(file=where, line=m.line or None, column=m.column or None,
                                             layer=m.layer, pointer=m.pointer),
                           remediation=remediation, evidence_redacted=m.preview, fingerprint=m.fingerprint))
    return out
