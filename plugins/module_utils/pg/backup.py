# Copyright: (c) 2026, deploysafe.preflight contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""pg_backup: a snapshot-consistent pg_dump streamed through the archive layer, with per-table hashes."""

from __future__ import annotations

import os
import re
import shutil
import tempfile
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Sequence

from ..archive import (CONTENT_TYPE_TAR, ArchiveError, CommandProducer, DirectoryProducer, artifact_name,
                       write_artifact)
from ..files import plan_destination
from ..verdict import FAIL, PASS, PENDING, artifact, make_verdict, measurement
from . import PgError
from .connection import ConnParams, connect, quote_ident, server_version
from .content import HASH_ALGORITHMS, choose_algorithm, list_tables, run_fingerprints, work_units
from .copyprint import DUMP_PGOPTIONS, METHOD as COPY_METHOD
from .dirprint import DirectoryFollower
from .dumpstream import CustomArchiveTap, TappedStream, fingerprints_by_table
from .tools import find_tool

FORMATS = {"custom": ("-Fc", "application/vnd.postgresql.pg-dump.custom"),
           "plain": ("-Fp", "application/sql"),
           "directory": ("-Fd", CONTENT_TYPE_TAR)}
# Artifact name kind per format: a directory dump is published as a tar of the directory.
KINDS = {"custom": "dump", "plain": "dump", "directory": "dir.tar"}


@dataclass
class BackupOptions:
    dest: str
    prefix: str = "pg"
    format: str = "directory"  # pg_dump -Fd into a scratch dir inside dest; "custom" streams with no scratch copy
    schema_only: bool = False
    data_only: bool = False
    include_tables: Sequence[str] = ()
    exclude_tables: Sequence[str] = ()
    include_schemas: Sequence[str] = ()
    exclude_schemas: Sequence[str] = ()
    compression_level: int = 3
    compression_threads: int = -1
    encrypt_recipients: Sequence[str] = ()
    content_hash: str = COPY_METHOD
    hash_jobs: int = 2
    jobs: int = 2
    bindir: Optional[str] = None


@dataclass
class BackupResult:
    path: str
    manifest_path: str
    manifest: Dict[str, Any]
    stored_bytes: int
    plaintext_bytes: int
    sha256: str
    plaintext_sha256: str
    duration_s: float
    throughput_mb_s: float
    tables: int
    warnings: List[str] = field(default_factory=list)


def _quoted_pattern(name: str, default_schema: Optional[str] = "public") -> str:
    """Exact-name pg_dump pattern: double quotes switch off its wildcards and case folding."""
    if default_schema is None:
        return quote_ident(name)
    schema, _dot, table = name.rpartition(".")
    return f"{quote_ident(schema or default_schema)}.{quote_ident(table)}"


def dump_argv(pg_dump: str, opts: BackupOptions, snapshot: Optional[str], out_dir: Optional[str] = None,
              server_major: int = 10) -> List[str]:
    if opts.format not in FORMATS:
        raise PgError(f"format {opts.format!r} is not supported here; use one of {sorted(FORMATS)}")
    if opts.content_hash not in HASH_ALGORITHMS + (COPY_METHOD,):
        raise PgError(f"content_hash {opts.content_hash!r} is not one of {', '.join((COPY_METHOD,) + HASH_ALGORITHMS)}")
    if opts.schema_only and opts.data_only:
        raise PgError("schema_only and data_only exclude each other")
    argv = [pg_dump, FORMATS[opts.format][0], "--no-password"]
    if opts.format in ("custom", "directory"):
        argv.append("--compress=0")  # zstd outside is faster and smaller than pg_dump's gzip
    if opts.format == "directory":
        if opts.jobs < 1:
            raise PgError(f"jobs must be at least 1, not {opts.jobs}")
        argv += [f"--jobs={opts.jobs}", "-f", out_dir or "<directory>"]
        if server_major >= 10:  # the scratch directory is deleted after packing; the artifact itself is fsynced
            argv.append("--no-sync")
    if snapshot:
        argv.append(f"--snapshot={snapshot}")
    if opts.schema_only:
        argv.append("--schema-only")
    if opts.data_only:
        argv.append("--data-only")
    for flag, names, default in (("-t", opts.include_tables, "public"), ("-T", opts.exclude_tables, "public"),
                                 ("-n", opts.include_schemas, None), ("-N", opts.exclude_schemas, None)):
        for name in names:
            argv += [flag, _quoted_pattern(name, default)]
    return argv


