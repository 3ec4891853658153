# Copyright: (c) 2026, deploysafe.preflight contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The restore safety net shared by pg_restore and s3_restore: where the pre-restore backup goes, which
keys it is encrypted to, the archive's own verification of it, and how it is recorded.

A restore that overwrites a live target (force on an occupied target) first backs the target up with
the ordinary backup code path (pg/prerestore.py, s3/prerestore.py); only a verified backup lets the
restore go on. The record returned here is what undo_restore.yml needs to put the target back.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Sequence, Tuple

from ..verdict import artifact, measurement
from .crypto import fingerprint, identity_fingerprints, load_identities
from .errors import ArchiveError
from .verify import verify_artifact

PRE_RESTORE_DIR = "pre-restore"
PRE_RESTORE_PREFIX = "pre-restore"


@dataclass
class PreRestoreOptions:
    enabled: bool = True
    dest: Optional[str] = None                 # default: pre-restore/ beside the backup being restored
    encrypt_recipients: Sequence[str] = ()     # default: the restore's own key when its backup is encrypted
    identity_file: Optional[str] = None        # the restore's identity file (decrypts the backup restored)


def pre_restore_argument_spec() -> Dict[str, Any]:
    """Options of the safety net (documented by the doc fragment deploysafe.preflight.pre_restore)."""
    return dict(pre_restore_backup=dict(type="bool", default=True), pre_restore_dest=dict(type="path"),
                pre_restore_encrypt_recipients=dict(type="list", elements="str", default=[]))


def pre_restore_options(params: Dict[str, Any]) -> PreRestoreOptions:
    """PreRestoreOptions from a restore module's parameters (the restore's identity_file decrypts both)."""
    return PreRestoreOptions(enabled=params["pre_restore_backup"], dest=params["pre_restore_dest"],
                             encrypt_recipients=params["pre_restore_encrypt_recipients"],
                             identity_file=params["identity_file"])


def default_dest(backup_path: str) -> str:
    """`pre-restore/` beside the backup being restored: the two stay together, and so do their keys."""
    return os.path.join(os.path.dirname(os.path.abspath(backup_path)), PRE_RESTORE_DIR)


def recipients_for(encryption: Optional[Dict[str, Any]], opts: PreRestoreOptions, what: str) -> List[str]:
    """Recipients of the pre-restore backup. Explicit ones win. Otherwise a backup that was encrypted
    gets an encrypted pre-restore backup, to the public keys of the restore's own identity file (the key
    that opened the backup opens the undo); a plaintext copy of data kept encrypted is refused."""
    if opts.encrypt_recipients:
        return list(opts.encrypt_recipients)
    if not encryption:
        return []
    if not opts.identity_file:
        raise ArchiveError(f"{what} is encrypted, so the pre-restore backup must be too: set identity_file "
                           "or pre_restore_encrypt_recipients")
    publics = [str(ident.to_public()) for ident in load_identities(opts.identity_file)
               if getattr(ident, "to_public", None) is not None]
    if not publics:
        raise ArchiveError(f"identity file {opts.identity_file} holds only SSH keys, whose public key cannot be "
                           "derived here: set pre_restore_encrypt_recipients for the pre-restore backup")
    return publics


def ensure_dest(dest: str) -> None:
    """Create the pre-restore directory (0700) when missing; an error names the directory and the cause."""
    try:
        os.makedirs(dest, mode=0o700, exist_ok=True)
    except OSError as exc:
        raise ArchiveError(f"cannot create the pre-restore backup directory {dest}: {exc.strerror or exc}") from None
    if not os.path.isdir(dest):
        raise ArchiveError(f"pre-restore backup directory {dest} is not a directory")


def verify_written(path: str, manifest_file: str, recipients: Sequence[str],
                   identity_file: Optional[str]) -> Dict[str, Any]:
    """The archive's own verify of the fresh pre-restore backup (stored bytes, blocks, and the plaintext
    when a key we hold opens it). Raises ArchiveError when anything differs."""
    identities: List[Any] = []
    if recipients and identity_file:
        wanted = {fingerprint(key) for key in recipients}
        identities = [ident for ident, fp in zip(*_with_fingerprints(identity_file)) if fp in wanted]
    report = verify_artifact(path, manifest_file=manifest_file, identities=identities)
    undecided = [c for c in report.checks if c.ok is None]
    failed = [c for c in report.checks if c.ok is False]
    # Encrypted to keys we do not hold: the stored bytes are proven, the plaintext could not be read.
    if failed or any(c.name != "plaintext" for c in undecided) or not report.checks:
        raise ArchiveError(f"pre-restore backup {path} failed its verification: "
                           + "; ".join(c.detail for c in failed + undecided))
    return {"verified": True, "plaintext_checked": not undecided, "verify_duration": report.duration_s}


def _with_fingerprints(identity_file: str) -> Tuple[List[Any], List[Optional[str]]]:
    idents = [i for i in load_identities(identity_file) if getattr(i, "to_public", None) is not None]
    return idents, identity_fingerprints(idents)


def planned(target: str, plan: Dict[str, Any], contents: str) -> Dict[str, Any]:
    """Check mode: the record of what would be backed up, from the backup module's own plan; raises
    ArchiveError with the plan's problems, since the real run would then refuse the restore."""
    if plan["problems"]:
        raise ArchiveError("; ".join(plan["problems"]))
    return skipped(f"check mode: would back up {target} ({contents}) to {plan['would_write']} before restoring",
                   would_write=plan["would_write"], notes=plan["notes"])


def refusal(target: str, exc: BaseException, check_mode: bool = False) -> str:
    """The message of a restore refused because its pre-restore backup failed (or would fail)."""
    if check_mode:
        return f"the pre-restore backup of {target} would fail, so the restore would be refused: {exc}"
    return f"the pre-restore backup of {target} failed, so nothing was restored and {target} is untouched: {exc}"


def skipped(reason: str, **extra: Any) -> Dict[str, Any]:
    """The record when no pre-restore backup was taken, saying why."""
    return {"taken": False, "reason": reason, **extra}


def taken(kind: str, target: str, path: str, manifest: str, sha256: str, size: int, duration: float,
          checked: Dict[str, Any], **extra: Any) -> Dict[str, Any]:
    """The record of a verified pre-restore backup: what undo_restore.yml puts back, and where from."""
    return {"taken": True, "kind": kind, "target": target, "path": path, "manifest": manifest, "sha256": sha256,
            "size": size, "duration": duration, **checked, "reason": f"{target} was not empty: backed up before "
            "the restore overwrote it", **extra}


def evidence(record: Optional[Dict[str, Any]]) -> Tuple[List[Dict[str, Any]], List[Dict[str, Any]]]:
    """(artifacts, measurements) of a taken pre-restore backup for the restore's verdict."""
    if not record or not record.get("taken"):
        return [], []
    arts = [{"path": record["path"], "sha256": record["sha256"], "size_bytes": record["size"],
             "kind": "pre-restore-backup"}]
    if os.path.isfile(record["manifest"]):
        arts.append(artifact(record["manifest"], kind="pre-restore-manifest"))
    return arts, [measurement("pre_restore_backup_duration", record["duration"], "s"),
                  measurement("pre_restore_backup_bytes", record["size"], "bytes")]


__all__ = ["PRE_RESTORE_DIR", "PRE_RESTORE_PREFIX", "PreRestoreOptions", "default_dest", "ensure_dest", "evidence",
           "planned", "pre_restore_argument_spec", "pre_restore_options", "recipients_for", "refusal", "skipped",
           "taken", "verify_written"]
