# Copyright: (c) 2026, deploysafe.preflight contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A normalised schema snapshot from pg_catalog, and the difference between two snapshots.

Read from the catalog rather than from `pg_dump --schema-only` text: no parser, no dependency on the
client's output format, and the server renders every definition (pg_get_constraintdef, pg_get_indexdef,
pg_get_expr) with search_path pinned to pg_catalog, so names are always schema-qualified the same way.
Column order is not compared (a column dropped and added back lands at the end; clients that name
their columns do not notice), nor sequence positions or statistics: only what a migration changes.
"""

from __future__ import annotations

import json
from typing import Any, Dict, List, Set

from . import PgError
from .content import SYSTEM_SCHEMAS

SCHEMA_FORMAT = "deploysafe.preflight/schema"
SCHEMA_VERSION = 1

_USER_SCHEMAS = ("n.nspname <> ALL (%(system)s) AND n.nspname NOT LIKE 'pg\\_toast%%' "
                 "AND n.nspname NOT LIKE 'pg\\_temp%%'")
# Objects that belong to an extension are the extension's business, not the migration's.
_NOT_EXTENSION = ("NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend d WHERE d.classid = 'pg_catalog.pg_class'::regclass "
                  "AND d.objid = c.oid AND d.deptype = 'e')")

_RELATIONS_SQL = f"""
SELECT n.nspname, c.relname, c.relkind
FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f') AND {_USER_SCHEMAS} AND {_NOT_EXTENSION}
ORDER BY 1, 2
"""

_COLUMNS_SQL = f"""
SELECT n.nspname, c.relname, a.attname, pg_catalog.format_type(a.atttypid, a.atttypmod), a.attnotnull,
       pg_catalog.pg_get_expr(ad.adbin, ad.adrelid), a.attidentity, a.attgenerated,
       CASE WHEN a.attcollation <> t.typcollation THEN co.collname END
FROM pg_catalog.pg_attribute a
JOIN pg_catalog.pg_class c ON c.oid = a.attrelid JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
JOIN pg_catalog.pg_type t ON t.oid = a.atttypid
LEFT JOIN pg_catalog.pg_attrdef ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum
LEFT JOIN pg_catalog.pg_collation co ON co.oid = a.attcollation
WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f') AND a.attnum > 0 AND NOT a.attisdropped
  AND {_USER_SCHEMAS} AND {_NOT_EXTENSION}
ORDER BY 1, 2, 3
"""

_CONSTRAINTS_SQL = f"""
SELECT n.nspname, c.relname, con.conname, con.contype, pg_catalog.pg_get_constraintdef(con.oid, true),
       con.convalidated, con.condeferrable, con.condeferred
FROM pg_catalog.pg_constraint con
JOIN pg_catalog.pg_class c ON c.oid = con.conrelid JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE {_USER_SCHEMAS} AND {_NOT_EXTENSION}
ORDER BY 1, 2, 3
"""

_INDEXES_SQL = f"""
SELECT n.nspname, c.relname, i.relname, pg_catalog.pg_get_indexdef(x.indexrelid), x.indisvalid
FROM pg_catalog.pg_index x
JOIN pg_catalog.pg_class i ON i.oid = x.indexrelid
JOIN pg_catalog.pg_class c ON c.oid = x.indrelid JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE {_USER_SCHEMAS} AND {_NOT_EXTENSION}
ORDER BY 1, 2, 3
"""

_SEQUENCES_SQL = f"""
SELECT n.nspname, c.relname, pg_catalog.format_type(s.seqtypid, NULL), s.seqstart, s.seqincrement, s.seqmin,
       s.seqmax, s.seqcycle,
       (SELECT tn.nspname || '.' || t.relname || '.' || a.attname
        FROM pg_catalog.pg_depend d JOIN pg_catalog.pg_class t ON t.oid = d.refobjid
        JOIN pg_catalog.pg_namespace tn ON tn.oid = t.relnamespace
        JOIN pg_catalog.pg_attribute a ON a.attrelid = t.oid AND a.attnum = d.refobjsubid
        WHERE d.classid = 'pg_catalog.pg_class'::regclass AND d.objid = c.oid
          AND d.refclassid = 'pg_catalog.pg_class'::regclass AND d.deptype IN ('a', 'i') LIMIT 1)
