# Copyright: (c) 2026, deploysafe.preflight contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""One migration step (up or down) run against a scratch database: a SQL file in one transaction,
or a command (the project's migration tool) that finds the database in libpq's PG* variables."""

from __future__ import annotations

import os
import re
import subprocess
import time
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional

from . import PgError
from .connection import ConnParams, connect, require_psycopg

# Enough of a failing tool's output to explain it, never a whole log.
TAIL_CHARS = 2000
_CONSTRAINT = re.compile(r'constraint "([^"]+)"')
_TABLE = re.compile(r'(?:on|of|into) table "([^"]+)"')


@dataclass
class MigrationStep:
    """Exactly one of sql_file and command; env only goes with command."""
    name: str                                   # up | down
    sql_file: Optional[str] = None
    command: List[str] = field(default_factory=list)
    env: Dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_params(cls, name: str, params: Optional[Dict[str, Any]]) -> Optional["MigrationStep"]:
        """From the module's {sql_file} or {command, env} dict; None when not given."""
        if not params:
            return None
        sql_file, command = params.get("sql_file"), list(params.get("command") or [])
        if bool(sql_file) == bool(command):
            raise PgError(f"{name}_migration: give exactly one of sql_file and command")
        if sql_file and params.get("env"):
            raise PgError(f"{name}_migration: env applies to a command, not to sql_file")
        return cls(name=name, sql_file=sql_file, command=[str(a) for a in command],
                   env={str(k): str(v) for k, v in (params.get("env") or {}).items()})

    def describe(self) -> Dict[str, Any]:
        if self.sql_file:
            return {"sql_file": self.sql_file, "transaction": True}
        return {"command": self.command, "env": sorted(self.env)}

    def check(self) -> None:
        """Input errors before anything is restored: the file must be readable, the program found."""
        if self.sql_file:
            if not os.path.isfile(self.sql_file) or not os.access(self.sql_file, os.R_OK):
                raise PgError(f"{self.name}_migration.sql_file {self.sql_file} does not exist or is not readable")
        elif not self.command[0].strip():
            raise PgError(f"{self.name}_migration.command has an empty program name")


@dataclass
class StepResult:
    name: str
    ok: bool
    seconds: float
    error: Optional[str] = None
    sqlstate: Optional[str] = None
    constraint: Optional[str] = None
    table: Optional[str] = None
    output_tail: Optional[str] = None

    def as_dict(self) -> Dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if v is not None}


def run_step(params: ConnParams, step: MigrationStep, timeout: float) -> StepResult:
    """Run the step against the database of `params`; a failure is a StepResult with ok False that
    names the constraint (and table) when PostgreSQL named one, never an exception."""
    started = time.monotonic()
    if step.sql_file:
        out = _run_sql_file(params, step, timeout)
    else:
        out = _run_command(params, step, timeout)
    out.seconds = round(time.monotonic() - started, 3)
    return out


def _run_sql_file(params: ConnParams, step: MigrationStep, timeout: float) -> StepResult:
    """The whole file in one transaction (simple query protocol, so several statements are fine): it
    commits completely or not at all. psql meta-commands (\\connect, \\copy) are not SQL: use command."""
    lib = require_psycopg()
    try:
        with open(step.sql_file, encoding="utf-8") as handle:
            text = handle.read()
    except (OSError, UnicodeDecodeError) as exc:
        raise PgError(f"cannot read {step.name}_migration.sql_file {step.sql_file}: {exc}") from None
    # Not pinned: a migration expects the server's search_path and settings, as it has in production.
    conn = connect(params, autocommit=False, pin=False)
    try:
        try:
            conn.execute("SELECT pg_catalog.set_config('statement_timeout', %s, true)", (f"{int(timeout * 1000)}",))
            conn.execute(text.encode("utf-8"))
            conn.commit()
        except lib.Error as exc:
            conn.rollback()
            diag = getattr(exc, "diag", None)
            table = getattr(diag, "table_name", None)
            schema = getattr(diag, "schema_name", None)
            return StepResult(step.name, False, 0.0, error=" ".join(str(exc).split())[:TAIL_CHARS],
                              sqlstate=getattr(exc, "sqlstate", None),
                              constraint=getattr(diag, "constraint_name", None),
                              table=f"{schema}.{table}" if schema and table else table)
    finally:
        conn.close()
    return StepResult(step.name, True, 0.0)


def _run_command(params: ConnParams, step: MigrationStep, timeout: float) -> StepResult:
    """The command with the scratch database in PGHOST/PGPORT/PGUSER/PGPASSWORD/PGDATABASE (and the
    TLS variables): the password never appears on a command line."""
    env = {**params.env(), **step.env}
    try:
        run = subprocess.run(step.command, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, timeout=timeout, check=False)
    except FileNotFoundError:
        raise PgError(f"{step.name}_migration.command: program {step.command[0]!r} not found") from None
    except PermissionError:
        raise PgError(f"{step.name}_migration.command: program {step.command[0]!r} is not executable") from None
    except subprocess.TimeoutExpired:
        return StepResult(step.name, False, 0.0, error=f"{step.command[0]} did not finish within {timeout:.0f} s")
    text = run.stdout.decode("utf-8", "replace")
    if params.password:
        text = text.replace(params.password, "********")
    tail = text[-TAIL_CHARS:].strip() or None
    if run.returncode == 0:
        return StepResult(step.name, True, 0.0, output_tail=tail)
    constraint = _CONSTRAINT.findall(text)
    table = _TABLE.findall(text)
    lines = [line for line in text.splitlines() if "ERROR" in line or "FATAL" in line]
    return StepResult(step.name, False, 0.0,
                      error=f"{os.path.basename(step.command[0])} exited with status {run.returncode}"
                            + (f": {lines[-1].strip()}" if lines else ""),
                      constraint=constraint[-1] if constraint else None, table=table[-1] if table else None,
                      output_tail=tail)
