# Copyright: (c) 2026, deploysafe.preflight contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Proof of restorability: restore into a scratch database and compare it with the manifest."""

from __future__ import annotations

import contextlib
import secrets
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, Iterator, List, Optional, Tuple

from ..archive import manifest_path
from ..verdict import FAIL, PASS, PENDING, artifact, make_verdict, measurement, status_from
from . import PgError
from .connection import ConnParams, connect, server_version
from .content import (HASH_ALGORITHMS, compare_fingerprints, constraint_counts, constraint_violations,
                      list_tables, parallel_fingerprints, sequences_behind)
from .copyprint import METHOD as COPY_METHOD, copy_fingerprints
from .restore import RestoreOptions, create_database, drop_database, load_backup, restore_into

SCRATCH_PREFIX = "preflight_verify_"


@dataclass
class Comparison:
    differing_tables: List[Dict[str, Any]]
    constraint_violations: List[Dict[str, Any]]
    sequences_behind: List[Dict[str, Any]]
    tables_compared: int
    sequences_checked: int
    constraints_checked: Dict[str, int]
    duration_s: float


@dataclass
class RestoreVerifyResult:
    scratch_db: str
    kept: bool
    restore: Dict[str, Any]
    comparison: Optional[Comparison]
    max_duration: float
    total_s: float
    properties: Dict[str, str] = field(default_factory=dict)


def compare_database(params: ConnParams, manifest: Dict[str, Any], workers: int = 2,
                     bindir: Optional[str] = None) -> Comparison:
    """Compare a restored database with a manifest: (a) per-table counts/hashes, (b) FK and check
    constraints hold for every row, (c) owned sequences are not behind their column's max.
    Each table is fingerprinted the way its manifest entry says: copy_sha256 (COPY text, current
    manifests) or md5 / hash_record / count in SQL (older manifests and content_hash options)."""
    started = time.monotonic()
    conn = connect(params, autocommit=True)
    try:
        major = server_version(conn)["major"]
        tables = list_tables(conn)
        violations = constraint_violations(conn)
        checked = constraint_counts(conn)
        seq_count, behind = sequences_behind(conn)
    finally:
        conn.close()
    source = manifest["source"]
    expected = source.get("tables", {})
    algorithms = {key: entry.get("hash", "md5") for key, entry in expected.items()}
    backup_major = int(source.get("server_version_num", 0)) // 10000
    incomparable = []
    for key, algorithm in list(algorithms.items()):
        if algorithm not in HASH_ALGORITHMS + (COPY_METHOD,):
            algorithms[key] = "count"
            incomparable.append({"table": key, "problem": f"content hash {algorithm!r} is unknown to this version of "
                                 "deploysafe.preflight (a newer manifest?): upgrade the collection to verify it"})
        elif algorithm == "hash_record" and backup_major != major:
            algorithms[key] = "count"
            incomparable.append({"table": key, "problem": f"content hash hash_record is only comparable on the "
                                 f"same major version (backup {backup_major}, restore {major}); back up with "
                                 f"content_hash {COPY_METHOD} or md5"})
    by_copy = [(s, t) for s, t in tables if algorithms.get(f"{s}.{t}") == COPY_METHOD
               and expected[f"{s}.{t}"].get("rows") is not None]
    copied = set(by_copy)
    in_sql = [(s, t) for s, t in tables if (s, t) not in copied]
    # Tables the manifest does not know, or knows without data (schema-only), are only counted.
    sql_algorithms = {f"{s}.{t}": algorithms.get(f"{s}.{t}", "count") for s, t in in_sql}
    sql_algorithms = {k: ("count" if v == COPY_METHOD else v) for k, v in sql_algorithms.items()}
    actual = parallel_fingerprints(params, in_sql, workers, sql_algorithms, server_major=major)
    actual.update(copy_fingerprints(params, by_copy, source.get("copy_settings") or {}, workers,
                                    server_major=major, bindir=bindir))
    differing = compare_fingerprints(expected, actual)
    if backup_major and backup_major != major:
        for diff in differing:
            if diff["problem"] == "content hash differs" and algorithms.get(diff["table"]) == COPY_METHOD:
                diff["problem"] += (f" (backup from PostgreSQL {backup_major}, compared on {major}: float "
                                    "columns print differently across 12, see the module documentation)"
                                    if min(backup_major, major) < 12 else "")
    return Comparison(differing_tables=incomparable + differing,
                      constraint_violations=violations,
                      sequences_behind=behind, tables_compared=len(actual), sequences_checked=seq_count,
                      constraints_checked=checked, duration_s=round(time.monotonic() - started, 3))


