# Copyright: (c) 2026, deploysafe.preflight contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Find pg_dump/pg_restore/psql whose major version can handle the server's."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from typing import Optional

from . import PgError

DEBIAN_ROOT = "/usr/lib/postgresql"
DEBIAN_BINDIR = DEBIAN_ROOT + "/{major}/bin"


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


def find_tool(tool: str, server_major: int, bindir: Optional[str] = None) -> str:
    """Path of `tool`: bindir if given, else /usr/lib/postgresql/<server major>/bin, else the newest
    Debian-layout install, else PATH; then its version is checked against the server's."""
    candidates = []
    if bindir:
        candidates.append(os.path.join(bindir, tool))
    else:
        candidates.append(os.path.join(DEBIAN_BINDIR.format(major=server_major), tool))
        if os.path.isdir(DEBIAN_ROOT):
            majors = sorted((int(d) for d in os.listdir(DEBIAN_ROOT) if d.isdigit()), reverse=True)
            candidates += [os.path.join(DEBIAN_BINDIR.format(major=m), tool) for m in majors]
        which = shutil.which(tool)
        if which:
            candidates.append(which)
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
