# Copyright: (c) 2026, deploysafe.preflight contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The database down-path of a rollback: can version N+1's schema go back to version N's without losing data?

Restore the newest verified backup (or a given one) into a scratch database, snapshot its schema S_N and
the row counts and content hashes of its tables, optionally apply the up migration (S_N+1), apply the
down migration, then prove (a) the schema equals S_N (or a given expected schema), (b) every table the
up migration did not touch (every table, without one) kept its rows and content, (c) every foreign key
and check constraint holds for every row, (d) each step ran without error. The scratch database is
dropped at the end, failure and interruption included.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional

from ..signals import signals_raise
from ..verdict import FAIL, PASS, PENDING, make_verdict, measurement
from . import PgError
from .backup_choice import BackupChoice, choose_backup, local_copy
from .connection import ConnParams, connect, require_psycopg
from .content import compare_fingerprints, constraint_violations, parallel_fingerprints, qualify
from .migration import MigrationStep, StepResult, run_step
from .restore import RestoreOptions
from .restore_verify import scratch_restore
from .schema import capture_schema, changed_relations, describe_difference, diff_schemas, load_schema_file, tables_of

SCRATCH_PREFIX = "preflight_downpath_"


@dataclass
class DownPathOptions:
    server: ConnParams                          # admin connection; dbname is the maintenance database
    down: MigrationStep
    up: Optional[MigrationStep] = None
    backup: Optional[str] = None                # an artifact path
    backup_location: Optional[str] = None       # directory or s3://bucket/prefix/: newest verified there
    s3: Any = None                              # s3.client.S3Conn for an s3:// location
    expected_schema: Optional[str] = None       # a file in schema.SCHEMA_FORMAT; default S_N
    restore: RestoreOptions = field(default_factory=RestoreOptions)
    migration_timeout: float = 600.0
    max_down_seconds: Optional[float] = None    # the rollback SLA, when the down-path is part of it
    keep_scratch: bool = False

    @classmethod
    def from_params(cls, params: Dict[str, Any], s3: Any = None,
                    max_down_seconds: Optional[float] = None) -> "DownPathOptions":
        """From the validated `database` option group (pg/args.py down_path_argument_spec)."""
        down = MigrationStep.from_params("down", params.get("down_migration"))
        if down is None:
            raise PgError("database: down_migration is required (a sql_file or a command)")
        restore = RestoreOptions(jobs=max(1, params.get("jobs") or 2), no_owner=bool(params.get("no_owner")),
                                 no_privileges=bool(params.get("no_privileges")),
                                 identity_file=params.get("identity_file"), work_dir=params.get("work_dir"),
                                 bindir=params.get("bindir"))
        return cls(server=ConnParams.from_params(params), down=down,
                   up=MigrationStep.from_params("up", params.get("up_migration")),
                   backup=params.get("backup"), backup_location=params.get("backup_location"), s3=s3,
                   expected_schema=params.get("expected_schema"), restore=restore,
                   migration_timeout=float(params.get("migration_timeout") or 600),
                   max_down_seconds=max_down_seconds, keep_scratch=bool(params.get("keep_scratch")))

    def check(self) -> Optional[Dict[str, Any]]:
        """Input errors (PgError) before anything is restored; returns the expected schema if given."""
        if bool(self.backup) == bool(self.backup_location):
            raise PgError("database: give exactly one of backup and backup_location")
        if self.backup and self.backup.startswith("s3://"):
            raise PgError(f"database.backup {self.backup} is not a local path: give the S3 prefix as backup_location "
                          "(s3://bucket/prefix/), where the newest verified backup is used")
        for step in (self.up, self.down):
            if step:
                step.check()
        return load_schema_file(self.expected_schema) if self.expected_schema else None


def database_options(database: Optional[Dict[str, Any]], s3: Any, sla: float) -> Optional[DownPathOptions]:
    """DownPathOptions from a module's `database` option group (and `s3`, an S3Conn), checked (files,
    expected schema) before anything else starts, so that a typo does not cost a whole rehearsal.
    None when not configured."""
    if not database:
        return None
    opts = DownPathOptions.from_params(database, s3=s3, max_down_seconds=sla)
    opts.check()
    return opts


def required_libraries(database: Optional[Dict[str, Any]]) -> List[str]:
    """Python libraries the `database` option group needs (for deps.requires)."""
    if not database:
        return []
    return ["psycopg", "zstandard"] + (["pyrage"] if database.get("identity_file") else []) + \
        (["boto3"] if (database.get("backup_location") or "").startswith("s3://") else [])


def _plan(opts: DownPathOptions, choice: BackupChoice) -> Dict[str, Any]:
    return {"backup": choice.as_dict(), "up_migration": opts.up.describe() if opts.up else None,
            "down_migration": opts.down.describe(),
            "expected_schema": opts.expected_schema or "the schema restored from the backup, before any migration"}


