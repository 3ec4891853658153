# Copyright: (c) 2026, deploysafe.preflight contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""copy_sha256 fingerprints of live tables: sha256 + line count of `COPY table (columns) TO STDOUT`.

They equal the fingerprints dumpstream.py reads from pg_dump's output when the session prints rows the
way pg_dump's did (COPY_SETTINGS, plus the dump's client_encoding and lc_monetary from the manifest) and
the rows come in the same order. The order is the heap's: synchronize_seqscans is off, so a scan starts
at block 0, and pg_restore loads each table with one COPY in the dump's order into a new heap, so a
restored table scans in the order it was dumped. A database filled some other way (logical replication,
CLUSTER, VACUUM FULL after updates) may hold the same rows in another order: that shows as a difference.
Large tables are read through psql (C speed, GIL-free hashing of 1 MiB reads), small ones via psycopg.
"""

from __future__ import annotations

import hashlib
import re
import subprocess
import tempfile
import threading
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

from . import PgError
from .connection import ConnParams, connect, quote_ident
from .content import SPLIT_BLOCKS, run_per_connection
from .tools import find_tool

METHOD = "copy_sha256"
# What pg_dump sets for itself (setup_connection) or what run_backup pins for it (TimeZone, bytea_output).
COPY_SETTINGS = {"DateStyle": "ISO", "IntervalStyle": "postgres", "extra_float_digits": "3", "TimeZone": "UTC",
                 "bytea_output": "hex", "synchronize_seqscans": "off", "row_security": "off"}
DUMP_PGOPTIONS = "-c TimeZone=UTC -c bytea_output=hex"
CHUNK = 1 << 20
PSQL_MIN_BLOCKS = 256  # tables of 2 MB and more go through psql; process start-up beats per-row Python below
_SAFE_SETTING = re.compile(r"[A-Za-z0-9_.@-]+\Z")

_COLUMNS_SQL = """
SELECT pg_catalog.string_agg(pg_catalog.quote_ident(a.attname), ', ' ORDER BY a.attnum),
       pg_catalog.pg_relation_size(c.oid) / pg_catalog.current_setting('block_size')::int8
FROM pg_catalog.pg_class c LEFT JOIN pg_catalog.pg_attribute a
  ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped {generated}
WHERE c.oid = %s::pg_catalog.regclass GROUP BY c.oid
"""


def session_settings(copy_settings: Dict[str, Any]) -> Dict[str, str]:
    """COPY_SETTINGS plus the dump's client_encoding and lc_monetary (as recorded in the manifest)."""
    out = dict(COPY_SETTINGS, lc_monetary="C")  # C, as connect() pins it, when the manifest has none
    for name in ("client_encoding", "lc_monetary"):
        value = (copy_settings or {}).get(name)
        if value and _SAFE_SETTING.match(str(value)):
            out[name] = str(value)
    return out


def copy_statement(schema: str, table: str, columns: Optional[str]) -> str:
    """pg_dump's own statement shape: the column list leaves out dropped and generated columns."""
    rel = f"{quote_ident(schema)}.{quote_ident(table)}"
    return f"COPY {rel} ({columns}) TO STDOUT" if columns else f"COPY {rel} TO STDOUT"


def _plan(conn, tables: Sequence[Tuple[str, str]], server_major: int) -> List[Tuple[int, str, str, str, str]]:
    """(blocks, schema, table, COPY statement, column list), largest first."""
    sql = _COLUMNS_SQL.format(generated="AND a.attgenerated = ''" if server_major >= 12 else "")
    plan = []
    for schema, table in tables:
        columns, blocks = conn.execute(sql, (f"{quote_ident(schema)}.{quote_ident(table)}",)).fetchone()
        plan.append((int(blocks or 0), schema, table, copy_statement(schema, table, columns), columns))
    return sorted(plan, key=lambda item: -item[0])


def _via_psycopg(conn, statement: str, consume: Callable[[bytes], None]) -> None:
    with conn.cursor() as cur:
        with cur.copy(statement) as copy:
            for data in copy:
                consume(bytes(data))