def _directory_producer(pg_dump: str, opts: BackupOptions, snapshot: str, env: Dict[str, str],
                        fingerprints: Optional[Dict[str, Any]] = None, server_major: int = 10):
    """pg_dump -Fd --jobs N into a private (0700) temporary directory inside dest, so the dump stays on
    the destination's filesystem; once it exits cleanly the directory streams out as a tar. With
    fingerprints, the table files are hashed while pg_dump writes them (dirprint.DirectoryFollower)."""
    if not os.path.isdir(opts.dest):
        raise ArchiveError(f"destination {opts.dest} does not exist or is not a directory")
    try:
        work_dir = tempfile.mkdtemp(prefix=".pg_backup-dir-", dir=opts.dest)
    except OSError as exc:
        raise ArchiveError(f"destination not writable: cannot create a work directory in {opts.dest}: "
                           f"{exc.strerror or exc}") from None
    out_dir = os.path.join(work_dir, "dump")
    follower = DirectoryFollower(out_dir) if fingerprints is not None else None
    try:
        command = CommandProducer(dump_argv(pg_dump, opts, snapshot, out_dir, server_major), env=env,
                                  name="pg_dump")
        if follower is not None:
            follower.start()
    except BaseException:
        shutil.rmtree(work_dir, ignore_errors=True)
        raise

    def prepare() -> None:
        try:
            command.stream.read()  # -Fd writes files, not stdout; EOF comes when pg_dump exits
            command.finish()
        except BaseException as exc:
            if follower is not None:
                follower.abort()
            full = next((phrase for phrase in ("No space left on device", "Disk quota exceeded") if phrase in str(exc)),
                        None)
            if full:
                raise ArchiveError(f"destination full: {full.lower()} while pg_dump wrote its temporary uncompressed "
                                   f"dump in {opts.dest} (format directory needs room for it; format custom "
                                   f"streams without a temporary copy): {exc}") from None
            raise
        producer.warnings = command.warnings
        if follower is not None:  # most of the hashing happened while pg_dump ran; finish() does the rest
            fingerprints["toc"] = follower.finish()

    def cancel() -> None:
        command.abort()
        if follower is not None:
            follower.abort()

    producer = DirectoryProducer(out_dir, prepare, cancel=cancel, name="pg_dump directory", order=_restore_order)
    return producer, work_dir


def _restore_order(info):
    """Sort key of the tar's members: toc.dat first, then the table files smallest first, so a scratch
    restore has the TOC before any data and can start pg_restore while the last (largest) file still
    streams in (restore_stream.py)."""
    return (info.name != "toc.dat", info.size, info.name)


def _identity(conn, params: ConnParams) -> Dict[str, Any]:
    ident: Dict[str, Any] = {"kind": "postgresql", "host": params.effective_host, "port": params.port,
                             "dbname": conn.execute("SELECT current_database()").fetchone()[0]}
    try:
        ident["system_identifier"] = str(conn.execute(
            "SELECT system_identifier FROM pg_catalog.pg_control_system()").fetchone()[0])
    except Exception:  # not granted to ordinary roles (autocommit: nothing to roll back)
        pass
    return ident


def _lc_monetary(conn) -> Optional[str]:
    """The lc_monetary pg_dump's session starts with (connect() pinned ours; reset_val is the default)."""
    row = conn.execute("SELECT reset_val FROM pg_catalog.pg_settings WHERE name = 'lc_monetary'").fetchone()
    return row[0] if row else None


def _copy_tables(tables, toc, schema_only: bool) -> Dict[str, Dict[str, Any]]:
    """Manifest entries from the dump's own COPY data; a table without data in the dump has rows None
    (like a schema-only backup: only its presence is compared)."""
    dumped = fingerprints_by_table(toc) if toc is not None else {}
    out = {}
    for schema, table in tables:
        key = f"{schema}.{table}"
        found = None if schema_only else dumped.get(key)
        out[key] = ({"rows": found["rows"], "hash": COPY_METHOD, "sha256": found["sha256"], "bytes": found["bytes"]}
                    if found else {"rows": None, "hash": COPY_METHOD, "sha256": None})
    return dict(sorted(out.items()))


