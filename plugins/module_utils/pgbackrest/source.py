# Copyright: (c) 2026, deploysafe.preflight contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The source server over SQL: archive settings, the archiver's progress, and drill markers.

A marker is a row the modules write into deploysafe_preflight.drill_marker (in the marker database)
before a backup and around a restore target: a restored cluster must hold every marker committed before
the target and none committed after it. written_at is clock_timestamp() inside the inserting
transaction, so a marker within MARKER_MARGIN_S of the target cannot be classified and is skipped.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from typing import Any, Dict, List, Optional

from ..pg.connection import ConnParams, connect
from . import PgBackRestError

MARKER_SCHEMA = "deploysafe_preflight"
MARKER_TABLE = f"{MARKER_SCHEMA}.drill_marker"
MARKER_MARGIN_S = 0.5
ARCHIVE_SETTINGS = ("archive_mode", "archive_command", "wal_level", "archive_timeout")


def _conn(params: ConnParams):
    return connect(params, autocommit=True, pin=False)


def settings(params: ConnParams) -> Dict[str, Dict[str, Any]]:
    """{name: {setting, pending_restart, context}} of the archive settings."""
    conn = _conn(params)
    try:
        rows = conn.execute("SELECT name, setting, pending_restart, context FROM pg_catalog.pg_settings "
                            "WHERE name = ANY(%s)", (list(ARCHIVE_SETTINGS),)).fetchall()
    finally:
        conn.close()
    return {r[0]: {"setting": r[1], "pending_restart": r[2], "context": r[3]} for r in rows}


def alter_system(params: ConnParams, wanted: Dict[str, str]) -> None:
    """ALTER SYSTEM SET each setting, then reload (archive_mode and wal_level still need a restart)."""
    conn = _conn(params)
    try:
        for name, value in wanted.items():
            if name not in ARCHIVE_SETTINGS:
                raise PgBackRestError(f"refusing to set {name}: not an archive setting")
            # ALTER SYSTEM takes no bind parameters: quote the literal (names come from the list above).
            conn.execute(f"ALTER SYSTEM SET {name} = '" + value.replace("'", "''") + "'")
        conn.execute("SELECT pg_catalog.pg_reload_conf()")
    finally:
        conn.close()


@dataclass
class ArchiverStatus:
    last_archived_wal: Optional[str]
    last_archived_time: Optional[float]
    failed_count: int
    last_failed_wal: Optional[str]
    last_failed_time: Optional[float]


def archiver(params: ConnParams) -> ArchiverStatus:
    conn = _conn(params)
    try:
        row = conn.execute("SELECT last_archived_wal, extract(epoch FROM last_archived_time)::float8, failed_count, "
                           "last_failed_wal, extract(epoch FROM last_failed_time)::float8 "
                           "FROM pg_catalog.pg_stat_archiver").fetchone()
    finally:
        conn.close()
    return ArchiverStatus(row[0], row[1], int(row[2] or 0), row[3], row[4])


def switch_and_wait(params: ConnParams, timeout: float = 60.0) -> Dict[str, Any]:
    """Close the current WAL segment and wait until the archiver has pushed it (the PITR timing trap: a
    target whose WAL is not archived yet cannot be reached). Returns {segment, archived, waited_s}."""
    conn = _conn(params)
    started = time.monotonic()
    try:
        segment = conn.execute("SELECT pg_catalog.pg_walfile_name(pg_catalog.pg_switch_wal())").fetchone()[0]
        while True:
            row = conn.execute("SELECT last_archived_wal, last_failed_wal FROM pg_catalog.pg_stat_archiver").fetchone()
            # Names sort in WAL order on one timeline (24 hex digits, timeline first).
            if row[0] and row[0][:24] >= segment:
                return {"segment": segment, "archived": True, "waited_s": round(time.monotonic() - started, 3)}
            if time.monotonic() - started > timeout:
                return {"segment": segment, "archived": False, "waited_s": round(time.monotonic() - started, 3),
                        "last_failed_wal": row[1]}
            time.sleep(0.2)
    finally:
        conn.close()


def epoch_of(params: ConnParams, timestamp: str) -> float:
    """The server's reading of a timestamptz literal (as recovery_target_time reads it), in epoch seconds."""
    conn = _conn(params)
    try:
        try:
            return float(conn.execute("SELECT extract(epoch FROM %s::timestamptz)::float8", (timestamp,)).fetchone()[0])
        except Exception as exc:
            raise PgBackRestError(f"target {timestamp!r} is not a timestamp PostgreSQL can read: "
                                  f"{' '.join(str(exc).split())}") from None
    finally:
        conn.close()


def iso_utc(conn_params: ConnParams, epoch: float) -> str:
    """A timestamptz literal of epoch, to the microsecond, in UTC (what recovery_target_time gets)."""
    conn = _conn(conn_params)
    try:
        return conn.execute("SELECT to_char(to_timestamp(%s) AT TIME ZONE 'UTC', "
                            "'YYYY-MM-DD HH24:MI:SS.US') || '+00'", (epoch,)).fetchone()[0]
    finally:
        conn.close()


def write_marker(params: ConnParams, kind: str) -> Dict[str, Any]:
    """Insert a marker row (creating the table on first use); {token, kind, written_at (epoch)}."""
    token = f"{kind}-{secrets.token_hex(8)}"
    conn = _conn(params)
    try:
        conn.execute(f"CREATE SCHEMA IF NOT EXISTS {MARKER_SCHEMA}")
        conn.execute(f"CREATE TABLE IF NOT EXISTS {MARKER_TABLE} (token text PRIMARY KEY, kind text NOT NULL, "
                     "written_at timestamptz NOT NULL DEFAULT clock_timestamp())")
        written = conn.execute(f"INSERT INTO {MARKER_TABLE} (token, kind) VALUES (%s, %s) "
                               "RETURNING extract(epoch FROM written_at)::float8", (token, kind)).fetchone()[0]
    except PgBackRestError:
        raise
    except Exception as exc:
        raise PgBackRestError(f"cannot write a drill marker into {MARKER_TABLE} on {params.where()} "
                              f"(database {params.dbname}): {' '.join(str(exc).split())}") from None
    finally:
        conn.close()
    return {"token": token, "kind": kind, "written_at": written}


def read_markers(params: ConnParams) -> List[Dict[str, Any]]:
    """Every marker of the database ([] when the table does not exist)."""
    conn = _conn(params)
    try:
        exists = conn.execute("SELECT to_regclass(%s) IS NOT NULL", (MARKER_TABLE,)).fetchone()[0]
        if not exists:
            return []
        rows = conn.execute(f"SELECT token, kind, extract(epoch FROM written_at)::float8 FROM {MARKER_TABLE} "
                            "ORDER BY written_at").fetchall()
    finally:
        conn.close()
    return [{"token": r[0], "kind": r[1], "written_at": r[2]} for r in rows]


def classify_markers(markers: List[Dict[str, Any]], target: Optional[float]) -> Dict[str, List[Dict[str, Any]]]:
    """{before, after, ambiguous}: markers the restored cluster must hold, must not hold, and those too
    close to the target to say. target None (restore to the end of the archive): every marker is before."""
    out: Dict[str, List[Dict[str, Any]]] = {"before": [], "after": [], "ambiguous": []}
    for marker in markers:
        if target is None or marker["written_at"] < target - MARKER_MARGIN_S:
            out["before"].append(marker)
        elif marker["written_at"] > target + MARKER_MARGIN_S:
            out["after"].append(marker)
        else:
            out["ambiguous"].append(marker)
    return out
