# Copyright: (c) 2026, deploysafe.preflight contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""verify_artifact(): re-read an artifact and prove it matches its manifest, without restoring it."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Sequence

from .crypto import fingerprint, identity_fingerprints, load_identities
from .errors import ArchiveError
from .manifest import load_manifest, manifest_path as default_manifest_path
from .reader import read_artifact


@dataclass
class Check:
    """One verified property: ok True/False, or None when it could not be decided."""
    name: str
    ok: Optional[bool]
    detail: str


@dataclass
class VerifyReport:
    path: str
    manifest_path: str
    checks: List[Check] = field(default_factory=list)
    manifest: Optional[Dict[str, Any]] = None
    stored_bytes: int = 0
    plaintext_bytes: int = 0
    sha256: Optional[str] = None
    plaintext_sha256: Optional[str] = None
    differing_blocks: List[Dict[str, int]] = field(default_factory=list)
    duration_s: float = 0.0

    @property
    def ok(self) -> bool:
        return bool(self.checks) and all(c.ok is True for c in self.checks)

    def problems(self) -> List[str]:
        return [c.detail for c in self.checks if c.ok is not True]

    def add(self, name: str, ok: Optional[bool], detail: str) -> None:
        self.checks.append(Check(name, ok, detail))


def _block_ranges(expected: Sequence[str], actual: Sequence[str], block_size: int, size: int) -> List[Dict[str, int]]:
    out = []
    for index in range(max(len(expected), len(actual))):
        if index >= len(expected) or index >= len(actual) or expected[index] != actual[index]:
            start = index * block_size
            out.append({"block": index, "start": start, "end": min(size, start + block_size) - 1})
    return out


def verify_artifact(path: str, *, manifest_file: Optional[str] = None, identity_file: Optional[str] = None,
                    identities: Sequence[Any] = ()) -> VerifyReport:
    """Recompute sha256 of the stored bytes, decrypt and decompress to nowhere, compare with the manifest.

    Every difference becomes a failed Check whose detail says what and where (byte ranges of the
    differing 1 MiB blocks). Raises ArchiveError only for unusable input (identity file unreadable).
    """
    started = time.monotonic()
    mpath = manifest_file or default_manifest_path(path)
    report = VerifyReport(path=path, manifest_path=mpath)
    if not os.path.isfile(path):
        report.add("artifact_present", False, f"artifact {path} does not exist")
        return report
    report.add("artifact_present", True, f"artifact {path} exists")
    try:
        manifest = load_manifest(mpath)
        report.manifest = manifest
        report.add("manifest_valid", True, f"manifest {mpath} is intact")
    except ArchiveError as exc:
        report.add("manifest_valid", False, str(exc))
        manifest = None

    idents = list(identities)
    if identity_file:
        idents += load_identities(identity_file)
    encrypted = bool(manifest["encryption"]) if manifest else path.endswith(".age")
    if manifest and encrypted and idents:
        mine = set(identity_fingerprints(idents))
        theirs = set((manifest["encryption"] or {}).get("recipients", []))
        if mine and len(mine) == len(idents) and not mine & theirs:
            report.add("identity_matches", False,
                       f"no identity in {identity_file or 'the given identities'} matches a recipient of {path} "
                       f"(identities {sorted(mine)}, recipients {sorted(theirs)})")
            idents = []  # decrypting would only repeat that; still hash the stored bytes below

    can_decrypt = not encrypted or bool(idents)
    block_size = manifest["artifact"].get("block_size", 1 << 20) if manifest else 1 << 20
    try:
        result = read_artifact(path, None, encrypted=encrypted and can_decrypt, identities=idents,
                               block_size=block_size) if can_decrypt else \
            read_artifact(path, None, encrypted=False, block_size=block_size)
    except ArchiveError as exc:
        report.add("readable", False, str(exc))
        report.duration_s = round(time.monotonic() - started, 3)
        return report
    report.stored_bytes, report.sha256 = result.stored_bytes, result.sha256
    if can_decrypt:
        report.plaintext_bytes, report.plaintext_sha256 = result.plaintext_bytes, result.plaintext_sha256

    if manifest:
        art = manifest["artifact"]
        if result.stored_bytes != art["bytes"]:
            report.add("stored_size", False, f"{path} is {result.stored_bytes} bytes, the manifest says {art['bytes']}"
                       + (" (truncated)" if result.stored_bytes < art["bytes"] else " (extra bytes)"))
        else:
            report.add("stored_size", True, f"{result.stored_bytes} bytes as recorded")
        if result.sha256 != art["sha256"]:
            report.differing_blocks = _block_ranges(art.get("block_sha256", []), result.block_sha256,
                                                    block_size, max(result.stored_bytes, art["bytes"]))
            where = ", ".join(f"bytes {b['start']}-{b['end']} (block {b['block']})"
                              for b in report.differing_blocks[:5]) or "unknown position"
            more = len(report.differing_blocks) - 5
            report.add("stored_sha256", False, f"sha256 of {path} is {result.sha256}, the manifest says "
                       f"{art['sha256']}; differs at {where}" + (f" and {more} more blocks" if more > 0 else ""))
        else:
            report.add("stored_sha256", True, f"sha256 {result.sha256} as recorded")

    if not can_decrypt:
        report.add("plaintext", None, f"{path} is encrypted and no matching identity was given: "
                   "content not decrypted, only the stored bytes were checked")
    elif result.error:
        report.add("plaintext", False, f"{path}: {result.error}")
    elif manifest:
        plain = manifest["plaintext"]
        if (result.plaintext_bytes, result.plaintext_sha256) != (plain["bytes"], plain["sha256"]):
            report.add("plaintext", False, f"decrypted+decompressed content of {path} is {result.plaintext_bytes} bytes "
                       f"with sha256 {result.plaintext_sha256}; the manifest says {plain['bytes']} bytes, "
                       f"{plain['sha256']}")
        else:
            report.add("plaintext", True, f"decompressed{' and decrypted' if encrypted else ''} content matches "
                       f"({result.plaintext_bytes} bytes)")
    else:
        report.add("plaintext", True, f"content decompresses ({result.plaintext_bytes} bytes) but there is no "
                   "manifest to compare it with")
    report.duration_s = round(time.monotonic() - started, 3)
    return report


__all__ = ["Check", "VerifyReport", "verify_artifact", "verify_verdict", "fingerprint"]


def verify_verdict(report: VerifyReport) -> Dict[str, Any]:
    """The evidence-contract verdict of a VerifyReport (fail on any difference, pending if undecided)."""
    from ..verdict import PASS, artifact, make_verdict, measurement, status_from

    status = status_from(c.ok for c in report.checks)
    arts = []
    if report.sha256 and os.path.isfile(report.path):
        arts.append(artifact(report.path, sha256=report.sha256, kind="backup"))
    if report.manifest and os.path.isfile(report.manifest_path):
        arts.append(artifact(report.manifest_path, kind="manifest"))
    findings = {c.name: 0 if c.ok else 1 for c in report.checks}
    rate = report.stored_bytes / report.duration_s / 1e6 if report.duration_s else 0.0
    summary = (f"{os.path.basename(report.path)} matches its manifest" if status == PASS
               else "; ".join(report.problems()))
    return make_verdict(status, summary, artifacts=arts, findings=findings, measurements=[
        measurement("verify_duration", report.duration_s, "s"),
        measurement("stored_bytes", report.stored_bytes, "bytes"),
        measurement("plaintext_bytes", report.plaintext_bytes, "bytes"),
        measurement("read_throughput", round(rate, 1), "MB/s"),
    ])
