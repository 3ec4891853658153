# Copyright: (c) 2026, deploysafe.preflight contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The evidence contract every check returns: verdict = {status, summary, evidence}.

status is pass | fail | pending. pending means "could not decide" (no data, dependency missing)
and never counts as a pass. evidence = {artifacts: [{path, sha256, size_bytes}], findings: {name: count},
measurements: [{name, value, unit, threshold?, comparison?, ok?}]}. Roles persist a verdict with
write_verdict() so the checklist can be assembled from separate runs.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
import time
from typing import Any, Dict, Iterable, List, Optional

from .files import sha256_file  # the one file hash; also imported from here by older callers

PASS = "pass"
FAIL = "fail"
PENDING = "pending"
STATUSES = (PASS, FAIL, PENDING)
# 2: records carry run_id, release, host, producer, manual, verified_at.
VERDICT_FORMAT = 2
COLLECTION = "deploysafe.preflight"
# Kept equal to galaxy.yml's version by a unit test; modules cannot read galaxy.yml on a managed node.
COLLECTION_VERSION = "0.1.0"
_RANK = {PASS: 0, PENDING: 1, FAIL: 2}
# The one gate option of every role and check module: fail the task when the verdict is `fail`
# (fail), when it is anything but `pass` (pending), or never (the checklist decides).
FAIL_ON = ("fail", "pending", "never")


def gate_failed(status: str, fail_on: str) -> bool:
    """True when a verdict with this status must fail the task under the gate option fail_on."""
    if fail_on not in FAIL_ON:
        raise ValueError(f"fail_on must be one of {FAIL_ON}, not {fail_on!r}")
    if fail_on == "never":
        return False
    return status == FAIL or (fail_on == "pending" and status != PASS)


def has_evidence(evidence: Dict[str, Any]) -> bool:
    """A pass is earned only with at least one artifact or one measurement behind it."""
    return bool(evidence.get("artifacts")) or bool(evidence.get("measurements"))


def failed_measurements(evidence: Dict[str, Any]) -> List[str]:
    """Names of measurements whose threshold check says ok: false."""
    return [str(m.get("name")) for m in evidence.get("measurements") or [] if isinstance(m, dict) and m.get("ok") is False]


def earned(verdict: Dict[str, Any]) -> Dict[str, Any]:
    """The verdict with its status made honest: a measurement with ok: false makes it fail, a pass with
    neither artifact nor measurement becomes pending. Returns a new dict; the input is not changed."""
    verdict = dict(verdict)
    evidence = verdict.get("evidence") or {}
    bad = failed_measurements(evidence)
    if bad and verdict.get("status") != FAIL:
        verdict.update(status=FAIL, summary=f"{verdict.get('summary', '')} [measurements not ok: {', '.join(bad)}]".strip())
    elif verdict.get("status") == PASS and not has_evidence(evidence):
        verdict.update(status=PENDING, summary=f"{verdict.get('summary', '')} [pass without evidence: no artifact or measurement]".strip())
    return verdict


def artifact(path: str, sha256: Optional[str] = None, kind: Optional[str] = None) -> Dict[str, Any]:
    """Evidence entry for a file: path, sha256 (computed when not given) and size."""
    entry = {"path": str(path), "sha256": sha256 or sha256_file(path), "size_bytes": os.path.getsize(path)}
    if kind:
        entry["kind"] = kind
    return entry


def measurement(name: str, value: Any, unit: str, threshold: Any = None, comparison: Optional[str] = None) -> Dict[str, Any]:
    """A measured value with its unit; with a threshold, `ok` says whether value satisfies it.

    comparison is one of "<", "<=", ">", ">=", "==" and reads "value <comparison> threshold".
    """
    entry: Dict[str, Any] = {"name": name, "value": value, "unit": unit}
    if threshold is not None and comparison:
        entry.update(threshold=threshold, comparison=comparison, ok=compare(value, comparison, threshold))
    return entry


