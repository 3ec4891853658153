"""Write real verdict files into a run directory, recorded relative to a fixed clock (no mocks)."""

from __future__ import annotations

from ansible_collections.deploysafe.preflight.plugins.module_utils.checklist.items import SIGNOFF_NAME, build_items
from ansible_collections.deploysafe.preflight.plugins.module_utils.verdict import (
    atomic_write_bytes, make_verdict, measurement, produced_by, record_path, verdict_record,
)
import json
import os

NOW = 1_800_000_000.0  # fixed "now" for every evaluation in these tests


RUN_ID = "20270115T080000Z-000000000001"


def start(run_dir, run_id=RUN_ID):
    """Write run.json naming run_id (what start_run does)."""
    record = {"format": 1, "run_id": run_id, "release": {"version": "1.2.3"}, "started_at": "2027-01-15T08:00:00Z"}
    atomic_write_bytes(os.path.join(str(run_dir), "run.json"), json.dumps(record).encode())
    return record


def put(run_dir, name, status="pass", summary=None, at=NOW - 60, host=None, run_id=RUN_ID, producer="test_check",
        **evidence):
    """Store a verdict for `name` recorded at epoch `at` in run run_id (record_verdict's format).

    A verdict is stamped with a producer module unless producer is None (recorded by hand)."""
    if status == "pass" and not evidence:
        evidence = {"measurements": [measurement("checked", 1, "items")]}
    verdict = make_verdict(status, summary or f"{name} {status}", **evidence)
    if producer:
        verdict = produced_by(verdict, producer)
    record = verdict_record(name, verdict, now=at, run={"run_id": run_id, "release": {}}, host=host,
                            recorded_by=None if producer else "bob")
    atomic_write_bytes(record_path(str(run_dir), name, host), json.dumps(record).encode())