def _via_psql(psql: str, params: ConnParams, settings: Dict[str, str], statement: str,
              consume: Callable[[bytes], None]) -> None:
    """Run one COPY ... TO STDOUT through psql, handing its output to consume() in 1 MiB pieces."""
    env = params.env()
    env["PGOPTIONS"] = " ".join(f"-c {name}={value}" for name, value in settings.items()
                                if name != "client_encoding")
    if "client_encoding" in settings:
        env["PGCLIENTENCODING"] = settings["client_encoding"]
    proc = subprocess.Popen([psql, "-X", "-q", "--no-password", "-v", "ON_ERROR_STOP=1", "-c", statement],
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    try:
        while True:
            data = proc.stdout.read(CHUNK)
            if not data:
                break
            consume(data)
    finally:
        proc.stdout.close()
        err = proc.stderr.read().decode("utf-8", "replace").strip()
        proc.stderr.close()
        code = proc.wait()
    if code != 0:
        raise PgError(f"{statement} through psql failed (exit status {code}): {err.splitlines()[-1] if err else ''}")


class _TableCopy:
    """One table's fingerprint, possibly read as several block ranges at once: range 0 is hashed as it
    arrives, the later ranges are spooled to temporary files and hashed in order once all are done."""

    def __init__(self, parts: int) -> None:
        self.hasher, self.rows, self.left = hashlib.sha256(), 0, parts
        self.spools: Dict[int, Any] = {}

    def take(self, data: bytes) -> None:
        self.hasher.update(data)
        self.rows += data.count(b"\n")

    def finish(self) -> Tuple[int, str]:
        for index in sorted(self.spools):
            spool = self.spools[index]
            spool.seek(0)
            while True:
                data = spool.read(CHUNK)
                if not data:
                    break
                self.take(data)
            spool.close()
        return self.rows, self.hasher.hexdigest()


def _units(plan, workers: int, server_major: int, psql: Optional[str]):
    """(schema, table, statement, range index, ranges, psql?) per unit of work, largest first. A table of
    SPLIT_BLOCKS blocks or more is read as `workers` TID ranges at once (PostgreSQL 14+: TID range scans),
    each in heap order, so the server formats its rows on every core."""
    units = []
    for blocks, schema, table, statement, columns in plan:
        big = psql is not None and blocks >= PSQL_MIN_BLOCKS
        if big and workers > 1 and server_major >= 14 and blocks >= SPLIT_BLOCKS:
            rel = f"ONLY {quote_ident(schema)}.{quote_ident(table)}"
            step = -(-blocks // workers)
            for index in range(workers):
                where = f"ctid >= '({index * step},0)'::pg_catalog.tid"
                if index < workers - 1:  # the last range is open: rows added past the planned size still count
                    where += f" AND ctid < '({(index + 1) * step},0)'::pg_catalog.tid"
                units.append((schema, table, f"COPY (SELECT {columns or ''} FROM {rel} WHERE {where}) TO STDOUT",
                              index, workers, True))
        else:
            units.append((schema, table, statement, 0, 1, big))
    return units


def copy_fingerprints(params: ConnParams, tables: Sequence[Tuple[str, str]], copy_settings: Dict[str, Any],
                      workers: int = 2, server_major: int = 0, bindir: Optional[str] = None
                      ) -> Dict[str, Dict[str, Any]]:
    """{'schema.table': {'rows', 'sha256', 'hash': 'copy_sha256'}} of a database nobody writes to (a
    restored scratch database), over `workers` connections, largest tables first."""
    if not tables:
        return {}
    settings = session_settings(copy_settings)
    try:
        psql: Optional[str] = find_tool("psql", server_major, bindir)
    except PgError:
        psql = None  # psycopg alone is slower on big tables but gives the same bytes
    conns = [connect(params, autocommit=True) for _index in range(max(1, workers))]
    state: Dict[str, _TableCopy] = {}
    try:
        for conn in conns:
            for name, value in settings.items():
                conn.execute("SELECT pg_catalog.set_config(%s, %s, false)", (name, value))
        pending = _units(_plan(conns[0], tables, server_major), len(conns), server_major, psql)
        lock = threading.Lock()
        out: Dict[str, Dict[str, Any]] = {}
        errors: List[BaseException] = []

        def work(conn) -> None:
            while True:
                with lock:
                    if not pending or errors:
                        return
                    schema, table, statement, index, parts, by_psql = pending.pop(0)
                    key = f"{schema}.{table}"
                    table_copy = state.setdefault(key, _TableCopy(parts))
                try:
                    if index == 0:
                        consume = table_copy.take
                    else:
                        spool = table_copy.spools[index] = tempfile.TemporaryFile()
                        consume = spool.write
                    if by_psql:
                        _via_psql(psql, params, settings, statement, consume)
                    else:
                        _via_psycopg(conn, statement, consume)
                    with lock:
                        table_copy.left -= 1
                        last = table_copy.left == 0
                    if last:
                        rows, digest = table_copy.finish()
                        with lock:
                            out[key] = {"rows": rows, "sha256": digest, "hash": METHOD}
                except BaseException as exc:
                    with lock:
                        errors.append(exc)
                    return

        run_per_connection(conns, work, "pg-copy-hash")
        if errors:
            raise PgError(f"fingerprinting table content with COPY failed: {' '.join(str(errors[0]).split())}")
        return dict(sorted(out.items()))
    finally:
        for conn in conns:
            conn.close()
        for table_copy in state.values():  # spools left by a failed run
            for spool in table_copy.spools.values():
                spool.close()