def plan_down_path(opts: DownPathOptions) -> Dict[str, Any]:
    """check_mode: which backup and migrations would be used; nothing is restored or run."""
    opts.check()
    choice = choose_backup(opts.backup, opts.backup_location, opts.s3)
    result = {"plan": _plan(opts, choice)}
    if choice.artifact is None:
        result["verdict"] = make_verdict(PENDING, f"database down-path: {choice.none_because}")
    else:
        result["verdict"] = make_verdict(PENDING, f"check mode: would restore {choice.artifact} into a scratch "
                                                  f"database and run {'up then ' if opts.up else ''}down migration")
    return result


def rehearse_down_path(opts: DownPathOptions) -> Dict[str, Any]:
    """The down-path rehearsal; returns {plan, scratch_db, scratch_dropped, timings, steps, schema_differences,
    untouched_tables, changed_tables, constraint_violations, schema_before, verdict}. Input errors raise
    PgError; anything that goes wrong once the backup is chosen is a fail verdict that says what."""
    expected = opts.check()
    choice = choose_backup(opts.backup, opts.backup_location, opts.s3)
    out: Dict[str, Any] = {"plan": _plan(opts, choice), "timings": {}, "steps": {}}
    if choice.artifact is None:
        out["verdict"] = make_verdict(PENDING, f"database down-path not rehearsed: {choice.none_because}")
        return out
    name = SCRATCH_PREFIX + secrets.token_hex(6)
    try:
        with signals_raise(), local_copy(choice, opts.s3, opts.restore.work_dir) as path:
            out["scratch_db"] = name
            with scratch_restore(opts.server, path, opts.restore, keep=opts.keep_scratch, name=name) as scratch:
                out["timings"]["restore"] = scratch.restore["duration_s"]
                _migrate_and_compare(opts, scratch.params, scratch.server_major, expected, out)
        out["scratch_dropped"] = not opts.keep_scratch
    except KeyboardInterrupt as exc:   # Ctrl-C, or SIGTERM/SIGHUP as signals.Interrupted: the drop has run
        what = getattr(exc, "signal_name", "SIGINT")
        if "scratch_db" not in out:
            raise PgError(f"database down-path interrupted by {what}; nothing was restored") from None
        kept = "kept (keep_scratch)" if opts.keep_scratch else "dropped"
        raise PgError(f"database down-path interrupted by {what}; the scratch database {name} was {kept}") from None
    except (PgError, require_psycopg().Error) as exc:
        out["scratch_dropped"] = not opts.keep_scratch if "scratch_db" in out else None
        why = " ".join(str(exc).split())
        out["error"] = why
        out["verdict"] = make_verdict(FAIL, f"database down-path from {choice.artifact} failed: {why}",
                                      measurements=_timing_measurements(opts, out))
        return out
    out["verdict"] = down_path_verdict(opts, choice, out)
    return out


def _snapshot(params: ConnParams, tables: Optional[List[str]], major: int, workers: int):
    """(schema, fingerprints of `tables` or of every table) of the scratch database."""
    conn = connect(params, autocommit=True)
    try:
        schema = capture_schema(conn)
        violations = constraint_violations(conn)
    finally:
        conn.close()
    names = tables_of(schema) if tables is None else [t for t in tables if t in tables_of(schema)]
    prints = parallel_fingerprints(params, [qualify(t) for t in names], workers, server_major=major)
    return schema, prints, violations


def _migrate_and_compare(opts: DownPathOptions, params: ConnParams, major: int,
                         expected: Optional[Dict[str, Any]], out: Dict[str, Any]) -> None:
    workers = max(1, opts.restore.jobs)
    before, prints_before, _violations = _snapshot(params, None, major, workers)
    out["schema_before"] = before
    after_up = before
    for step in (opts.up, opts.down):
        if step is None:
            continue
        result = run_step(params, step, opts.migration_timeout)
        out["steps"][step.name] = result.as_dict()
        out["timings"][step.name] = result.seconds
        if not result.ok:
            return
        if step.name == "up":
            conn = connect(params, autocommit=True)
            try:
                after_up = capture_schema(conn)
            finally:
                conn.close()
    touched = changed_relations(before, after_up)
    untouched = [t for t in tables_of(before) if t not in touched]
    after, prints_after, violations = _snapshot(params, tables_of(before), major, workers)
    differences = diff_schemas(expected or before, after)
    data = compare_fingerprints({k: v for k, v in prints_before.items() if k in untouched},
                                {k: v for k, v in prints_after.items() if k in untouched})
    for entry in data:
        if entry["problem"] == "missing after restore":
            entry["problem"] = "dropped by the down migration"
    out.update(schema_differences=differences, constraint_violations=violations,
               untouched_tables=untouched, changed_tables=sorted(touched), untouched_tables_changed=data,
               # informational: the up migration changed these, so a different hash is not a down-path failure
               touched_tables_changed=compare_fingerprints(
                   {k: v for k, v in prints_before.items() if k in touched and k in prints_after},
                   {k: v for k, v in prints_after.items() if k in touched}))


