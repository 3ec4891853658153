# Copyright: (c) 2026, deploysafe.preflight contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a database contains, computed in SQL so rows never leave the server.

Table fingerprint = row count + the sum over rows of the first 64 bits of md5(row text), as numeric.
The sum is independent of row order (a restore may store rows differently), needs constant memory,
and uses only md5, whose result is the same on every PostgreSQL version (unlike hashtextextended).
Row text depends on session settings, which connection.PINNED_SETTINGS fixes on both sides.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any, Dict, List, Optional, Sequence, Tuple

from . import PgError
from .connection import ConnParams, connect, quote_ident

SYSTEM_SCHEMAS = ("pg_catalog", "information_schema")

_TABLES_SQL = """
SELECT n.nspname, c.relname
FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind = 'r'
  AND n.nspname <> ALL (%(system)s) AND n.nspname NOT LIKE 'pg\\_toast%%' AND n.nspname NOT LIKE 'pg\\_temp%%'
  AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend d WHERE d.classid = 'pg_catalog.pg_class'::regclass
                  AND d.objid = c.oid AND d.deptype = 'e')
ORDER BY 1, 2
"""


def qualify(name: str, default_schema: str = "public") -> Tuple[str, str]:
    """'s.t' -> ('s', 't'); 't' -> ('public', 't'). Names are exact (no patterns)."""
    schema, _, table = name.rpartition(".")
    return (schema or default_schema, table)


def table_key(schema: str, table: str) -> str:
    return f"{schema}.{table}"


def list_tables(conn, include_tables: Sequence[str] = (), exclude_tables: Sequence[str] = (),
                include_schemas: Sequence[str] = (), exclude_schemas: Sequence[str] = ()) -> List[Tuple[str, str]]:
    """User tables whose data pg_dump dumps, after the same include/exclude filters it is given."""
    rows = conn.execute(_TABLES_SQL, {"system": list(SYSTEM_SCHEMAS)}).fetchall()
    inc_t = {qualify(t) for t in include_tables}
    exc_t = {qualify(t) for t in exclude_tables}
    out = []
    for schema, table in rows:
        if inc_t and (schema, table) not in inc_t:
            continue
        if include_schemas and schema not in include_schemas:
            continue
        if (schema, table) in exc_t or schema in exclude_schemas:
            continue
        out.append((schema, table))
    return out


def fingerprint_sql(schema: str, table: str) -> str:
    rel = f"{quote_ident(schema)}.{quote_ident(table)}"
    return ("SELECT pg_catalog.count(*), COALESCE(pg_catalog.sum(('x' || pg_catalog.substr("
            f"pg_catalog.md5(t::pg_catalog.text), 1, 16))::pg_catalog.bit(64)::pg_catalog.int8::pg_catalog.numeric), 0)"
            f"::pg_catalog.text FROM ONLY {rel} AS t")


def table_fingerprints(conn, tables: Sequence[Tuple[str, str]]) -> Dict[str, Dict[str, Any]]:
    """{'schema.table': {'rows': n, 'sum64': '...'}} in the connection's current transaction."""
    out = {}
    for schema, table in tables:
        rows, total = conn.execute(fingerprint_sql(schema, table)).fetchone()
        out[table_key(schema, table)] = {"rows": int(rows), "sum64": total}
    return out


def parallel_fingerprints(params: ConnParams, tables: Sequence[Tuple[str, str]], workers: int = 2
                          ) -> Dict[str, Dict[str, Any]]:
    """table_fingerprints over `workers` connections (for a database nobody writes to)."""
    if not tables:
        return {}
    workers = max(1, min(workers, len(tables)))
    buckets: List[List[Tuple[str, str]]] = [[] for _ in range(workers)]
    for index, item in enumerate(tables):  # caller passes biggest first: round-robin balances well enough
        buckets[index % workers].append(item)

    def run(bucket):
        conn = connect(params, autocommit=True)
        try:
            return table_fingerprints(conn, bucket)
        finally:
            conn.close()

    out: Dict[str, Dict[str, Any]] = {}
    with ThreadPoolExecutor(max_workers=workers) as pool:
        for part in pool.map(run, buckets):
            out.update(part)
    return out