def compare(value: Any, comparison: str, threshold: Any) -> bool:
    if value is None:
        return False
    ops = {
        "<": lambda: value < threshold,
        "<=": lambda: value <= threshold,
        ">": lambda: value > threshold,
        ">=": lambda: value >= threshold,
        "==": lambda: value == threshold,
    }
    if comparison not in ops:
        raise ValueError(f"unknown comparison {comparison!r}")
    return bool(ops[comparison]())


def make_verdict(status: str, summary: str, *, artifacts: Iterable[Dict[str, Any]] = (),
                 findings: Optional[Dict[str, int]] = None,
                 measurements: Iterable[Dict[str, Any]] = ()) -> Dict[str, Any]:
    """Build a verdict dict; the one constructor every check uses."""
    if status not in STATUSES:
        raise ValueError(f"verdict status must be one of {STATUSES}, not {status!r}")
    return earned({
        "status": status,
        "summary": summary,
        "evidence": {
            "artifacts": list(artifacts),
            "findings": dict(findings or {}),
            "measurements": list(measurements),
        },
    })


def status_from(checks: Iterable[Optional[bool]]) -> str:
    """fail if any check is False, pending if none ran or any is None (undecided), else pass."""
    checks = list(checks)
    if any(c is False for c in checks):
        return FAIL
    if not checks or any(c is None for c in checks):
        return PENDING
    return PASS


def worst(statuses: Iterable[str]) -> str:
    """Combine statuses: fail beats pending beats pass; no statuses at all is pending."""
    statuses = list(statuses)
    if not statuses:
        return PENDING
    return max(statuses, key=lambda s: _RANK[s])


def merge(summary: str, verdicts: List[Dict[str, Any]]) -> Dict[str, Any]:
    """One verdict from several: worst status, evidence concatenated (finding counts added, artifacts
    once per path and hash), producers united. No verdicts at all is pending."""
    findings: Dict[str, int] = {}
    artifacts: List[Dict[str, Any]] = []
    seen = set()
    for v in verdicts:
        for key, count in v["evidence"]["findings"].items():
            findings[key] = findings.get(key, 0) + count
        for a in v["evidence"]["artifacts"]:
            if (a.get("path"), a.get("sha256")) not in seen:
                seen.add((a.get("path"), a.get("sha256")))
                artifacts.append(a)
    merged = make_verdict(
        worst(v["status"] for v in verdicts), summary, artifacts=artifacts, findings=findings,
        measurements=[m for v in verdicts for m in v["evidence"]["measurements"]],
    )
    modules = [m for v in verdicts for m in (v.get("producer") or {}).get("modules") or []]
    if modules and all((v.get("producer") or {}).get("modules") for v in verdicts):
        merged = produced_by(merged, *dict.fromkeys(modules))
    return merged


def atomic_write_bytes(path: str, data: bytes, mode: int = 0o600) -> None:
    """Write to a temp name in the same directory, fsync, rename: never a half-written file."""
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix="." + os.path.basename(path) + ".", suffix=".partial", dir=directory)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    dir_fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def produced_by(verdict: Dict[str, Any], *modules: str) -> Dict[str, Any]:
    """The verdict stamped with the modules of this collection that computed it (its producer).

    A recorded verdict without a producer was written by hand and is marked manual in the checklist.
    """
    stamped = dict(verdict)
    known = list((verdict.get("producer") or {}).get("modules") or [])
    stamped["producer"] = {"collection": COLLECTION, "version": COLLECTION_VERSION,
                           "modules": known + [m for m in modules if m not in known]}
    return stamped


def stamp_module_verdicts(module: Any, name: str) -> None:
    """Make every verdict `module` (an AnsibleModule) returns, on success or failure, name `name` as its
    producer. Modules return verdicts from several exits (plans, errors, gates); stamping at the exits
    keeps every path covered without each one remembering to."""
    for attr in ("exit_json", "fail_json"):
        original = getattr(module, attr)

        def stamped(*args: Any, _original: Any = original, **kwargs: Any) -> Any:
            if isinstance(kwargs.get("verdict"), dict):
                kwargs["verdict"] = produced_by(kwargs["verdict"], name)
            return _original(*args, **kwargs)

        setattr(module, attr, stamped)