FROM pg_catalog.pg_sequence s
JOIN pg_catalog.pg_class c ON c.oid = s.seqrelid JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE {_USER_SCHEMAS} AND {_NOT_EXTENSION}
ORDER BY 1, 2
"""

_ENUMS_SQL = f"""
SELECT n.nspname, t.typname, ARRAY(SELECT e.enumlabel::text FROM pg_catalog.pg_enum e
                                   WHERE e.enumtypid = t.oid ORDER BY e.enumsortorder)
FROM pg_catalog.pg_type t JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace
WHERE t.typtype = 'e' AND {_USER_SCHEMAS}
ORDER BY 1, 2
"""

_VIEW_DEFS_SQL = f"""
SELECT n.nspname, c.relname, pg_catalog.pg_get_viewdef(c.oid, true)
FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('v', 'm') AND {_USER_SCHEMAS} AND {_NOT_EXTENSION}
ORDER BY 1, 2
"""

_KINDS = {"r": "table", "p": "partitioned table", "v": "view", "m": "materialized view", "f": "foreign table"}
_CONTYPES = {"p": "primary key", "f": "foreign key", "u": "unique", "c": "check", "x": "exclusion", "t": "trigger",
             "n": "not null"}


def capture_schema(conn) -> Dict[str, Any]:
    """The normalised snapshot of the connected database (a connection from connect(), so with
    search_path pinned to pg_catalog and every name rendered schema-qualified). JSON-ready."""
    args = {"system": list(SYSTEM_SCHEMAS)}
    relations: Dict[str, Dict[str, Any]] = {}
    for schema, name, kind in conn.execute(_RELATIONS_SQL, args).fetchall():
        relations[f"{schema}.{name}"] = {"kind": _KINDS.get(kind, kind), "columns": {}, "constraints": {},
                                         "indexes": {}}
    for schema, rel, col, typ, not_null, default, identity, generated, collation in \
            conn.execute(_COLUMNS_SQL, args).fetchall():
        entry = {"type": typ, "not_null": bool(not_null), "default": default}
        if identity:
            entry["identity"] = "always" if identity == "a" else "by default"
        if generated:
            entry["generated"] = "stored"
        if collation:
            entry["collation"] = collation
        relations[f"{schema}.{rel}"]["columns"][col] = entry
    for schema, rel, name, contype, definition, validated, deferrable, deferred in \
            conn.execute(_CONSTRAINTS_SQL, args).fetchall():
        entry = {"type": _CONTYPES.get(contype, contype), "definition": definition}
        if not validated:
            entry["not_valid"] = True
        if deferrable:
            entry["deferrable"] = "initially deferred" if deferred else "initially immediate"
        if f"{schema}.{rel}" in relations:
            relations[f"{schema}.{rel}"]["constraints"][name] = entry
    for schema, rel, name, definition, valid in conn.execute(_INDEXES_SQL, args).fetchall():
        if f"{schema}.{rel}" in relations:
            relations[f"{schema}.{rel}"]["indexes"][name] = definition if valid else definition + " [INVALID]"
    for schema, name, definition in conn.execute(_VIEW_DEFS_SQL, args).fetchall():
        relations[f"{schema}.{name}"]["definition"] = " ".join(definition.split())
    sequences = {}
    for schema, name, typ, start, inc, low, high, cycle, owned_by in conn.execute(_SEQUENCES_SQL, args).fetchall():
        sequences[f"{schema}.{name}"] = {"type": typ, "start": int(start), "increment": int(inc), "min": int(low),
                                         "max": int(high), "cycle": bool(cycle), "owned_by": owned_by}
    enums = {f"{schema}.{name}": list(labels) for schema, name, labels in conn.execute(_ENUMS_SQL, args).fetchall()}
    return {"format": SCHEMA_FORMAT, "format_version": SCHEMA_VERSION, "relations": relations,
            "sequences": sequences, "enums": enums}


def tables_of(schema: Dict[str, Any]) -> List[str]:
    """The 'schema.table' names of the snapshot's tables (not views)."""
    return sorted(k for k, v in schema["relations"].items() if v["kind"] in ("table", "partitioned table"))