def tables_by_size(conn, tables: Sequence[Tuple[str, str]]) -> List[Tuple[str, str]]:
    sizes = {}
    for schema, table in tables:
        rel = f"{quote_ident(schema)}.{quote_ident(table)}"
        sizes[(schema, table)] = conn.execute(
            "SELECT pg_catalog.pg_relation_size(%s::pg_catalog.regclass)", (rel,)).fetchone()[0]
    return sorted(tables, key=lambda t: -sizes[t])


def compare_fingerprints(expected: Dict[str, Dict[str, Any]], actual: Dict[str, Dict[str, Any]]
                         ) -> List[Dict[str, Any]]:
    """Tables whose rows or content differ, or that are missing on one side."""
    diffs = []
    for key in sorted(set(expected) | set(actual)):
        exp, act = expected.get(key), actual.get(key)
        if exp is None:
            diffs.append({"table": key, "problem": "not in the backup's manifest", "actual_rows": act["rows"]})
        elif act is None:
            diffs.append({"table": key, "problem": "missing after restore", "expected_rows": exp["rows"]})
        elif exp["rows"] is None:  # schema-only backup: presence is all there is to compare
            continue
        elif exp["rows"] != act["rows"]:
            diffs.append({"table": key, "problem": "row count differs", "expected_rows": exp["rows"],
                          "actual_rows": act["rows"]})
        elif exp.get("sum64") is not None and exp["sum64"] != act["sum64"]:
            diffs.append({"table": key, "problem": "content hash differs", "expected_rows": exp["rows"],
                          "actual_rows": act["rows"]})
    return diffs


_FK_SQL = """
SELECT con.conname, n.nspname, c.relname, c.relkind, fn.nspname, fc.relname,
       ARRAY(SELECT a.attname::text FROM unnest(con.conkey) WITH ORDINALITY k(num, ord)
             JOIN pg_catalog.pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.num ORDER BY k.ord),
       ARRAY(SELECT a.attname::text FROM unnest(con.confkey) WITH ORDINALITY k(num, ord)
             JOIN pg_catalog.pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = k.num ORDER BY k.ord)
FROM pg_catalog.pg_constraint con
JOIN pg_catalog.pg_class c ON c.oid = con.conrelid JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
JOIN pg_catalog.pg_class fc ON fc.oid = con.confrelid JOIN pg_catalog.pg_namespace fn ON fn.oid = fc.relnamespace
WHERE con.contype = 'f' AND con.conparentid = 0 AND n.nspname <> ALL (%(system)s)
ORDER BY 2, 3, 1
"""

_CHECK_SQL = """
SELECT con.conname, n.nspname, c.relname, pg_catalog.pg_get_expr(con.conbin, con.conrelid)
FROM pg_catalog.pg_constraint con
JOIN pg_catalog.pg_class c ON c.oid = con.conrelid JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE con.contype = 'c' AND c.relkind = 'r' AND n.nspname <> ALL (%(system)s)
ORDER BY 2, 3, 1
"""