def run_backup(params: ConnParams, opts: BackupOptions, clock=time.time, opener=None) -> BackupResult:
    """Dump params.dbname with pg_dump inside an exported REPEATABLE READ snapshot and publish artifact +
    manifest atomically, with per-table fingerprints: by default (copy_sha256) read from the dump's own
    COPY data as it streams by, else hashed in SQL in that same snapshot (concurrently, on the server).
    opener replaces the archive layer's partial-file opener (tests use it to hold the stream)."""
    # The dump's own data can be fingerprinted in the custom and directory formats; plain SQL falls back.
    from_dump = opts.content_hash == COPY_METHOD and opts.format in ("custom", "directory")
    conn = connect(params, autocommit=True)
    try:
        version = server_version(conn)
        pg_dump = find_tool("pg_dump", version["major"], opts.bindir)
        identity = _identity(conn, params)
        lc_monetary = _lc_monetary(conn)
        conn.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        snapshot = conn.execute("SELECT pg_catalog.pg_export_snapshot()").fetchone()[0]
        if not re.fullmatch(r"[0-9A-Fa-f-]+", snapshot):
            raise PgError(f"unexpected snapshot id {snapshot!r} from the server")
        tables = list_tables(conn, opts.include_tables, opts.exclude_tables, opts.include_schemas,
                             opts.exclude_schemas)
        hashed: Dict[str, Any] = {}
        work_dir: Optional[str] = None
        extra: List[Any] = []

        def compute():
            try:
                if opts.schema_only:
                    hashed["tables"] = {f"{s}.{t}": {"rows": None, "sum64": None} for s, t in tables}
                    return
                requested = "md5" if opts.content_hash == COPY_METHOD else opts.content_hash
                algorithms = {f"{s}.{t}": choose_algorithm(conn, s, t, requested, version["major"])
                              for s, t in tables}
                # More connections in the very same snapshot hash big tables in block ranges.
                for _index in range(max(0, opts.hash_jobs - 1) if len(tables) else 0):
                    other = connect(params.with_db(identity["dbname"]), autocommit=True)
                    extra.append(other)
                    other.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
                    other.execute(f"SET TRANSACTION SNAPSHOT '{snapshot}'")
                units = work_units(conn, tables, 1 + len(extra), version["major"])
                hashed["tables"] = run_fingerprints([conn] + extra, units, algorithms)
            except BaseException as exc:
                hashed["error"] = exc
            finally:
                for other in extra:
                    other.close()

        worker = threading.Thread(target=compute, name="pg-table-hashes", daemon=True)
        dump_env = params.with_db(identity["dbname"]).env()
        if from_dump:  # pin what COPY text depends on beyond what pg_dump sets itself (copyprint.py)
            dump_env["PGOPTIONS"] = " ".join(filter(None, (dump_env.get("PGOPTIONS"), DUMP_PGOPTIONS)))
        tap, tapped, from_dir = None, None, None
        if opts.format == "directory":
            from_dir = {} if from_dump else None
            producer, work_dir = _directory_producer(pg_dump, opts, snapshot, dump_env, from_dir, version["major"])
        else:
            producer = CommandProducer(dump_argv(pg_dump, opts, snapshot), env=dump_env, name="pg_dump")
            if from_dump:
                tap = CustomArchiveTap()
                producer.stream = tapped = TappedStream(producer.stream, tap)
        if not from_dump:
            worker.start()

        def source() -> Dict[str, Any]:
            fingerprint: Dict[str, Any]
            if from_dump:
                if tapped is not None:
                    tapped.finish()
                toc = tap.result() if tap is not None else from_dir.get("toc")
                if toc is None and not opts.schema_only:
                    raise PgError("pg_dump's directory was not fingerprinted")
                fingerprint = {"tables": _copy_tables(tables, toc, opts.schema_only), "content_hash": COPY_METHOD,
                               "fingerprint_version": 2,
                               "copy_settings": {"client_encoding": toc.encoding if toc else None,
                                                 "lc_monetary": lc_monetary, "TimeZone": "UTC", "bytea_output": "hex",
                                                 "DateStyle": "ISO", "IntervalStyle": "postgres",
                                                 "extra_float_digits": "3"},
                               "table_hash": "sha256 and line count of each table's COPY text, read from the "
                                             "dump itself; per table in tables.*.sha256"}
            else:
                worker.join()
                if "error" in hashed:
                    raise PgError(f"computing per-table row counts and hashes failed: {hashed['error']}")
                # copy_sha256 on a plain SQL dump falls back to md5: say what was really computed
                fingerprint = {"tables": hashed["tables"],
                               "content_hash": "md5" if opts.content_hash == COPY_METHOD else opts.content_hash,
                               "table_hash": "count + sum of 64-bit row hashes (md5 of row text with pinned "
                                             "settings, or hash_record_extended); per table in tables.*.hash"}
            return {"server_version": version["text"], "server_version_num": version["num"],
                    "format": opts.format, "schema_only": opts.schema_only, "data_only": opts.data_only,
                    "snapshot": snapshot, "pg_dump": pg_dump,
                    **({"jobs": opts.jobs, "container": "tar", "members": producer.listing}
                       if opts.format == "directory" else {}),
                    **fingerprint}

        name = artifact_name(opts.prefix, identity["dbname"], clock(), kind=KINDS[opts.format],
                             encrypted=bool(opts.encrypt_recipients))
        try:
            result = write_artifact(producer, opts.dest, name, level=opts.compression_level,
                                    threads=opts.compression_threads, recipients=opts.encrypt_recipients,
                                    content_type=FORMATS[opts.format][1], source_identity=identity, source=source,
                                    **({"opener": opener} if opener else {}))
        except BaseException:
            # Do not wait for hashes nobody will use: cancel the running hash queries.
            for busy in [conn] + list(extra):
                try:
                    busy.cancel()
                except Exception:
                    pass
            raise
        finally:
            if tapped is not None:
                tapped.finish()
            if worker.is_alive() or worker.ident is not None:
                worker.join()
            if work_dir:
                shutil.rmtree(work_dir, ignore_errors=True)
    finally:
        conn.close()
    rate = result.plaintext_bytes / result.duration_s / 1e6 if result.duration_s else 0.0
    return BackupResult(path=result.path, manifest_path=result.manifest_path, manifest=result.manifest,
                        stored_bytes=result.stored_bytes, plaintext_bytes=result.plaintext_bytes,
                        sha256=result.sha256, plaintext_sha256=result.plaintext_sha256,
                        duration_s=result.duration_s, throughput_mb_s=round(rate, 1), tables=len(tables),
                        warnings=result.warnings)