@dataclass
class ScratchRestore:
    """A backup restored into a scratch database: where it is and how the restore went."""
    name: str
    params: ConnParams
    manifest: Dict[str, Any]
    restore: Dict[str, Any]
    server_major: int


@contextlib.contextmanager
def scratch_restore(server: ConnParams, path: str, opts: RestoreOptions, *, keep: bool = False,
                    name: Optional[str] = None, prefix: str = SCRATCH_PREFIX) -> Iterator[ScratchRestore]:
    """Restore `path` into a new scratch database on `server` (server.dbname is only the maintenance
    database to connect to) and yield it; the scratch database is dropped when the block ends, on error
    too, unless keep. name: the scratch database's name (default prefix + random hex)."""
    manifest = load_backup(path, opts.manifest_file)
    if manifest["source"].get("data_only"):
        raise PgError(f"{path} is a data-only backup: it cannot be restored into an empty scratch database")
    admin = connect(server.with_db(server.dbname or "postgres"), autocommit=True, pin=False)
    scratch = name or prefix + secrets.token_hex(6)
    try:
        major = server_version(admin)["major"]
        try:
            create_database(admin, scratch)
        except Exception as exc:
            raise PgError(f"cannot create scratch database {scratch} on {server.where()} as "
                          f"{server.user or 'default user'}: {' '.join(str(exc).split())}") from None
        try:
            params = server.with_db(scratch)
            restore = restore_into(params, path, manifest, RestoreOptions(**{
                **opts.__dict__, "clean": False, "create": False}), major, scratch, stream_last=True)
            yield ScratchRestore(scratch, params, manifest, restore, major)
        finally:
            if not keep:
                drop_database(admin, scratch, major)
    finally:
        admin.close()


def restore_verify(server: ConnParams, path: str, opts: RestoreOptions, *, max_duration: float = 300.0,
                   keep_scratch: bool = False, scratch_name: Optional[str] = None,
                   before_compare: Optional[Callable[[ConnParams], None]] = None) -> RestoreVerifyResult:
    """Restore `path` into a new scratch database on `server` (server.dbname is only the maintenance
    database to connect to), prove it matches the manifest, then drop the scratch database unless
    keep_scratch. before_compare(scratch_params) runs between restore and comparison (tests use it)."""
    started = time.monotonic()
    with scratch_restore(server, path, opts, keep=keep_scratch, name=scratch_name) as scratch:
        if before_compare:
            before_compare(scratch.params)
        comparison = compare_database(scratch.params, scratch.manifest, workers=max(1, opts.jobs),
                                      bindir=opts.bindir)
    result = RestoreVerifyResult(scratch_db=scratch.name, kept=keep_scratch, restore=scratch.restore,
                                 comparison=comparison, max_duration=max_duration,
                                 total_s=round(time.monotonic() - started, 3))
    result.properties = properties(result)
    return result


def comparison_properties(comp: Comparison) -> Dict[str, str]:
    """pass/fail/pending per property a comparison with the manifest proves. Comparing no table proves
    nothing about the data: data_matches is then pending (an empty backup, or an empty database)."""
    if comp.differing_tables:
        data = FAIL
    elif comp.tables_compared == 0:
        data = PENDING
    else:
        data = PASS
    return {
        "data_matches": data,
        "constraints_valid": PASS if not comp.constraint_violations else FAIL,
        "sequences_not_behind": PASS if not comp.sequences_behind else FAIL,
    }