def constraint_violations(conn) -> List[Dict[str, Any]]:
    """Rows violating any foreign key or check constraint, whether the constraint is marked valid or not.

    pg_restore creates constraints after loading data, but a constraint dumped as NOT VALID is never
    re-checked, and VALIDATE CONSTRAINT is a no-op for valid ones: so each one is re-checked here.
    """
    found = []
    for name, schema, table, kind, fschema, ftable, cols, fcols in conn.execute(
            _FK_SQL, {"system": list(SYSTEM_SCHEMAS)}).fetchall():
        child = ("ONLY " if kind == "r" else "") + f"{quote_ident(schema)}.{quote_ident(table)}"
        parent = f"{quote_ident(fschema)}.{quote_ident(ftable)}"
        not_null = " AND ".join(f"c.{quote_ident(col)} IS NOT NULL" for col in cols)
        join = " AND ".join(f"p.{quote_ident(f)} = c.{quote_ident(col)}" for col, f in zip(cols, fcols))
        count = conn.execute(f"SELECT pg_catalog.count(*) FROM {child} AS c WHERE {not_null} "
                             f"AND NOT EXISTS (SELECT 1 FROM {parent} AS p WHERE {join})").fetchone()[0]
        if count:
            found.append({"table": table_key(schema, table), "constraint": name, "kind": "foreign key",
                          "violating_rows": int(count)})
    for name, schema, table, expr in conn.execute(_CHECK_SQL, {"system": list(SYSTEM_SCHEMAS)}).fetchall():
        rel = f"{quote_ident(schema)}.{quote_ident(table)}"
        count = conn.execute(f"SELECT pg_catalog.count(*) FROM ONLY {rel} WHERE NOT ({expr})").fetchone()[0]
        if count:
            found.append({"table": table_key(schema, table), "constraint": name, "kind": "check",
                          "violating_rows": int(count)})
    return found


def constraint_counts(conn) -> Dict[str, int]:
    fks = len(conn.execute(_FK_SQL, {"system": list(SYSTEM_SCHEMAS)}).fetchall())
    checks = len(conn.execute(_CHECK_SQL, {"system": list(SYSTEM_SCHEMAS)}).fetchall())
    return {"foreign_keys": fks, "checks": checks}


_SEQ_SQL = """
SELECT sn.nspname, s.relname, tn.nspname, t.relname, a.attname, seq.seqincrement
FROM pg_catalog.pg_class s
JOIN pg_catalog.pg_namespace sn ON sn.oid = s.relnamespace
JOIN pg_catalog.pg_sequence seq ON seq.seqrelid = s.oid
JOIN pg_catalog.pg_depend d ON d.classid = 'pg_catalog.pg_class'::regclass AND d.objid = s.oid
     AND d.refclassid = 'pg_catalog.pg_class'::regclass AND d.deptype IN ('a', 'i')
JOIN pg_catalog.pg_class t ON t.oid = d.refobjid JOIN pg_catalog.pg_namespace tn ON tn.oid = t.relnamespace
JOIN pg_catalog.pg_attribute a ON a.attrelid = t.oid AND a.attnum = d.refobjsubid
WHERE s.relkind = 'S' AND sn.nspname <> ALL (%(system)s)
ORDER BY 1, 2
"""


def sequences_behind(conn) -> Tuple[int, List[Dict[str, Any]]]:
    """(number of owned sequences checked, those whose next value would collide with existing rows)."""
    rows = conn.execute(_SEQ_SQL, {"system": list(SYSTEM_SCHEMAS)}).fetchall()
    behind = []
    for sschema, seq, tschema, table, column, increment in rows:
        srel = f"{quote_ident(sschema)}.{quote_ident(seq)}"
        last, called = conn.execute(f"SELECT last_value, is_called FROM {srel}").fetchone()
        agg = "max" if increment > 0 else "min"
        edge = conn.execute(f"SELECT pg_catalog.{agg}({quote_ident(column)}) FROM "
                            f"{quote_ident(tschema)}.{quote_ident(table)}").fetchone()[0]
        if edge is None:
            continue
        nxt = last + increment if called else last
        if (increment > 0 and nxt <= edge) or (increment < 0 and nxt >= edge):
            behind.append({"sequence": table_key(sschema, seq), "table": table_key(tschema, table),
                           "column": column, "last_value": int(last), "column_" + agg: int(edge)})
    return len(rows), behind


def is_empty(conn) -> Optional[str]:
    """None when the database has no user objects, else a short description of what it holds."""
    count = conn.execute(
        "SELECT pg_catalog.count(*) FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n "
        "ON n.oid = c.relnamespace WHERE n.nspname <> ALL (%(system)s) AND n.nspname NOT LIKE 'pg\\_%%' "
        "AND c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f') AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend d "
        "WHERE d.classid = 'pg_catalog.pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e')",
        {"system": list(SYSTEM_SCHEMAS)}).fetchone()[0]
    return None if count == 0 else f"{count} tables/views/sequences"
