# Copyright: (c) 2026, deploysafe.preflight contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""pg_restore with its safety net: before a forced restore overwrites a database that holds something,
back that database up with pg_backup's own code path and verify the archive; no verified backup, no
restore. Optionally prove afterwards that the target equals the backup's manifest (verify), which is
how undo_restore.yml shows the target is back to its pre-restore state."""

from __future__ import annotations

import dataclasses
import os
from typing import Any, Dict, Optional

from ..archive import ArchiveError, manifest_path
from ..archive.prerestore import (PRE_RESTORE_PREFIX, PreRestoreOptions, default_dest, ensure_dest, evidence, planned,
                                  recipients_for, refusal, skipped, taken, verify_written)
from ..verdict import FAIL, PASS, PENDING, artifact, make_verdict, measurement
from . import PgError
from .backup import BackupOptions, plan_backup, run_backup
from .connection import ConnParams
from .restore import RestoreOptions, load_backup, restore_artifact
from .restore_verify import compare_database


def backup_options(path: str, manifest: Dict[str, Any], opts: RestoreOptions, pre: PreRestoreOptions) -> BackupOptions:
    """The pre-restore backup: custom format (restorable with clean), copy_sha256 fingerprints from the dump
    itself (compared after pg_restore puts it back), the compression level of the backup being restored, and its encryption (see recipients_for)."""
    level = (manifest.get("compression") or {}).get("level") or 3
    return BackupOptions(dest=pre.dest or default_dest(path), prefix=PRE_RESTORE_PREFIX, format="custom",
                         compression_level=level, bindir=opts.bindir,
                         encrypt_recipients=recipients_for(manifest.get("encryption"), pre, path))


def not_needed(plan: Dict[str, Any], pre: PreRestoreOptions) -> Optional[Dict[str, Any]]:
    """The record saying why no pre-restore backup is taken, or None when one must be."""
    if not plan["target_occupied"]:
        return skipped(f"target database {plan['target']} is empty or does not exist: nothing to protect")
    if not pre.enabled:
        return skipped(f"pre_restore_backup is false: {plan['target']} ({plan['target_occupied']}) is overwritten "
                       "without a backup", unprotected=True)
    return None


def pre_restore(params: ConnParams, path: str, plan: Dict[str, Any], manifest: Dict[str, Any], opts: RestoreOptions,
                pre: PreRestoreOptions, check_mode: bool) -> Dict[str, Any]:
    """Back up the restore's target (plan['target']) and verify the archive; raises PgError when that
    fails, so the restore never starts. In check mode only plans it (pg_backup's check mode)."""
    unneeded = not_needed(plan, pre)
    if unneeded:
        return unneeded
    target = plan["target"]
    target_params = params.with_db(target)
    try:
        bopts = backup_options(path, manifest, opts, pre)
        if check_mode:
            backup_plan = plan_backup(target_params, bopts)
            return planned(target, backup_plan, f"{backup_plan['tables']} tables")
        ensure_dest(bopts.dest)
        result = run_backup(target_params, bopts)
        checked = verify_written(result.path, result.manifest_path, bopts.encrypt_recipients, pre.identity_file)
    except (PgError, ArchiveError) as exc:
        raise PgError(refusal(target, exc, check_mode)) from None
    return taken("postgresql", target, result.path, result.manifest_path, result.sha256, result.stored_bytes,
                 result.duration_s, checked, tables=result.tables, encrypted=bool(bopts.encrypt_recipients))


def restore_with_safety_net(params: ConnParams, path: str, opts: RestoreOptions, pre: PreRestoreOptions,
                            check_mode: bool = False, verify: bool = False) -> Dict[str, Any]:
    """restore_artifact() preceded by the pre-restore backup, followed (verify) by a comparison of the
    target with the manifest: per-table row counts and content hashes, constraints, sequences."""
    def protect(plan, manifest, check):
        return {"pre_restore_backup": pre_restore(params, path, plan, manifest, opts, pre, check)}

    run = restore_artifact(params, path, opts, check_mode=check_mode, before_restore=protect)
    if verify and not check_mode:
        manifest = load_backup(path, opts.manifest_file)
        comparison = compare_database(params.with_db(run["plan"]["target"]), manifest, workers=max(1, opts.jobs))
        run["verification"] = dataclasses.asdict(comparison)
    return run


def restore_verdict(path: str, manifest_file: Optional[str], run: Dict[str, Any], check_mode: bool) -> Dict[str, Any]:
    """pass when restored (and, with verify, equal to the manifest); fail on any difference found;
    pending in check mode or when verify compared no table."""
    mpath = manifest_file or manifest_path(path)
    arts = [artifact(path, kind="backup")] + ([artifact(mpath, kind="manifest")] if os.path.isfile(mpath) else [])
    record = run.get("pre_restore_backup")
    pre_arts, pre_measures = evidence(record)
    target = run["plan"]["target"]
    if check_mode:
        return make_verdict(PENDING, f"would restore {os.path.basename(path)} into {target}; "
                            f"pre-restore backup: {record['reason']}", artifacts=arts)
    findings = {"warnings": len(run["warnings"]), "pre_restore_backup": 1 if record.get("taken") else 0}
    measures = [measurement("restore_duration", run["duration_s"], "s")] + pre_measures
    status, summary = PASS, f"restored into {target} in {run['duration_s']} s"
    comp = run.get("verification")
    if comp is not None:
        problems = ([f"{d['table']} ({d['problem']})" for d in comp["differing_tables"]]
                    + [f"{v['table']}.{v['constraint']} violated" for v in comp["constraint_violations"]]
                    + [f"sequence {s['sequence']} behind" for s in comp["sequences_behind"]])
        findings.update(differing_tables=len(comp["differing_tables"]),
                        constraint_violations=len(comp["constraint_violations"]),
                        sequences_behind=len(comp["sequences_behind"]))
        measures.append(measurement("tables_compared", comp["tables_compared"], "tables"))
        if problems:
            status, summary = FAIL, f"{target} differs from the manifest after the restore: " + ", ".join(problems)
        elif not comp["tables_compared"]:
            status, summary = PENDING, summary + "; no table compared (the backup holds none): equality not proven"
        else:
            summary += f"; {comp['tables_compared']} tables equal to the manifest (row counts and content hashes)"
    if record.get("taken"):
        summary += f"; pre-restore backup {record['path']}"
    return make_verdict(status, summary, artifacts=arts + pre_arts, findings=findings, measurements=measures)
