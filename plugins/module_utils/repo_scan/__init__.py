# Copyright: (c) 2026, deploysafe.preflight contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Repository static analysis for security_scan: every file read once and handed to the secret
detector, the Dockerfile lint, dependency pinning and configuration checks; optionally the added
lines of the git history go through the secret detector as well."""

from __future__ import annotations

import fnmatch
import os
import subprocess
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence, Tuple

from ansible_collections.deploysafe.preflight.plugins.module_utils.findings import Coverage, Finding, Location, make_finding
from ansible_collections.deploysafe.preflight.plugins.module_utils.image.dockerfile import CHECKS as DOCKERFILE_CHECKS
from ansible_collections.deploysafe.preflight.plugins.module_utils.image.dockerfile import lint_dockerfile
from ansible_collections.deploysafe.preflight.plugins.module_utils.repo_scan import checks as rc
from ansible_collections.deploysafe.preflight.plugins.module_utils.secrets import (
    CHECKS as SECRET_CHECKS, Allowlist, ScanStats, SecretScanner, matches_to_findings, walk_files,
)
from ansible_collections.deploysafe.preflight.plugins.module_utils.errors import PreflightError

CHECKS = tuple(SECRET_CHECKS) + tuple(DOCKERFILE_CHECKS) + tuple(rc.CHECKS)


class RepoScanError(PreflightError):
    """The repository cannot be scanned (missing path, git failure when history was asked for)."""


@dataclass
class RepoScanResult:
    findings: List[Finding] = field(default_factory=list)
    stats: ScanStats = field(default_factory=ScanStats)
    files_listed: int = 0
    commits_scanned: int = 0
    source: str = "filesystem"

    def stats_dict(self) -> Dict[str, object]:
        """The `stats` the module returns: counters, notes, files listed, commits read and the file source."""
        return dict(self.stats.summary(), files_listed=self.files_listed, commits_scanned=self.commits_scanned,
                    source=self.source)

    def evidence(self) -> Tuple[Coverage, List[Dict[str, object]]]:
        """(coverage, measurements) for findings.report.finish_scan: files_scanned is what a pass stands on
        (zero is pending); every kind of skipped file is counted next to it."""
        from ansible_collections.deploysafe.preflight.plugins.module_utils.verdict import measurement
        st = self.stats
        meas = [measurement("files_listed", self.files_listed, "files"),
                measurement("files_skipped_binary", st.skipped_binary, "files"),
                measurement("files_skipped_large", st.skipped_large, "files"),
                measurement("files_unreadable", st.skipped_unreadable, "files"),
                measurement("files_allowlisted_for_secrets", st.skipped_allowlisted, "files")]
        if self.commits_scanned:
            meas.append(measurement("commits_scanned", self.commits_scanned, "commits"))
        return Coverage("files_scanned", st.files_scanned, "files"), meas


def _git(root: str, *args: str) -> Optional[bytes]:
    try:
        run = subprocess.run(["git", "-C", root, *args], capture_output=True, timeout=600, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return run.stdout if run.returncode == 0 else None


def list_files(root: str, tracked_only: Optional[bool], stats: ScanStats) -> Tuple[List[str], str]:
    """git-tracked files when root is a git work tree (unless tracked_only is False), else a walk."""
    if tracked_only is not False and os.path.exists(os.path.join(root, ".git")):
        out = _git(root, "ls-files", "-z", "--cached")
        if out is not None:
            files = [p.decode("utf-8", "surrogateescape") for p in out.split(b"\0") if p]
            return [f for f in files if os.path.isfile(os.path.join(root, f)) and
                    not os.path.islink(os.path.join(root, f))], "git"
        if tracked_only:
            raise RepoScanError(f"{root}: git ls-files failed; is git installed and the directory a work tree?")
    return list(walk_files(root, frozenset({".git"}), stats)), "filesystem"


def scan_repository(root: str, *, scan_history: bool = False, tracked_only: Optional[bool] = None,
                    allowlist: Optional[Allowlist] = None, exclude: Sequence[str] = (),
                    max_file_bytes: int = 10 * 1024 * 1024, max_commits: int = 1000) -> RepoScanResult:
    """Run every repository check on root; returns findings with paths relative to root."""
    if not os.path.isdir(root):
        raise RepoScanError(f"{root}: not a directory")
    scanner = SecretScanner(allowlist, max_file_bytes=max_file_bytes)
    result = RepoScanResult()
    files, result.source = list_files(root, tracked_only, result.stats)
    files = [f for f in files if not _excluded(f, exclude)]
    # A directory the walk could not list but the user excluded is not a hole in the scan.
    stats = result.stats
    stats.unreadable_paths = [(rel, why) for rel, why in stats.unreadable_paths if not _excluded(rel, exclude)]
    stats.skipped_unreadable = len(stats.unreadable_paths)
    result.files_listed = len(files)
    findings = result.findings
    for rel in files:
        findings.extend(rc.check_filename(rel))
        data = _read(os.path.join(root, rel), rel, max_file_bytes, result.stats)
        if data is None:
            continue
        findings.extend(rc.check_key_material(rel, data))
        if scanner.allowlist.path_allowed(rel):
            result.stats.skipped_allowlisted += 1
        else:
            findings.extend(matches_to_findings(scanner.scan_bytes(data, rel)))
        low = data.lower()
        findings.extend(rc.check_lines(rel, data, low))
        name = os.path.basename(rel)
        if name == "Dockerfile" or name.startswith("Dockerfile.") or name.endswith(".Dockerfile") \
                or name == "Containerfile":
            findings.extend(lint_dockerfile(data.decode("utf-8", "replace"), rel))
        elif fnmatch.fnmatchcase(name, "requirements*.txt") or fnmatch.fnmatchcase(name, "constraints*.txt"):
            findings.extend(rc.check_requirements(rel, data.decode("utf-8", "replace")))
        elif name == "package.json":
            findings.extend(rc.check_package_json(rel, data.decode("utf-8", "replace")))
    findings.extend(skipped_findings(result.stats, max_file_bytes))
    if scan_history:
        result.commits_scanned = _scan_history(root, scanner, findings, max_commits)
    return result


def skipped_findings(stats: ScanStats, limit: int) -> List[Finding]:
    """A finding for every file the scan did not read: unreadable ones (pending) and those over the limit."""
    out = [make_finding(rc.UNREADABLE, f"{rel}: {reason}; not scanned", Location(file=rel))
           for rel, reason in stats.unreadable_paths]
    out += [make_finding(rc.SKIPPED_LARGE, f"{rel}: {size} bytes is over the {limit} byte limit; not scanned",
                         Location(file=rel)) for rel, size in stats.large_paths]
    return out


def _excluded(rel: str, exclude: Sequence[str]) -> bool:
    """rel matches an exclude glob; a directory also matches the globs of what it holds (dir/*)."""
    return any(fnmatch.fnmatchcase(rel, pat) or fnmatch.fnmatchcase(rel + "/", pat) for pat in exclude)


def _read(path: str, rel: str, limit: int, stats: ScanStats) -> Optional[bytes]:
    try:
        with open(path, "rb") as handle:
            size = os.fstat(handle.fileno()).st_size
            if size > limit:
                stats.too_large(rel, size, limit)
                return None
            data = handle.read()
    except OSError as exc:
        stats.unreadable(rel, str(exc.strerror or exc))
        return None
    if b"\0" in data[:8192]:
        stats.skipped_binary += 1
        return None
    stats.files_scanned += 1
    stats.bytes_scanned += len(data)
    return data


def _scan_history(root: str, scanner: SecretScanner, findings: List[Finding], max_commits: int) -> int:
    """Secrets in lines added by any commit; those still in the tree are already reported."""
    if not os.path.exists(os.path.join(root, ".git")):
        raise RepoScanError(f"{root}: scan_history needs a git repository")
    out = _git(root, "log", "--all", "-p", "-U0", "--no-color", "--no-ext-diff", "--no-renames",
               f"--max-count={max_commits}", "--format=%x00commit %H")
    if out is None:
        raise RepoScanError(f"{root}: git log failed")
    known = {f.fingerprint for f in findings}
    added: Dict[Tuple[str, str], List[bytes]] = {}
    commit, path, commits = "", "", 0
    for line in out.split(b"\n"):
        if line.startswith(b"\0commit "):
            commit, commits = line[8:].decode(), commits + 1
        elif line.startswith(b"+++ "):
            path = line[6:].decode("utf-8", "replace") if line.startswith(b"+++ b/") else ""
        elif line.startswith(b"+") and path:
            added.setdefault((commit, path), []).append(line[1:])
    for (commit, path), lines in added.items():
        for finding in matches_to_findings(scanner.scan_bytes(b"\n".join(lines), path)):
            if finding.fingerprint in known:
                continue
            known.add(finding.fingerprint)
            finding.location = Location(file=path, pointer=f"git:{commit[:12]}")
            finding.message = f"{finding.message.split(' in ')[0]} added in commit {commit[:12]} to {path} " \
                              f"(no longer in the tree, still in history)"
            findings.append(finding)
    return commits