def properties(result: RestoreVerifyResult) -> Dict[str, str]:
    """The comparison's properties plus restore_duration (within max_duration)."""
    return {**comparison_properties(result.comparison),
            "restore_duration": PASS if result.restore["duration_s"] <= result.max_duration else FAIL}


def comparison_problems(comp: Comparison, props: Dict[str, str]) -> List[str]:
    """One phrase per disproven or undecided property of a comparison, for a verdict summary."""
    parts = []
    if comp.differing_tables:
        parts.append("tables differ: " + ", ".join(f"{d['table']} ({d['problem']})" for d in comp.differing_tables))
    elif props["data_matches"] == PENDING:
        parts.append("no table compared (the backup holds no table): restorability of data not proven")
    if comp.constraint_violations:
        parts.append("constraint violations: " + ", ".join(
            f"{v['table']}.{v['constraint']} ({v['violating_rows']} rows)" for v in comp.constraint_violations))
    if comp.sequences_behind:
        parts.append("sequences behind: " + ", ".join(s["sequence"] for s in comp.sequences_behind))
    return parts


def comparison_findings(comp: Comparison) -> Dict[str, int]:
    return {"differing_tables": len(comp.differing_tables), "constraint_violations": len(comp.constraint_violations),
            "sequences_behind": len(comp.sequences_behind)}


_DECIDED = {PASS: True, FAIL: False}


def restore_verify_verdict(path: str, manifest_file: str, result: RestoreVerifyResult) -> Dict[str, Any]:
    """fail on any disproven property, pending when one is undecided (no table compared), else pass."""
    comp = result.comparison
    status = status_from(_DECIDED.get(v) for v in result.properties.values())
    if status == PASS:
        summary = (f"{comp.tables_compared} tables restored identical, constraints valid, sequences ahead, "
                   f"restore took {result.restore['duration_s']} s")
    else:
        parts = comparison_problems(comp, result.properties)
        if result.properties["restore_duration"] != PASS:
            parts.append(f"restore took {result.restore['duration_s']} s > {result.max_duration} s")
        summary = "; ".join(parts)
    return make_verdict(status, summary,
                        artifacts=[artifact(path, kind="backup"), artifact(manifest_file, kind="manifest")],
                        findings=comparison_findings(comp),
                        measurements=[
                            measurement("restore_duration", result.restore["duration_s"], "s",
                                        result.max_duration, "<="),
                            measurement("compare_duration", comp.duration_s, "s"),
                            measurement("total_duration", result.total_s, "s"),
                            measurement("tables_compared", comp.tables_compared, "tables"),
                        ])


def verify_database(params: ConnParams, path: str, manifest_file: Optional[str] = None,
                    workers: int = 2) -> Tuple[Comparison, Dict[str, Any]]:
    """(comparison, verdict) of an existing database (params.dbname) against the manifest of the backup at
    path: the restore-verify proof without the restore, for a database restored by someone else (a drill)."""
    manifest = load_backup(path, manifest_file)
    comp = compare_database(params, manifest, workers=max(1, workers))
    props = comparison_properties(comp)
    status = status_from(_DECIDED.get(v) for v in props.values())
    summary = (f"database {params.dbname}: {comp.tables_compared} tables equal to the backup (row counts and "
               "content hashes), constraints valid, sequences ahead" if status == PASS else
               f"database {params.dbname}: " + "; ".join(comparison_problems(comp, props)))
    verdict = make_verdict(status, summary,
                           artifacts=[artifact(path, sha256=manifest["artifact"]["sha256"], kind="backup"),
                                      artifact(manifest_file or manifest_path(path), kind="manifest")],
                           findings=comparison_findings(comp),
                           measurements=[measurement("tables_compared", comp.tables_compared, "tables"),
                                         measurement("compare_duration", comp.duration_s, "s")])
    return comp, verdict
