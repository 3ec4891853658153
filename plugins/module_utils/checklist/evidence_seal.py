# Copyright: (c) 2026, deploysafe.preflight contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a sign-off seals, and the check that it still holds.

At signing, the sha256 of every verdict record file of the run directory (top-level `*.json` except
`signoff.json` and `run.json`; per-host `<name>@<host>.json` included) and of every evidence artifact
those verdicts name is stored in the sign-off record, which is then signed whole. Verification hashes
them all again from disk: a byte changed in a backup or a verdict after approval, a file removed or a
verdict added, or another run's id is reported by name, and the sign-off is not valid.

Artifacts named by URL (s3://...) or absent on the signing host cannot be re-hashed there: they are
sealed with the sha256 their verdict claims (which the sealed verdict file pins) and listed as not
re-hashed; if such a file appears later it is checked against that sha256.
"""

from __future__ import annotations

import copy
import json
import os
from typing import Any, Dict, List, Optional, Sequence, Tuple

from ansible_collections.deploysafe.preflight.plugins.module_utils.checklist.items import SIGNOFF_NAME
from ansible_collections.deploysafe.preflight.plugins.module_utils.checklist.signature import Verifier, signature_problem
from ansible_collections.deploysafe.preflight.plugins.module_utils.run import RUN_FILE, RunError, read_run
from ansible_collections.deploysafe.preflight.plugins.module_utils.verdict import sha256_file

_NOT_VERDICTS = {SIGNOFF_NAME + ".json", RUN_FILE}


def verdict_files(run_dir: str) -> List[str]:
    """Names of the verdict record files a sign-off seals, sorted."""
    try:
        names = os.listdir(run_dir)
    except OSError:  # missing or unreadable: no verdict can be sealed (and every sealed one shows as removed)
        return []
    return sorted(n for n in names if n.endswith(".json") and not n.startswith(".") and n not in _NOT_VERDICTS
                  and os.path.isfile(os.path.join(run_dir, n)))


def _named_artifacts(path: str) -> List[Dict[str, Any]]:
    """Artifacts a verdict record file names; [] when it is not a readable verdict (the checklist reports that)."""
    try:
        with open(path, encoding="utf-8") as handle:
            record = json.load(handle)
        artifacts = record["verdict"]["evidence"]["artifacts"]
    except (OSError, ValueError, KeyError, TypeError):
        return []
    return [a for a in artifacts if isinstance(a, dict) and isinstance(a.get("path"), str)
            and isinstance(a.get("sha256"), str)] if isinstance(artifacts, list) else []


def _local_path(run_dir: str, path: str) -> Optional[str]:
    """Where an artifact is on this host; None for URLs. Relative paths are taken from the run directory."""
    if "://" in path:
        return None
    return path if os.path.isabs(path) else os.path.join(run_dir, path)


def _short(digest: str) -> str:
    return digest[:12]


def _hash(path: str) -> Tuple[Optional[str], str]:
    """(sha256, "") of a file, or (None, why it cannot be read): unreadable evidence is never skipped."""
    try:
        return sha256_file(path), ""
    except OSError as exc:
        return None, f"cannot read {path}: {exc.strerror or exc}"


def hash_evidence(run_dir: str) -> Tuple[Dict[str, Any], List[str]]:
    """({files: {name: sha256}, artifacts: [{path, sha256, named_by, rehashed}]}, problems).

    A problem is an artifact whose bytes on disk already differ from what its verdict recorded, two
    verdicts naming one path with different sha256 (evidence changed before the sign-off), or a file
    that cannot be read: none of them can be sealed."""
    files: Dict[str, str] = {}
    claims: Dict[str, Dict[str, Any]] = {}
    problems: List[str] = []
    for name in verdict_files(run_dir):
        path = os.path.join(run_dir, name)
        digest, error = _hash(path)
        if digest is None:
            problems.append(error)
            continue
        files[name] = digest
        for art in _named_artifacts(path):
            entry = claims.setdefault(art["path"], {"path": art["path"], "sha256": art["sha256"], "named_by": []})
            if entry["sha256"] != art["sha256"]:
                problems.append(f"artifact {art['path']} is named with sha256 {_short(entry['sha256'])}... by "
                                f"{', '.join(entry['named_by'])} and {_short(art['sha256'])}... by {name}")
            entry["named_by"].append(name)
    artifacts = []
    for entry in sorted(claims.values(), key=lambda e: e["path"]):
        local = _local_path(run_dir, entry["path"])
        entry["rehashed"] = bool(local and os.path.isfile(local))
        if entry["rehashed"]:
            actual, error = _hash(local)
            if actual is None:
                problems.append(f"artifact {entry['path']} (named by {', '.join(entry['named_by'])}): {error}")
            elif actual != entry["sha256"]:
                problems.append(f"artifact {entry['path']} (named by {', '.join(entry['named_by'])}) does not match "
                                f"its verdict: sha256 on disk {_short(actual)}..., recorded {_short(entry['sha256'])}...")
        artifacts.append(entry)
    return {"files": files, "artifacts": artifacts}, problems


def check_evidence(run_dir: str, sealed: Any, signed_run_id: Optional[str]) -> Tuple[List[str], Dict[str, Any]]:
    """(problems, counts) of the evidence on disk now against what the sign-off sealed."""
    if not isinstance(sealed, dict) or not isinstance(sealed.get("files"), dict) or not isinstance(sealed.get("artifacts"), list):
        return ["the sign-off record seals no evidence hashes (signed by an older version? sign again)"], {}
    problems: List[str] = []
    try:
        run_id = (read_run(run_dir) or {}).get("run_id")
    except RunError as exc:
        problems.append(str(exc))
        run_id = signed_run_id
    if run_id != signed_run_id:
        problems.append(f"the sign-off is for run {signed_run_id or '(none)'}, but {RUN_FILE} now says run {run_id or '(none)'}")
    now = set(verdict_files(run_dir))
    for name, digest in sorted(sealed["files"].items()):
        if name not in now:
            problems.append(f"{name} was removed after the sign-off")
        else:
            actual, error = _hash(os.path.join(run_dir, name))
            if actual != digest:
                problems.append(error or f"{name} changed after the sign-off")
    problems.extend(f"{name} was added after the sign-off" for name in sorted(now - set(sealed["files"])))
    unchecked = []
    for entry in sealed["artifacts"]:
        path = str(entry.get("path"))
        local = _local_path(run_dir, path)
        present = bool(local and os.path.isfile(local))
        where = f"artifact {path} (named by {', '.join(entry.get('named_by') or [])})"
        if not present:
            if entry.get("rehashed"):
                problems.append(f"{where} was removed after the sign-off")
            else:
                unchecked.append(path)
            continue
        actual, error = _hash(local)
        if actual is None:
            problems.append(f"{where}: {error}")
        elif actual != entry.get("sha256"):
            problems.append(f"{where} changed after the sign-off: sha256 now {_short(actual)}..., "
                            f"signed {_short(str(entry.get('sha256')))}...")
    counts = {"files": len(sealed["files"]), "artifacts": len(sealed["artifacts"]), "artifacts_not_rehashed": unchecked}
    return problems, counts


def sealed_payload(record: Dict[str, Any]) -> Dict[str, Any]:
    """What the signature covers: the whole record except the signature itself."""
    payload = copy.deepcopy(record)
    (payload.get("details") or {}).pop("signature", None)
    return payload


def verify_signoff(run_dir: str, record: Dict[str, Any], verifiers: Sequence[Verifier]) -> Dict[str, Any]:
    """Signature and evidence check of a sign-off record: {problems, signature, key_id, run_id, files,
    artifacts, artifacts_not_rehashed}. No problems means the record is authentic (when a key is
    configured) and the evidence on disk is what was approved."""
    details = record.get("details") or {}
    block = details.get("signature")
    problem, state = signature_problem(sealed_payload(record), block, verifiers)
    problems = [problem] if problem else []
    evidence_problems, counts = check_evidence(run_dir, details.get("evidence"), record.get("run_id"))
    problems.extend(evidence_problems)
    return {"problems": problems, "signature": state,
            "key_id": block.get("key_id") if isinstance(block, dict) else None,
            "run_id": record.get("run_id"), "files": counts.get("files", 0), "artifacts": counts.get("artifacts", 0),
            "artifacts_not_rehashed": counts.get("artifacts_not_rehashed", [])}