def backup_verdict(result: BackupResult) -> Dict[str, Any]:
    """pass with the artifact, manifest and measurements; pending when the dump holds no table (an
    empty database, or filters that leave nothing): a file was written but nothing about data is proven."""
    ratio = result.plaintext_bytes / result.stored_bytes if result.stored_bytes else 0.0
    name = os.path.basename(result.path)
    if result.tables:
        status, summary = PASS, f"backup {name} written ({result.stored_bytes} bytes, {result.tables} tables)"
    else:
        status, summary = PENDING, (f"backup {name} written but holds no table (empty database or filters that "
                                    f"match nothing): nothing proven")
    return make_verdict(
        status, summary,
        artifacts=[artifact(result.path, sha256=result.sha256, kind="backup"),
                   artifact(result.manifest_path, kind="manifest")],
        findings={"tables": result.tables, "warnings": len(result.warnings)},
        measurements=[measurement("tables", result.tables, "tables"),
                      measurement("backup_duration", result.duration_s, "s"),
                      measurement("stored_bytes", result.stored_bytes, "bytes"),
                      measurement("plaintext_bytes", result.plaintext_bytes, "bytes"),
                      measurement("throughput", result.throughput_mb_s, "MB/s"),
                      measurement("compression_ratio", round(ratio, 2), "x")])