def utc_iso(epoch: float) -> str:
    """The records' timestamp format: 2026-12-03T08:00:00Z."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch))


def verdict_record(name: str, verdict: Dict[str, Any], details: Optional[Dict[str, Any]] = None,
                   now: Optional[float] = None, run: Optional[Dict[str, Any]] = None, host: Optional[str] = None,
                   recorded_by: Optional[str] = None) -> Dict[str, Any]:
    """The JSON document stored as <run_dir>/<name>.json (or <name>@<host>.json).

    run is the run record (run_id, release) the verdict belongs to; verified_at is when this run last
    confirmed the verdict, recorded_at when its content was first recorded (the caller keeps it on refresh).
    A verdict without a producer is manual: recorded_by says who wrote it.
    """
    validate(verdict)
    stamp = utc_iso(now if now is not None else time.time())
    producer = verdict.get("producer") or {}
    return {
        "format": VERDICT_FORMAT,
        "name": name,
        "host": host,
        "run_id": (run or {}).get("run_id"),
        "release": (run or {}).get("release") or {},
        "producer": producer,
        "manual": not producer.get("modules"),
        "recorded_by": recorded_by,
        "recorded_at": stamp,
        "verified_at": stamp,
        "verdict": verdict,
        "details": details or {},
    }


def record_path(run_dir: str, name: str, host: Optional[str] = None) -> str:
    """<run_dir>/<name>.json, or <run_dir>/<name>@<host>.json for a verdict of one managed host."""
    if not host:
        return os.path.join(run_dir, name + ".json")
    return os.path.join(run_dir, f"{name}@{re.sub(r'[^A-Za-z0-9_.:-]', '_', host)}.json")


def write_record(path: str, record: Dict[str, Any]) -> str:
    """Persist a record atomically (temp name, fsync, rename) and return the path."""
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    atomic_write_bytes(path, (json.dumps(record, indent=2, sort_keys=True, default=str) + "\n").encode())
    return path


def write_verdict(run_dir: str, name: str, verdict: Dict[str, Any], details: Optional[Dict[str, Any]] = None) -> str:
    """Persist a verdict atomically as <run_dir>/<name>.json and return the path."""
    return write_record(record_path(run_dir, name), verdict_record(name, verdict, details))


def validate(verdict: Any) -> None:
    """Raise ValueError unless verdict has the contract's shape."""
    if not isinstance(verdict, dict):
        raise ValueError("verdict must be a dict")
    if verdict.get("status") not in STATUSES:
        raise ValueError(f"verdict.status must be one of {STATUSES}, got {verdict.get('status')!r}")
    if not isinstance(verdict.get("summary"), str):
        raise ValueError("verdict.summary must be a string")
    evidence = verdict.get("evidence")
    if not isinstance(evidence, dict):
        raise ValueError("verdict.evidence must be a dict")
    for key, kind in (("artifacts", list), ("findings", dict), ("measurements", list)):
        if not isinstance(evidence.get(key), kind):
            raise ValueError(f"verdict.evidence.{key} must be a {kind.__name__}")
    producer = verdict.get("producer")
    if producer is not None and not (isinstance(producer, dict) and isinstance(producer.get("modules", []), list)):
        raise ValueError("verdict.producer must be a dict with a list of modules")
    for item in evidence["artifacts"]:
        if not isinstance(item, dict) or "path" not in item or "sha256" not in item:
            raise ValueError("each artifact needs path and sha256")
    for item in evidence["measurements"]:
        if not isinstance(item, dict) or not {"name", "value", "unit"} <= set(item):
            raise ValueError("each measurement needs name, value and unit")
    if verdict["status"] == PASS:
        if not has_evidence(evidence):
            raise ValueError("a pass must be earned: it names no artifact and no measurement")
        bad = failed_measurements(evidence)
        if bad:
            raise ValueError(f"a pass cannot carry measurements that are not ok: {', '.join(bad)}")


def read_verdict(path: str) -> Dict[str, Any]:
    """Load and validate a stored verdict record."""
    with open(path, encoding="utf-8") as handle:
        record = json.load(handle)
    validate(record.get("verdict"))
    return record
