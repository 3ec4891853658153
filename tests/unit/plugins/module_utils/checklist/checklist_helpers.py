"""Write real verdict files into a run directory, recorded relative to a fixed clock (no mocks)."""

from __future__ import annotations

from ansible_collections.deploysafe.preflight.plugins.module_utils.checklist.items import SIGNOFF_NAME, build_items
from ansible_collections.deploysafe.preflight.plugins.module_utils.verdict import (
    make_verdict, measurement, verdict_record, atomic_write_bytes,
)
import json
import os

NOW = 1_800_000_000.0  # fixed "now" for every evaluation in these tests


def put(run_dir, name, status="pass", summary=None, at=NOW - 60, **evidence):
    """Store a verdict for `name` recorded at epoch `at` (record_verdict's format). A pass given no evidence
    gets one measurement, as a real check's pass must carry (verdict.earned)."""
    if status == "pass" and not evidence:
        evidence = {"measurements": [measurement("checked", 1, "checks")]}
    record = verdict_record(name, make_verdict(status, summary or f"{name} {status}", **evidence), now=at)
    atomic_write_bytes(os.path.join(str(run_dir), name + ".json"), json.dumps(record).encode())