def plan_backup(params: ConnParams, opts: BackupOptions, clock=time.time) -> Dict[str, Any]:
    """check_mode: connect, check privileges, pg_dump version and free space; write nothing."""
    problems: List[str] = []
    conn = connect(params, autocommit=True)
    try:
        version = server_version(conn)
        pg_dump = None
        try:
            pg_dump = find_tool("pg_dump", version["major"], opts.bindir)
        except PgError as exc:
            problems.append(str(exc))
        dbname = conn.execute("SELECT current_database()").fetchone()[0]
        tables = list_tables(conn, opts.include_tables, opts.exclude_tables, opts.include_schemas,
                             opts.exclude_schemas)
        denied = [f"{s}.{t}" for s, t in tables if not conn.execute(
            "SELECT pg_catalog.has_table_privilege(%s, 'SELECT')",
            (f"{quote_ident(s)}.{quote_ident(t)}",)).fetchone()[0]]
        sequences = conn.execute(
            "SELECT n.nspname, c.relname FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n "
            "ON n.oid = c.relnamespace WHERE c.relkind = 'S' AND n.nspname NOT LIKE 'pg\\_%' "
            "AND n.nspname <> 'information_schema' "
            "AND NOT CASE WHEN c.relkind = 'S' THEN pg_catalog.has_sequence_privilege(c.oid, 'SELECT') END").fetchall()
        denied += [f"sequence {s}.{n}" for s, n in sequences]
        if denied:
            problems.append(f"user {params.user or 'default'} lacks SELECT on {', '.join(denied[:10])}"
                            + (f" and {len(denied) - 10} more" if len(denied) > 10 else ""))
        estimate = sum(conn.execute("SELECT pg_catalog.pg_table_size(%s::pg_catalog.regclass)",
                                    (f"{quote_ident(s)}.{quote_ident(t)}",)).fetchone()[0] for s, t in tables)
    finally:
        conn.close()
    free = None
    where, dest_problems, notes = plan_destination(opts.dest)
    problems.extend(dest_problems)
    if where is not None:
        free = shutil.disk_usage(where).free
        # Needed space is unknown before compressing; a third of the table data is a cautious floor.
        if free < estimate // 3:
            problems.append(f"destination {opts.dest} has {free} bytes free, less than a third of the "
                            f"{estimate} bytes of table data")
        elif opts.format == "directory" and free < estimate:
            # the uncompressed scratch dump (about the table data) sits in dest until it is packed
            problems.append(f"destination {opts.dest} has {free} bytes free, less than the {estimate} bytes of "
                            f"table data that the directory format's temporary uncompressed dump may need; "
                            f"free space or use format custom (streams with no temporary copy)")
    name = artifact_name(opts.prefix, dbname, clock(), kind=KINDS.get(opts.format, "dump"),
                         encrypted=bool(opts.encrypt_recipients))
    return {"would_write": os.path.join(opts.dest, name), "manifest": os.path.join(opts.dest, name) + ".manifest.json",
            "server_version": version["text"], "pg_dump": pg_dump, "tables": len(tables),
            "estimated_table_bytes": estimate, "free_bytes": free, "problems": problems, "notes": notes,
            "argv": dump_argv(pg_dump or "pg_dump", opts, "<snapshot>", server_major=version["major"])}


def plan_verdict(plan: Dict[str, Any]) -> Dict[str, Any]:
    """Check mode: fail when the plan found a problem, else pending - a plan is not a backup, nothing
    is proven until one is written (and restored)."""
    ok = not plan["problems"]
    summary = (f"check mode: would write {plan['would_write']} ({plan['tables']} tables); nothing written, "
               f"nothing proven" + "".join(f"; {note}" for note in plan.get("notes", []))
               if ok else "; ".join(plan["problems"]))
    return make_verdict(PENDING if ok else FAIL, summary,
                        findings={"problems": len(plan["problems"]), "tables": plan["tables"]},
                        measurements=[measurement("free_bytes", plan["free_bytes"], "bytes"),
                                      measurement("estimated_table_bytes", plan["estimated_table_bytes"], "bytes")])


__all__ = ["BackupOptions", "BackupResult", "run_backup", "plan_backup", "backup_verdict", "plan_verdict",
           "ArchiveError"]
