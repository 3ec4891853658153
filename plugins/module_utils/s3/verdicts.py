# Copyright: (c) 2026, deploysafe.preflight contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Evidence-contract verdicts of the S3 modules (plugins/module_utils/verdict.py)."""

from __future__ import annotations

import os
from typing import Any, Dict

from ..archive.prerestore import evidence as pre_restore_evidence
from ..verdict import FAIL, PASS, PENDING, artifact, make_verdict, measurement


def backup_verdict(result) -> Dict[str, Any]:
    arts = []
    if result.mode == "archive":
        arts = [artifact(result.location, sha256=result.sha256, kind="backup"),
                artifact(result.archive_manifest, kind="manifest"), artifact(result.manifest, kind="object-manifest")]
    changed = len(result.changed_keys)
    summary = f"{result.mode} {result.name}: {result.objects} objects, {result.bytes} bytes"
    if changed:
        summary += f"; {changed} changed while being backed up (stored as re-read, listed in changed_keys)"
    if result.vanished_keys:
        summary += f"; {len(result.vanished_keys)} deleted before they could be read"
    status = PASS
    if not result.objects and not result.delete_markers:
        # no data: a backup of nothing proves nothing about the data the release needs
        status, summary = PENDING, summary + " - the source has no objects, nothing was backed up"
    return make_verdict(status, summary, artifacts=arts, findings={
        "objects": result.objects, "delete_markers": result.delete_markers,
        "changed_during_backup": changed, "vanished_during_backup": len(result.vanished_keys)},
        measurements=[
            measurement("duration", result.duration_s, "s"), measurement("bytes", result.bytes, "bytes"),
            measurement("throughput", result.throughput_mb_s, "MB/s"),
            measurement("objects_per_second", result.objects_per_s, "objects/s")])


def plan_verdict(plan: Dict[str, Any]) -> Dict[str, Any]:
    problems = plan.get("problems") or []
    status = FAIL if problems else PENDING  # check mode proves nothing was backed up or restored
    summary = "; ".join(problems) if problems else f"check mode: would write {plan.get('would_write') or plan.get('target')}"
    return make_verdict(status, summary, findings={"problems": len(problems)},
                        measurements=[measurement("objects", plan.get("objects", 0), "objects"),
                                      measurement("bytes", plan.get("bytes", 0), "bytes")])


def restore_verdict(result) -> Dict[str, Any]:
    bad = len(result.rejected_keys) + len(result.differing)
    status = FAIL if bad else PASS
    summary = (f"restored {result.objects} objects ({result.bytes} bytes) into {result.target}" if not bad else
               f"restore into {result.target}: {len(result.rejected_keys)} keys rejected, "
               f"{len(result.differing)} objects differ from the manifest")
    if result.extra_deleted:
        summary += f"; deleted {result.extra_deleted} objects the backup does not hold"
    if result.delete_extra_skipped:
        summary += f"; delete_extra skipped: {result.delete_extra_skipped}"
    if not bad and not result.objects and not result.delete_markers and not result.extra_deleted:
        status, summary = PENDING, summary + " - the backup holds no objects, nothing was proven restorable"
    record = result.pre_restore_backup
    if record and record.get("taken"):
        summary += f"; pre-restore backup {record['path']}"
    pre_arts, pre_measures = pre_restore_evidence(record)
    return make_verdict(status, summary, artifacts=pre_arts,
                        findings={"rejected_keys": len(result.rejected_keys), "differing": len(result.differing),
                                  "extra_deleted": result.extra_deleted,
                                  "pre_restore_backup": 1 if record and record.get("taken") else 0},
                        measurements=[measurement("objects", result.objects, "objects"),
                                      measurement("bytes", result.bytes, "bytes"),
                                      measurement("duration", result.duration_s, "s"),
                                      measurement("throughput", result.throughput_mb_s, "MB/s"),
                                      measurement("objects_per_second", result.objects_per_s, "objects/s")]
                        + pre_measures)


def verify_verdict(result) -> Dict[str, Any]:
    if result.expected == 0 and not result.counts.get("extra"):
        status, summary = PENDING, f"the manifest lists no objects: nothing at {result.target} was proven"
    elif result.ok:
        status, summary = PASS, f"all {result.matched} objects at {result.target} match the manifest (re-read and hashed)"
    else:
        status = FAIL
        parts = [f"{n} {k}" for k, n in result.counts.items() if n]
        summary = f"{result.target} differs from the manifest: " + ", ".join(parts)
    arts = [artifact(result.manifest)] if os.path.isfile(result.manifest) else []
    rate = result.bytes / result.duration_s / 1e6 if result.duration_s else 0.0
    return make_verdict(status, summary, artifacts=arts, findings=dict(result.counts), measurements=[
        measurement("expected", result.expected, "objects"), measurement("matched", result.matched, "objects",
                                                                         result.expected, ">="),
        measurement("bytes_hashed", result.bytes, "bytes"), measurement("duration", result.duration_s, "s"),
        measurement("throughput", round(rate, 2), "MB/s")])
