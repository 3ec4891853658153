# Copyright: (c) 2026, deploysafe.preflight contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Run pgbackrest (and the server programs) as the operating-system user that owns the data directory.

pgBackRest refuses nothing as root, but files it writes as root would be unreadable to the server's
archive_command afterwards: every command runs as that user (os_user; by default the owner of pg1-path
when this process is root). The database password travels in PGPASSWORD, never in argv.
"""

from __future__ import annotations

import json
import os
import pwd
import re
import shutil
import subprocess
import time
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Sequence

from . import PgBackRestError
from .config import StanzaConfig

# verify --log-level-console=info names each bad file: "invalid checksum '<label>/pg_data/base/1/1247.zst'"
_VERIFY_FILE = re.compile(r"INFO: (invalid checksum|invalid size|missing|file missing|invalid result[^']*?) '([^']+)'")


def default_os_user(pg_path: str) -> Optional[str]:
    """The data directory's owner when this process is root (the server's user), else None (run as self)."""
    if os.geteuid() != 0:
        return None
    try:
        return pwd.getpwuid(os.stat(pg_path).st_uid).pw_name
    except (OSError, KeyError):
        return None


@dataclass
class Run:
    argv: List[str]
    returncode: int
    stdout: str
    stderr: str
    duration_s: float

    def error_text(self, lines: int = 8) -> str:
        """The last lines of what pgBackRest said on failure (its ERROR lines first)."""
        text = (self.stderr.strip() or self.stdout.strip())
        errors = [line for line in text.splitlines() if "ERROR" in line or "HINT" in line]
        return " / ".join((errors or text.splitlines())[-lines:]) or f"exit code {self.returncode}"


@dataclass
class PgBackRest:
    """One stanza of one configuration file, run as os_user."""
    config: StanzaConfig
    binary: str = "pgbackrest"
    os_user: Optional[str] = None
    password: Optional[str] = None
    extra_env: Dict[str, str] = field(default_factory=dict)

    def _user_kwargs(self) -> Dict[str, Any]:
        if not self.os_user or os.geteuid() != 0:
            return {}
        try:
            ent = pwd.getpwnam(self.os_user)
        except KeyError:
            raise PgBackRestError(f"operating-system user {self.os_user!r} does not exist") from None
        return {"user": ent.pw_uid, "group": ent.pw_gid, "extra_groups": []}

    def env(self) -> Dict[str, str]:
        # The configuration file is the one source of settings: PGBACKREST_* variables of the calling environment
        # would silently override it, and a PGHOST/PGPORT meant for another server would steer client programs.
        env = {k: v for k, v in os.environ.items() if not k.startswith(("PGBACKREST_", "PGHOST", "PGPORT"))}
        if self.password:
            env["PGPASSWORD"] = self.password
        env.update(self.extra_env)
        return env

    def program(self, argv: Sequence[str], timeout: float = 3600, check: bool = False, what: str = "") -> Run:
        """Run any program (pg_ctl, pg_amcheck...) as os_user from / (os_user may not reach our cwd)."""
        started = time.monotonic()
        try:
            out = subprocess.run(list(argv), capture_output=True, text=True, timeout=timeout, cwd="/",
                                 env=self.env(), check=False, **self._user_kwargs())
        except FileNotFoundError:
            raise PgBackRestError(f"{argv[0]} not found: install it (Debian package "
                                  f"{'pgbackrest' if 'pgbackrest' in argv[0] else 'postgresql'})") from None
        except subprocess.TimeoutExpired:
            raise PgBackRestError(f"{what or argv[0]} did not finish within {timeout:.0f} s") from None
        run = Run(list(argv), out.returncode, out.stdout, out.stderr, round(time.monotonic() - started, 3))
        if check and run.returncode != 0:
            raise PgBackRestError(f"{what or ' '.join(argv[:3])} failed (exit {run.returncode}): {run.error_text()}")
        return run

    def run(self, command: str, *options: str, timeout: float = 3600, check: bool = False) -> Run:
        """pgbackrest --config=<file> --stanza=<stanza> <command> <options>."""
        if not shutil.which(self.binary):
            raise PgBackRestError(f"{self.binary} not found: install pgBackRest (Debian/Ubuntu package pgbackrest)")
        argv = [self.binary, f"--config={self.config.path}", f"--stanza={self.config.stanza}", command, *options]
        return self.program(argv, timeout=timeout, check=check,
                            what=f"pgbackrest {command} (stanza {self.config.stanza}, config {self.config.path})")

    def info(self) -> Dict[str, Any]:
        """The stanza's entry of `pgbackrest info --output=json`."""
        run = self.run("info", "--output=json", timeout=300, check=True)
        try:
            stanzas = json.loads(run.stdout)
        except ValueError:
            raise PgBackRestError(f"pgbackrest info printed no JSON: {run.stdout[:200]!r}") from None
        for entry in stanzas:
            if entry.get("name") == self.config.stanza:
                return entry
        raise PgBackRestError(f"pgbackrest info does not list stanza {self.config.stanza}")

    def version(self) -> str:
        run = self.program([self.binary, "version"], timeout=60, check=True, what="pgbackrest version")
        return run.stdout.strip().replace("pgBackRest ", "")


def backups(info: Dict[str, Any]) -> List[Dict[str, Any]]:
    """The stanza's backups, oldest first (pgbackrest info lists them so; sorted again to be sure)."""
    return sorted(info.get("backup") or [], key=lambda b: (b.get("timestamp") or {}).get("stop") or 0)


def stanza_missing(info: Dict[str, Any]) -> bool:
    """True when the repository has no stanza yet (info status code 1: missing stanza path)."""
    return (info.get("status") or {}).get("code") == 1


@dataclass
class VerifyReport:
    ok: bool
    status: str
    bad_files: List[Dict[str, str]]
    text: str
    duration_s: float


def verify_repository(runner: PgBackRest, timeout: float = 3600) -> VerifyReport:
    """`pgbackrest verify`: checksums of every backup file and WAL segment in the repository."""
    # --verbose makes the text report appear also when all is well; info-level console logging names files.
    return parse_verify(runner.run("verify", "--output=text", "--verbose", "--log-level-console=info", timeout=timeout))


def parse_verify(run: Run) -> VerifyReport:
    """verify exits 0 even when it finds damage (2.45): the text report's `status:` line decides, and the
    info log lines name each damaged file."""
    text = run.stdout + "\n" + run.stderr
    status = re.search(r"^\s*(?:\S+\s+\S+\s+P\d+\s+INFO:\s+)?status:\s*(\w+)", text, re.M)
    bad = [{"problem": m.group(1), "file": m.group(2)} for m in _VERIFY_FILE.finditer(text)]
    state = status.group(1) if status else ("error" if run.returncode else "unknown")
    ok = run.returncode == 0 and state == "ok" and not bad
    summary = run.error_text() if run.returncode else " / ".join(
        line.strip() for line in run.stdout.splitlines() if "status:" in line)[:1000]
    return VerifyReport(ok=ok, status=state, bad_files=bad, text=summary, duration_s=run.duration_s)
