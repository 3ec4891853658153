"""The benchmark result convention: every benchmark writes `benchmarks/<name>/last.json` (see README.md).

    from benchmarks.report import row, write_last
    rows = [row("mirror, 2000 small objects", "rclone copy --disable Copy", 7.2, 6.1, "s")]
    write_last("s3", rows, args=vars(args))

Run the benchmarks from the repository root with PYTHONPATH=.collection:. so that `benchmarks` imports.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any, Dict, List, Optional

ROOT = Path(__file__).resolve().parent
# Units where a smaller value is better; for every other unit (req/s, MB/s, objects/s) larger is better.
LOWER_IS_BETTER = {"s", "ms", "us", "MiB", "MB", "bytes", "cpu-s", "cpu-ms/1k"}


def loadavg() -> List[float]:
    return [round(x, 2) for x in os.getloadavg()]


def ratio(peer_value: float, ours_value: float, unit: str) -> Optional[float]:
    """How many times better ours is than the peer (> 1: ours is better), whatever the unit's direction."""
    if not peer_value or not ours_value:
        return None
    value = peer_value / ours_value if unit in LOWER_IS_BETTER else ours_value / peer_value
    return round(value, 3)


def row(work: str, peer: str, peer_value: float, ours_value: float, unit: str, **extra: Any) -> Dict[str, Any]:
    """One comparison measured in the same run; carries the load average at the time it was taken."""
    out = {"work": work, "peer": peer, "peer_value": round(peer_value, 4), "ours_value": round(ours_value, 4),
           "unit": unit, "ratio": ratio(peer_value, ours_value, unit), "loadavg": loadavg()}
    out.update(extra)
    return out


def write_last(name: str, rows: List[Dict[str, Any]], **extra: Any) -> Path:
    """Write benchmarks/<name>/last.json atomically and return its path."""
    path = ROOT / name / "last.json"
    doc = {"bench": name, "finished_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
           "cpus": os.cpu_count(), "loadavg": loadavg(), "rows": rows}
    doc.update(extra)
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(doc, indent=2) + "\n")
    os.replace(tmp, path)
    return path
