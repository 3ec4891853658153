# Copyright: (c) 2026, deploysafe.preflight contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""PostgreSQL health before and during a load test: connection headroom, long transactions, blocked
locks, and the slowest statements from pg_stat_statements when it is installed."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Dict, List, Optional

from ..pg import PgError
from ..pg.connection import ConnParams, connect, require_psycopg
from ..verdict import FAIL, PASS, make_verdict, measurement


class PgHealthError(PgError):
    """A health query failed; the message names the server."""


@dataclass
class PgHealthOptions:
    max_connections_pct: float = 80.0       # fail at this share of usable connections in use
    long_transaction_seconds: float = 300.0
    blocked_seconds: float = 5.0            # sessions waiting for a lock longer than this count as blocked
    max_blocked: int = 0
    slow_statement_mean_ms: Optional[float] = None
    top_statements: int = 5


CONNECTIONS_SQL = """
SELECT (SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend') AS in_use,
       current_setting('max_connections')::int AS max_conn,
       current_setting('superuser_reserved_connections')::int AS reserved
"""
LONG_TX_SQL = """
SELECT pid, usename, datname, state, extract(epoch FROM now() - xact_start) AS seconds, left(query, 200) AS query
FROM pg_stat_activity
WHERE xact_start IS NOT NULL AND pid <> pg_backend_pid() AND backend_type = 'client backend'
  AND now() - xact_start > make_interval(secs => %s)
ORDER BY xact_start
"""
BLOCKED_SQL = """
SELECT pid, usename, pg_blocking_pids(pid) AS blocked_by, extract(epoch FROM now() - query_start) AS seconds,
       left(query, 200) AS query
FROM pg_stat_activity
WHERE wait_event_type = 'Lock' AND cardinality(pg_blocking_pids(pid)) > 0
  AND now() - query_start > make_interval(secs => %s)
ORDER BY query_start
"""


def _statements(cur, limit: int) -> Optional[List[Dict[str, Any]]]:
    cur.execute("SELECT extnamespace::regnamespace::text FROM pg_extension WHERE extname = 'pg_stat_statements'")
    row = cur.fetchone()
    if not row:
        return None
    schema = row[0]
    cur.execute("SELECT 1 FROM pg_attribute WHERE attrelid = %s::regclass AND attname = 'mean_exec_time'",
                (f"{schema}.pg_stat_statements",))
    mean, total = ("mean_exec_time", "total_exec_time") if cur.fetchone() else ("mean_time", "total_time")
    cur.execute(f"SELECT left(query, 200), calls, {mean}, {total} FROM {schema}.pg_stat_statements "
                f"WHERE query NOT ILIKE '%%pg_stat_statements%%' ORDER BY {mean} DESC LIMIT %s", (limit,))
    return [{"query": q, "calls": c, "mean_ms": round(m, 3), "total_ms": round(t, 3)} for q, c, m, t in cur.fetchall()]


def check_pg_health(params: ConnParams, opts: PgHealthOptions) -> Dict[str, Any]:
    """Measure connection headroom, long transactions, blocked sessions and slow statements; the verdict
    fails on any limit crossed. Connection errors are PgError, query errors PgHealthError."""
    lib = require_psycopg()
    conn = connect(params, autocommit=True, pin=False)   # PgError names server and reason
    where = f"{params.where()}/{conn.info.dbname}"
    try:
        with conn.cursor() as cur:
            cur.execute(CONNECTIONS_SQL)
            in_use, max_conn, reserved = cur.fetchone()
            cur.execute(LONG_TX_SQL, (opts.long_transaction_seconds,))
            long_tx = [dict(zip(("pid", "user", "database", "state", "seconds", "query"), r)) for r in cur.fetchall()]
            cur.execute(BLOCKED_SQL, (opts.blocked_seconds,))
            blocked = [dict(zip(("pid", "user", "blocked_by", "seconds", "query"), r)) for r in cur.fetchall()]
            statements = _statements(cur, opts.top_statements)
    except lib.Error as exc:
        raise PgHealthError(f"query on {where} failed: {' '.join(str(exc).split())}") from None
    finally:
        conn.close()
    usable = max(max_conn - reserved, 1)
    pct = 100.0 * in_use / usable
    problems = []
    if pct >= opts.max_connections_pct:
        problems.append(f"{in_use} of {usable} usable connections in use ({pct:.0f}% >= {opts.max_connections_pct:g}%)")
    if long_tx:
        problems.append(f"{len(long_tx)} transaction(s) open longer than {opts.long_transaction_seconds:g}s: " +
                        ", ".join(f"pid {t['pid']} ({float(t['seconds']):.0f}s, {t['state']})" for t in long_tx[:3]))
    if len(blocked) > opts.max_blocked:
        problems.append(f"{len(blocked)} session(s) blocked on locks: " +
                        ", ".join(f"pid {b['pid']} by {b['blocked_by']}" for b in blocked[:3]))
    slow = []
    if statements and opts.slow_statement_mean_ms is not None:
        slow = [s for s in statements if s["mean_ms"] > opts.slow_statement_mean_ms]
        if slow:
            problems.append(f"{len(slow)} statement(s) with mean over {opts.slow_statement_mean_ms:g} ms, slowest "
                            f"{slow[0]['mean_ms']:.0f} ms: {slow[0]['query'][:80]}")
    for t in long_tx + blocked:
        t["seconds"] = round(float(t["seconds"]), 1)
    ms = [measurement("connections_used_pct", round(pct, 1), "%", opts.max_connections_pct, "<"),
          measurement("long_transactions", len(long_tx), "count", 0, "=="),
          measurement("blocked_sessions", len(blocked), "count", opts.max_blocked, "<=")]
    if statements:
        ms.append(measurement("slowest_statement_mean_ms", statements[0]["mean_ms"], "ms",
                              opts.slow_statement_mean_ms, "<=" if opts.slow_statement_mean_ms is not None else None))
    summary = f"PostgreSQL {where}: " + ("; ".join(problems) if problems else
                                         f"healthy ({in_use}/{usable} connections, no long transactions or blocked locks)")
    verdict = make_verdict(FAIL if problems else PASS, summary, findings={"problems": len(problems)}, measurements=ms)
    return {"verdict": verdict, "connections": {"in_use": in_use, "max_connections": max_conn, "reserved": reserved,
                                                "used_pct": round(pct, 1)},
            "long_transactions": long_tx, "blocked": blocked, "statements": statements,
            "pg_stat_statements": statements is not None}
