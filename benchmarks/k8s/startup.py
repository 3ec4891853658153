"""Warm start of the harness Kubernetes control plane (binaries already built) and its idle memory.

    PYTHONPATH=. .venv/bin/python benchmarks/k8s/startup.py [--runs 3] [--idle 30]

Prints JSON: seconds from TestEnv.start("k8s") to Ready, untainted nodes (per run), and the summed
RSS of every process in the control plane's process groups after --idle seconds.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

from deploysafe_testenv import TestEnv


def group_rss_kib(pgids) -> dict:
    """RSS (KiB) per command name, over all processes whose process group is one of pgids."""
    out: dict = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if os.getpgid(int(entry.name)) not in pgids:
                continue
            status = dict(line.split(":", 1) for line in (entry / "status").read_text().splitlines() if ":" in line)
        except (OSError, ProcessLookupError):
            continue
        name = status["Name"].strip()
        out[name] = out.get(name, 0) + int(status.get("VmRSS", "0 kB").split()[0])
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--idle", type=float, default=30.0)
    args = parser.parse_args()
    starts, rss = [], {}
    for run in range(args.runs):
        with TestEnv() as env:
            t0 = time.monotonic()
            info = env.start("k8s")[0]
            starts.append(round(time.monotonic() - t0, 2))
            if run == args.runs - 1:
                time.sleep(args.idle)
                rss = group_rss_kib(set(info.pids))
    print(json.dumps({"start_to_ready_nodes_s": starts, "idle_after_s": args.idle,
                      "rss_mib": {k: round(v / 1024, 1) for k, v in sorted(rss.items())},
                      "rss_total_mib": round(sum(rss.values()) / 1024, 1)}, indent=2))


if __name__ == "__main__":
    main()