def load_schema_file(path: str) -> Dict[str, Any]:
    """An expected schema written earlier from a result's captured schema (same format)."""
    try:
        with open(path, encoding="utf-8") as handle:
            data = json.load(handle)
    except OSError as exc:
        raise PgError(f"cannot read expected_schema {path}: {exc.strerror or exc}") from None
    except ValueError as exc:
        raise PgError(f"expected_schema {path} is not JSON: {exc}") from None
    if not isinstance(data, dict) or data.get("format") != SCHEMA_FORMAT or not isinstance(data.get("relations"), dict):
        raise PgError(f"expected_schema {path} is not a {SCHEMA_FORMAT} snapshot (write one from the "
                      "result's database.schema_before)")
    if data.get("format_version") != SCHEMA_VERSION:
        raise PgError(f"expected_schema {path} has format_version {data.get('format_version')!r}; "
                      f"this collection reads version {SCHEMA_VERSION}")
    data.setdefault("sequences", {})
    data.setdefault("enums", {})
    return data


def _diff_named(where: str, kind: str, expected: Dict[str, Any], actual: Dict[str, Any]) -> List[Dict[str, Any]]:
    out = []
    for name in sorted(set(expected) | set(actual)):
        exp, act = expected.get(name), actual.get(name)
        if exp == act:
            continue
        entry: Dict[str, Any] = {"object": where, "kind": kind, "name": name}
        if act is None:
            entry["problem"] = "missing"
        elif exp is None:
            entry["problem"] = "unexpected"
        else:
            entry["problem"] = "differs"
        entry.update(expected=exp, actual=act)
        out.append(entry)
    return out


def diff_schemas(expected: Dict[str, Any], actual: Dict[str, Any]) -> List[Dict[str, Any]]:
    """Every difference as {object, kind, name, problem: missing|unexpected|differs, expected, actual};
    an empty list when the snapshots are equal."""
    out: List[Dict[str, Any]] = []
    exp_rel, act_rel = expected["relations"], actual["relations"]
    for key in sorted(set(exp_rel) | set(act_rel)):
        exp, act = exp_rel.get(key), act_rel.get(key)
        if exp is None or act is None:
            out.append({"object": key, "kind": (exp or act)["kind"], "name": key,
                        "problem": "missing" if act is None else "unexpected"})
            continue
        if exp["kind"] != act["kind"]:
            out.append({"object": key, "kind": "relation", "name": key, "problem": "differs",
                        "expected": exp["kind"], "actual": act["kind"]})
            continue
        for part, kind in (("columns", "column"), ("constraints", "constraint"), ("indexes", "index")):
            out += _diff_named(key, kind, exp.get(part, {}), act.get(part, {}))
        if exp.get("definition") != act.get("definition"):
            out.append({"object": key, "kind": "view definition", "name": key, "problem": "differs",
                        "expected": exp.get("definition"), "actual": act.get("definition")})
    out += _diff_named("sequences", "sequence", expected.get("sequences", {}), actual.get("sequences", {}))
    out += _diff_named("types", "enum", expected.get("enums", {}), actual.get("enums", {}))
    return out


def changed_relations(before: Dict[str, Any], after: Dict[str, Any]) -> Set[str]:
    """Relations whose definition differs between two snapshots, or that exist in only one."""
    return {d["object"] for d in diff_schemas(before, after) if d["object"] not in ("sequences", "types")}


def describe_difference(diff: Dict[str, Any]) -> str:
    """One line: 'foreign key constraint orders_customer_id_fkey of public.orders missing'."""
    kind = diff["kind"]
    if diff["object"] in ("sequences", "types") or diff["name"] == diff["object"]:
        return f"{kind} {diff['name']} {diff['problem']}"
    if kind == "constraint":
        kind = f"{(diff.get('expected') or diff.get('actual') or {}).get('type', '')} constraint".strip()
    return f"{kind} {diff['name']} of {diff['object']} {diff['problem']}"
