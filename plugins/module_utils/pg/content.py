# Copyright: (c) 2026, deploysafe.preflight contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a database contains, computed in SQL so rows never leave the server.

(Backups made with content_hash copy_sha256, the default, fingerprint tables from the dump's own COPY
data instead: dumpstream.py and copyprint.py. These SQL fingerprints serve the other content_hash
options, manifests written before copy_sha256, and before/after comparisons such as the down path.)

Table fingerprint = row count + the sum over rows of a 64-bit row hash (exact numeric sum).
The sum is independent of row order (a restore may store rows differently) and needs constant memory.
Default row hash: first 64 bits of md5(row text), the same on every PostgreSQL version; row text depends
on session settings, which connection.PINNED_SETTINGS fixes on both sides. See HASH_ALGORITHMS.
"""

from __future__ import annotations

import threading
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

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
    schema, _dot, table = name.rpartition(".")
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


# content_hash algorithms. md5 works across major versions; hash_record (PostgreSQL 14+) avoids turning
# every row into text and is 3-5x cheaper, but uses the types' hash functions, so it is only compared on
# the same major version, and only for tables whose columns all have value-based hashes (an enum hashes
# its OID, which a restore changes): other tables fall back to md5. count compares row counts only.
HASH_ALGORITHMS = ("md5", "hash_record", "count")
HASH_RECORD_TYPES = ("bool", "int2", "int4", "int8", "float4", "float8", "numeric", "text", "varchar", "bpchar",
                     "char", "name", "bytea", "uuid", "date", "time", "timetz", "timestamp", "timestamptz",
                     "interval", "jsonb", "inet", "cidr", "macaddr", "macaddr8", "money")

_COLUMN_TYPES_SQL = """
SELECT pg_catalog.bool_and(COALESCE(et.typname, bt.typname) = ANY (%(ok)s))
FROM pg_catalog.pg_attribute a
JOIN pg_catalog.pg_type t ON t.oid = a.atttypid
JOIN pg_catalog.pg_type bt ON bt.oid = CASE WHEN t.typtype = 'd' THEN t.typbasetype ELSE t.oid END
LEFT JOIN pg_catalog.pg_type et ON et.oid = bt.typelem AND bt.typcategory = 'A'
WHERE a.attrelid = %(rel)s::pg_catalog.regclass AND a.attnum > 0 AND NOT a.attisdropped
"""


def choose_algorithm(conn, schema: str, table: str, requested: str, server_major: int) -> str:
    """The algorithm actually used for one table (hash_record falls back to md5 where unsafe)."""
    if requested != "hash_record":
        return requested
    if server_major < 14:
        return "md5"
    rel = f"{quote_ident(schema)}.{quote_ident(table)}"
    ok = conn.execute(_COLUMN_TYPES_SQL, {"ok": list(HASH_RECORD_TYPES), "rel": rel}).fetchone()[0]
    return "hash_record" if ok else "md5"


def fingerprint_sql(schema: str, table: str, algorithm: str = "md5",
                    blocks: Optional[Tuple[int, Optional[int]]] = None) -> str:
    """Count and hash sum of a table, or of the heap blocks [start, end) of it (end None: to the end)."""
    rel = f"{quote_ident(schema)}.{quote_ident(table)}"
    if algorithm == "md5":
        total = ("pg_catalog.sum(('x' || pg_catalog.substr(pg_catalog.md5(t::pg_catalog.text), 1, 16))"
                 "::pg_catalog.bit(64)::pg_catalog.int8)")
    elif algorithm == "hash_record":
        total = "pg_catalog.sum(pg_catalog.hash_record_extended(t, 0))"
    elif algorithm == "count":
        total = "NULL"
    else:
        raise PgError(f"unknown content hash {algorithm!r}; use one of {', '.join(HASH_ALGORITHMS)}")
    where = ""
    if blocks:
        where = f" WHERE t.ctid >= '({int(blocks[0])},0)'::pg_catalog.tid"
        if blocks[1] is not None:
            where += f" AND t.ctid < '({int(blocks[1])},0)'::pg_catalog.tid"
    return f"SELECT pg_catalog.count(*), COALESCE({total}, 0)::pg_catalog.text FROM ONLY {rel} AS t{where}"


# Tables above this many heap blocks (8 kB each: 64 MB) are hashed in block ranges by several
# connections at once; TID range scans make that cheap from PostgreSQL 14 on.
SPLIT_BLOCKS = 8192


def work_units(conn, tables: Sequence[Tuple[str, str]], workers: int, server_major: int
               ) -> List[Tuple[str, str, Optional[Tuple[int, Optional[int]]]]]:
    """(schema, table, block range or None), largest first, big tables split into `workers` ranges."""
    sized = []
    for schema, table in tables:
        rel = f"{quote_ident(schema)}.{quote_ident(table)}"
        blocks = conn.execute("SELECT pg_catalog.pg_relation_size(%s::pg_catalog.regclass) / "
                              "pg_catalog.current_setting('block_size')::int8", (rel,)).fetchone()[0]
        sized.append((int(blocks), schema, table))
    units = []
    for blocks, schema, table in sorted(sized, key=lambda x: -x[0]):
        if workers > 1 and server_major >= 14 and blocks >= SPLIT_BLOCKS:
            step = -(-blocks // workers)
            for i in range(workers):
                end = (i + 1) * step if i < workers - 1 else None  # the last range is open: nothing is missed
                units.append((schema, table, (i * step, end)))
        else:
            units.append((schema, table, None))
    return units


def run_per_connection(conns: Sequence[Any], work: Callable[[Any], None], name: str) -> None:
    """work(conn) in one thread per connection (each pulls from a shared queue); returns when all end."""
    threads = [threading.Thread(target=work, args=(c,), name=name) for c in conns]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def run_fingerprints(conns: Sequence[Any], units, algorithms: Optional[Dict[str, str]] = None
                     ) -> Dict[str, Dict[str, Any]]:
    """Hash the work units over the given connections (one thread each, shared queue) and add up the
    partial counts and sums per table: {'schema.table': {'rows', 'sum64', 'hash'}}."""
    pending = list(units)
    lock = threading.Lock()
    partial: Dict[str, List[Tuple[int, Optional[str]]]] = {}
    errors: List[BaseException] = []

    def work(conn):
        while True:
            with lock:
                if not pending or errors:
                    return
                schema, table, blocks = pending.pop(0)
            key = table_key(schema, table)
            algorithm = (algorithms or {}).get(key, "md5")
            try:
                rows, total = conn.execute(fingerprint_sql(schema, table, algorithm, blocks)).fetchone()
            except BaseException as exc:
                with lock:
                    errors.append(exc)
                return
            with lock:
                partial.setdefault(key, []).append((int(rows), total))

    run_per_connection(conns, work, "pg-table-hash")
    if errors:
        raise PgError(f"hashing table content failed: {errors[0]}")
    out = {}
    for schema, table, _blocks in units:
        key = table_key(schema, table)
        if key in out:
            continue
        algorithm = (algorithms or {}).get(key, "md5")
        parts = partial[key]
        out[key] = {"rows": sum(rows for rows, _total in parts), "hash": algorithm,
                    "sum64": None if algorithm == "count" else str(sum(int(total) for _rows, total in parts))}
    return dict(sorted(out.items()))


def table_fingerprints(conn, tables: Sequence[Tuple[str, str]], algorithms: Optional[Dict[str, str]] = None
                       ) -> Dict[str, Dict[str, Any]]:
    """{'schema.table': {'rows': n, 'sum64': '...', 'hash': algorithm}} in the connection's current
    transaction; algorithms maps 'schema.table' to md5 (default), hash_record or count."""
    return run_fingerprints([conn], [(s, t, None) for s, t in tables], algorithms)


def parallel_fingerprints(params: ConnParams, tables: Sequence[Tuple[str, str]], workers: int = 2,
                          algorithms: Optional[Dict[str, str]] = None, server_major: int = 0
                          ) -> Dict[str, Dict[str, Any]]:
    """Fingerprints over `workers` new connections (for a database nobody writes to, e.g. a scratch DB)."""
    if not tables:
        return {}
    conns = [connect(params, autocommit=True) for _index in range(max(1, workers))]
    try:
        units = work_units(conns[0], tables, len(conns), server_major)
        return run_fingerprints(conns, units, algorithms)
    finally:
        for conn in conns:
            conn.close()


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
        elif any(exp.get(field) is not None and act.get(field) is not None and exp[field] != act[field]
                 for field in ("sum64", "sha256")):  # sha256: copy_sha256 fingerprints (copyprint.py)
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
