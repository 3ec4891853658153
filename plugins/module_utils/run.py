# Copyright: (c) 2026, deploysafe.preflight contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""One release run: <run_dir>/run.json names the run every verdict in the directory must belong to.

A run is started once per release run (a new run_id, the release identity: image digest, manifests
hash, git commit) and joined by the separate jobs of the same run (AWX workflow nodes pass run_id on).
The checklist treats a verdict recorded under another run_id as pending, so reusing a run directory
can never let an earlier run's pass stand for this one.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import subprocess
import time
from typing import Any, Dict, List, Optional, Tuple

from ansible_collections.deploysafe.preflight.plugins.module_utils.errors import PreflightError
from ansible_collections.deploysafe.preflight.plugins.module_utils.verdict import (
    COLLECTION, COLLECTION_VERSION, sha256_file, utc_iso, write_record,
)

RUN_FILE = "run.json"
RUN_FORMAT = 1


class RunError(PreflightError):
    """A run that cannot be started or joined; the message says what and where."""


def new_run_id(now: Optional[float] = None) -> str:
    """Sortable and unique: UTC start time plus 48 random bits, e.g. 20261203T074512Z-9f3a61c2b0d4."""
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(time.time() if now is None else now))
    return f"{stamp}-{secrets.token_hex(6)}"


def read_run(run_dir: str) -> Optional[Dict[str, Any]]:
    """The run record of run_dir, None when no run was started there. Raises RunError when unreadable."""
    path = os.path.join(run_dir, RUN_FILE)
    try:
        with open(path, encoding="utf-8") as handle:
            record = json.load(handle)
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        raise RunError(f"run file {path} is unreadable: {exc}") from exc
    if not isinstance(record, dict) or not isinstance(record.get("run_id"), str) or not record["run_id"]:
        raise RunError(f"run file {path} has no run_id")
    return record


def image_digest(path: str) -> Optional[str]:
    """sha256 of an image archive file, or the manifest digest an OCI layout's index.json names."""
    if os.path.isfile(path):
        return "sha256:" + sha256_file(path)
    index = os.path.join(path, "index.json")
    if os.path.isfile(index):
        with open(index, encoding="utf-8") as handle:
            manifests = (json.load(handle) or {}).get("manifests") or []
        if manifests and isinstance(manifests[0], dict):
            return manifests[0].get("digest")
    return None


def tree_sha256(paths: List[str]) -> Optional[str]:
    """One hash over the YAML/JSON files under paths (relative name + content hash, sorted)."""
    entries = []
    for top in paths:
        if os.path.isfile(top):
            entries.append((os.path.basename(top), sha256_file(top)))
            continue
        for root, dirs, files in os.walk(top):
            dirs.sort()
            for name in sorted(files):
                if name.endswith((".yml", ".yaml", ".json")):
                    full = os.path.join(root, name)
                    entries.append((os.path.relpath(full, top), sha256_file(full)))
    if not entries:
        return None
    digest = hashlib.sha256()
    for name, value in sorted(entries):
        digest.update(f"{name}\0{value}\n".encode())
    return "sha256:" + digest.hexdigest()


def git_commit(path: str) -> Optional[str]:
    """HEAD of the git work tree at path, None when it is not one (or git is absent)."""
    try:
        out = subprocess.run(["git", "-C", path, "rev-parse", "HEAD"], capture_output=True, text=True, timeout=30,
                             check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() if out.returncode == 0 and out.stdout.strip() else None


def release_identity(image: str = "", manifests: Optional[List[str]] = None, repo: str = "",
                     extra: Optional[Dict[str, Any]] = None) -> Dict[str, Any]:
    """What is being released, as far as it is known: image digest, manifests hash, git commit, plus extra."""
    release: Dict[str, Any] = dict(extra or {})
    for key, path, compute in (("image_digest", image, image_digest), ("repo_commit", repo, git_commit)):
        if path:
            if not os.path.exists(path):
                raise RunError(f"{key.split('_', 1)[0]} {path} does not exist")
            value = compute(path)
            if value:
                release[key] = value
    paths = [p for p in manifests or [] if p]
    missing = [p for p in paths if not os.path.exists(p)]
    if missing:
        raise RunError(f"manifests path(s) do not exist: {', '.join(missing)}")
    if paths:
        value = tree_sha256(paths)
        if value:
            release["manifests_sha256"] = value
    return release


def start_or_join(run_dir: str, run_id: str = "", release: Optional[Dict[str, Any]] = None,
                  now: Optional[float] = None) -> Tuple[bool, Dict[str, Any], Optional[Dict[str, Any]]]:
    """(changed, run record to store, record on disk).

    Without run_id a new run starts (a new id, whatever run_dir held before). With run_id the run is
    joined: run.json must name the same id (or not exist yet); a run_dir that belongs to another run is
    refused, since this job's verdicts would then mix with another run's.
    """
    now = time.time() if now is None else now
    before = read_run(run_dir)
    release = dict(release or {})
    if run_id:
        if before is not None and before["run_id"] != run_id:
            raise RunError(f"{os.path.join(run_dir, RUN_FILE)} belongs to run {before['run_id']}, not to run {run_id}: "
                           "a newer run started in this directory; start a new run or use another run_dir")
        if before is not None:
            merged = dict(before.get("release") or {})
            conflicts = sorted(k for k, v in release.items() if k in merged and merged[k] != v)
            if conflicts:
                raise RunError(f"run {run_id} was started for another release: {', '.join(conflicts)} differ "
                               f"({', '.join(f'{k}: {merged[k]} vs {release[k]}' for k in conflicts)})")
            merged.update(release)
            record = dict(before, release=merged)
            return record != before, record, before
    record = {
        "format": RUN_FORMAT, "run_id": run_id or new_run_id(now), "release": release,
        "started_at": utc_iso(now),
        "producer": {"collection": COLLECTION, "version": COLLECTION_VERSION},
    }
    return True, record, before


def store_run(run_dir: str, record: Dict[str, Any]) -> str:
    """Write run.json atomically; returns its path."""
    return write_record(os.path.join(run_dir, RUN_FILE), record)


def current_run(run_dir: str, run_id: str = "", now: Optional[float] = None,
                create: bool = True) -> Optional[Dict[str, Any]]:
    """The run a verdict recorded now belongs to: run.json's (checked against run_id when given), or a new
    run started on the spot when run_dir has none yet (a role used on its own). With create=False (check
    mode) nothing is written, and a directory without a run gives None."""
    record = read_run(run_dir)
    if record is None and not create:
        return None
    if record is None:
        _changed, record, _before = start_or_join(run_dir, run_id, now=now)
        # Several hosts may record their first verdict at the same moment: only one run may start.
        record = _create_once(run_dir, record)
    if run_id and record["run_id"] != run_id:
        raise RunError(f"{os.path.join(run_dir, RUN_FILE)} belongs to run {record['run_id']}, not to run {run_id}")
    return record


def _create_once(run_dir: str, record: Dict[str, Any]) -> Dict[str, Any]:
    """Store run.json unless another process created it first (link fails on an existing name); the
    record that ends up on disk is returned."""
    os.makedirs(run_dir, exist_ok=True)
    path = os.path.join(run_dir, RUN_FILE)
    staging = os.path.join(run_dir, f".{RUN_FILE}.{os.getpid()}.{secrets.token_hex(4)}.partial")
    write_record(staging, record)
    try:
        os.link(staging, path)
    except FileExistsError:
        return read_run(run_dir) or record
    finally:
        os.unlink(staging)
    return record
