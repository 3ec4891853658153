# Copyright: (c) 2026, deploysafe.preflight contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Find pg_dump/pg_restore/psql whose major version can handle the server's."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from typing import Dict, List, Optional

from . import PgError

DEBIAN_ROOT = "/usr/lib/postgresql"  # Debian/Ubuntu: /usr/lib/postgresql/<major>/bin
RPM_ROOT = "/usr"  # PGDG RPMs (RHEL/UBI/Fedora execution environments): /usr/pgsql-<major>/bin
RPM_DIR = re.compile(r"pgsql-(\d+)$")


def parse_client_version(text: str) -> int:
    """'pg_dump (PostgreSQL) 15.10 (Debian 15.10-0+deb12u1)' -> 15; '9.6.24' -> 9 (old scheme: 9.6 -> 9)."""
    match = re.search(r"\)\s*(\d+)(?:\.(\d+))?", text) or re.search(r"(\d+)(?:\.(\d+))?", text)
    if not match:
        raise PgError(f"cannot read a version from {text.strip()!r}")
    return int(match.group(1))


def check_client(tool: str, client_major: int, server_major: int) -> None:
    """pg_dump/pg_restore must be at least the server's major version (newer is fine, older is not)."""
    if client_major < server_major:
        raise PgError(f"{tool} is version {client_major} but the server is PostgreSQL {server_major}: an older "
                      f"client cannot dump or restore a newer server; install postgresql-client-{server_major} "
                      f"or set bindir")


def installed_bindirs(debian_root: str = DEBIAN_ROOT, rpm_root: str = RPM_ROOT) -> Dict[int, List[str]]:
    """{major: [bin directories]} of the PostgreSQL client installs found in the Debian and PGDG RPM layouts."""
    found: Dict[int, List[str]] = {}
    if os.path.isdir(debian_root):
        for name in os.listdir(debian_root):
            if name.isdigit():
                found.setdefault(int(name), []).append(os.path.join(debian_root, name, "bin"))
    if os.path.isdir(rpm_root):
        for name in os.listdir(rpm_root):
            match = RPM_DIR.match(name)
            if match:
                found.setdefault(int(match.group(1)), []).append(os.path.join(rpm_root, name, "bin"))
    return found


def candidate_paths(tool: str, server_major: int, bindir: Optional[str] = None, debian_root: str = DEBIAN_ROOT,
                    rpm_root: str = RPM_ROOT) -> List[str]:
    """Where to look for `tool`, best first: bindir alone if given; else the install matching the server's
    major version, then the others newest first (an older one fails the version check with a clear
    message), then PATH."""
    if bindir:
        return [os.path.join(bindir, tool)]
    installs = installed_bindirs(debian_root, rpm_root)
    majors = sorted(installs, key=lambda m: (m != server_major, -m))
    candidates = [os.path.join(d, tool) for m in majors for d in installs[m]]
    which = shutil.which(tool)
    if which and which not in candidates:
        candidates.append(which)
    return candidates


def find_tool(tool: str, server_major: int, bindir: Optional[str] = None, debian_root: str = DEBIAN_ROOT,
              rpm_root: str = RPM_ROOT) -> str:
    """Path of `tool` (see candidate_paths); then its version is checked against the server's."""
    candidates = candidate_paths(tool, server_major, bindir, debian_root, rpm_root)
    path = next((c for c in candidates if os.path.isfile(c) and os.access(c, os.X_OK)), None)
    if not path:
        raise PgError(f"{tool} not found (looked in {', '.join(candidates) or 'PATH'}); install the PostgreSQL "
                      f"{server_major} client programs or set bindir")
    try:
        out = subprocess.run([path, "--version"], capture_output=True, text=True, timeout=30, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise PgError(f"cannot run {path} --version: {exc}") from None
    check_client(path, parse_client_version(out.stdout), server_major)
    return path
