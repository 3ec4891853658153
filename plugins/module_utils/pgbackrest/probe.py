# Copyright: (c) 2026, deploysafe.preflight contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a restored scratch cluster proves: recovery finished, every database connects, pg_amcheck is
clean (heap and B-tree), the markers are as expected, and how many rows each table holds."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional

from ..localhost import pid_alive
from ..pg.connection import require_psycopg
from . import PgBackRestError
from .command import PgBackRest
from .scratch import Scratch, log_tail, read_pid
from .source import MARKER_TABLE


def _connect(scratch: Scratch, user: Optional[str], dbname: str = "postgres"):
    return require_psycopg().connect(**scratch.conninfo(user, dbname), autocommit=True)


def wait_promoted(scratch: Scratch, user: Optional[str], timeout: float) -> Dict[str, Any]:
    """Wait until recovery is over (pg_is_in_recovery() false); PgBackRestError with the server's own words
    when it stops first (e.g. FATAL: recovery ended before configured recovery target was reached)."""
    lib = require_psycopg()
    deadline = time.monotonic() + timeout
    last = ""
    while time.monotonic() < deadline:
        pid = read_pid(scratch) or scratch.postmaster_pid
        if not pid or not pid_alive(pid):
            raise PgBackRestError(f"the scratch cluster stopped during recovery: {log_tail(scratch) or 'no log'}")
        try:
            with _connect(scratch, user) as conn:
                row = conn.execute("SELECT pg_catalog.pg_is_in_recovery(), "
                                   "extract(epoch FROM pg_catalog.pg_last_xact_replay_timestamp())::float8").fetchone()
            if not row[0]:
                return {"last_replayed_xact_at": row[1]}
        except lib.Error as exc:
            last = " ".join(str(exc).split())
        time.sleep(0.2)
    raise PgBackRestError(f"recovery of the scratch cluster did not finish within {timeout:.0f} s "
                          f"({last or 'still in recovery'}); server log: {log_tail(scratch)}")


@dataclass
class DataProof:
    databases: List[str] = field(default_factory=list)
    unconnectable: List[Dict[str, str]] = field(default_factory=list)
    row_counts: Dict[str, Dict[str, int]] = field(default_factory=dict)  # database -> table -> rows
    marker_tokens: List[str] = field(default_factory=list)


def prove_data(scratch: Scratch, user: Optional[str], marker_db: str) -> DataProof:
    """Connect to every database that allows connections, count every user table's rows, read the markers."""
    lib = require_psycopg()
    proof = DataProof()
    with _connect(scratch, user) as conn:
        proof.databases = [r[0] for r in conn.execute(
            "SELECT datname FROM pg_catalog.pg_database WHERE datallowconn ORDER BY datname").fetchall()]
    for db in proof.databases:
        try:
            with _connect(scratch, user, db) as conn:
                tables = conn.execute(
                    "SELECT format('%I.%I', n.nspname, c.relname) FROM pg_catalog.pg_class c "
                    "JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
                    "WHERE c.relkind IN ('r', 'm') AND n.nspname NOT IN ('pg_catalog', 'information_schema') "
                    "AND n.nspname NOT LIKE 'pg_toast%%' AND NOT c.relispartition ORDER BY 1").fetchall()
                counts = {}
                for (name,) in tables:
                    # name is format('%I.%I'): already quoted by the server
                    counts[name] = int(conn.execute(f"SELECT count(*) FROM {name}").fetchone()[0])
                if tables:
                    proof.row_counts[db] = counts
                if db == marker_db and conn.execute("SELECT to_regclass(%s) IS NOT NULL", (MARKER_TABLE,)).fetchone()[0]:
                    proof.marker_tokens = [r[0] for r in conn.execute(f"SELECT token FROM {MARKER_TABLE}").fetchall()]
        except lib.Error as exc:
            proof.unconnectable.append({"database": db, "error": " ".join(str(exc).split())[:300]})
    return proof


@dataclass
class AmcheckReport:
    clean: bool
    exit_code: int
    problems: List[str]
    duration_s: float


def amcheck(runner: PgBackRest, scratch: Scratch, user: Optional[str], bindir: str, heapallindexed: bool = True,
            jobs: int = 2, timeout: float = 3600) -> AmcheckReport:
    """pg_amcheck over every database (heap and B-tree indexes), installing the amcheck extension in the
    scratch cluster where it is missing; clean means exit 0 and nothing reported."""
    argv = [os.path.join(bindir, "pg_amcheck"), "-h", scratch.socket_dir, "-p", str(scratch.port),
            "-U", user or "postgres", "--all", "--install-missing", f"--jobs={max(1, jobs)}", "--no-password"]
    if heapallindexed:
        argv.append("--heapallindexed")
    run = runner.program(argv, timeout=timeout, what="pg_amcheck")
    lines = [line for line in (run.stdout + "\n" + run.stderr).splitlines() if line.strip()]
    return AmcheckReport(clean=run.returncode == 0 and not lines, exit_code=run.returncode,
                         problems=lines[:50], duration_s=run.duration_s)