def _timing_measurements(opts: DownPathOptions, out: Dict[str, Any]) -> List[Dict[str, Any]]:
    timings = out["timings"]
    ms = []
    if "restore" in timings:
        ms.append(measurement("database_restore_seconds", timings["restore"], "s"))
    if opts.up and "up" in timings:
        ms.append(measurement("database_up_seconds", timings["up"], "s"))
    if "down" in timings:
        ms.append(measurement("database_down_seconds", timings["down"], "s", opts.max_down_seconds,
                              "<=" if opts.max_down_seconds is not None else None))
    return ms


def _step_failure(step: Dict[str, Any]) -> str:
    what = f"{step['name']} migration failed"
    if step.get("constraint"):
        what += f" on constraint {step['constraint']}" + (f" of {step['table']}" if step.get("table") else "")
    return f"{what}: {step.get('error')}"


def down_path_verdict(opts: DownPathOptions, choice: BackupChoice, out: Dict[str, Any]) -> Dict[str, Any]:
    """fail on a failed step, a schema difference, a changed untouched table or a violated constraint;
    pending when the backup held no table (nothing proven about data); else pass."""
    ms = _timing_measurements(opts, out)
    art = [{"path": choice.artifact, "sha256": choice.sha256, "size_bytes": choice.size_bytes, "kind": "backup"}]
    failed = [s for s in out["steps"].values() if not s["ok"]]
    for name in ("up", "down"):
        if name in out["steps"]:
            ms.append(measurement(f"database_{name}_migration_ok", out["steps"][name]["ok"], "bool", True, "=="))
    if failed:
        return make_verdict(FAIL, "database down-path: " + _step_failure(failed[0]), artifacts=art, measurements=ms)
    differences, changed = out["schema_differences"], out["untouched_tables_changed"]
    ms += [measurement("database_schema_differences", len(differences), "count", 0, "=="),
           measurement("database_untouched_tables_compared", len(out["untouched_tables"]), "tables"),
           measurement("database_untouched_tables_changed", len(changed), "count", 0, "=="),
           measurement("database_constraint_violations", len(out["constraint_violations"]), "count", 0, "==")]
    findings = {"schema_differences": len(differences), "untouched_tables_changed": len(changed),
                "constraint_violations": len(out["constraint_violations"])}
    problems = []
    if differences:
        against = "the expected schema" if opts.expected_schema else "version N's schema (restored)"
        shown = "; ".join(describe_difference(d) for d in differences[:8])
        more = f" and {len(differences) - 8} more" if len(differences) > 8 else ""
        problems.append(f"schema after the down migration differs from {against}: {shown}{more}")
    if changed:
        problems.append("untouched tables changed: " + ", ".join(f"{d['table']} ({d['problem']})" for d in changed))
    if out["constraint_violations"]:
        problems.append("constraints violated after the down migration: " + ", ".join(
            f"{v['constraint']} of {v['table']} ({v['violating_rows']} rows)" for v in out["constraint_violations"]))
    timing = ", ".join(f"{k} {v:.2f} s" for k, v in out["timings"].items())
    if opts.max_down_seconds is not None and out["timings"]["down"] > opts.max_down_seconds:
        problems.append(f"down migration took {out['timings']['down']:.1f} s, over {opts.max_down_seconds:.0f} s")
    if problems:
        return make_verdict(FAIL, "database down-path: " + "; ".join(problems) + f" ({timing})",
                            artifacts=art, findings=findings, measurements=ms)
    if not tables_of(out["schema_before"]):
        return make_verdict(PENDING, f"database down-path: the backup {choice.artifact} holds no table, nothing "
                                     "proven about data", artifacts=art, findings=findings, measurements=ms)
    return make_verdict(PASS, f"database down-path: {'up and ' if opts.up else ''}down migration ran, schema back to "
                              f"{'the expected schema' if opts.expected_schema else 'version N'}, "
                              f"{len(out['untouched_tables'])} untouched table(s) identical, constraints hold "
                              f"({timing}; backup {choice.artifact})",
                        artifacts=art, findings=findings, measurements=ms)


__all__ = ["DownPathOptions", "MigrationStep", "StepResult", "database_options", "plan_down_path", "rehearse_down_path",
           "required_libraries"]
