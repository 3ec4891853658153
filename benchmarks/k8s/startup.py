"""Warm start of the harness Kubernetes control plane (binaries already built) and its idle memory,
against kwokctl (kwok's own cluster launcher, binary runtime) started from the same binaries.

    PYTHONPATH=. .venv/bin/python benchmarks/k8s/startup.py [--runs 3] [--idle 30] [--kwokctl PATH]

Prints JSON: seconds until three Ready nodes (per run, runs interleaved), and the summed RSS of all
control-plane processes after --idle seconds, for each tool, plus harness/kwokctl ratios.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from deploysafe_testenv import TestEnv
from deploysafe_testenv.env import default_cache_dir


def rss_kib(match) -> dict:
    """RSS (KiB) per command name over the processes for which match(pid, cmdline) is true."""
    out: dict = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            if not match(int(entry.name), cmdline):
                continue
            status = dict(line.split(":", 1) for line in (entry / "status").read_text().splitlines() if ":" in line)
        except (OSError, ProcessLookupError):
            continue
        name = status["Name"].strip()
        out[name] = out.get(name, 0) + int(status.get("VmRSS", "0 kB").split()[0])
    return out


def harness_run(idle: float) -> tuple:
    with TestEnv() as env:
        t0 = time.monotonic()
        info = env.start("k8s")[0]
        elapsed = time.monotonic() - t0
        if not idle:
            return elapsed, {}
        time.sleep(idle)
        pgids = set(info.pids)
        return elapsed, rss_kib(lambda pid, _: os.getpgid(pid) in pgids)


def kwokctl_run(kwokctl: str, idle: float) -> tuple:
    """kwokctl create cluster --wait, scale to 3 nodes, kubectl wait until they are Ready."""
    bindir = default_cache_dir() / "bin"
    work = Path(tempfile.mkdtemp(prefix="kwokctl-bench-"))
    env = {**os.environ, "KWOK_WORKDIR": str(work)}
    binaries = [f"--{flag}-binary={bindir / name}" for flag, name in (
        ("kube-apiserver", "kube-apiserver"), ("kube-controller-manager", "kube-controller-manager"),
        ("kube-scheduler", "kube-scheduler"), ("kwok-controller", "kwok"), ("etcd", "etcd"))]
    run = dict(env=env, check=True, capture_output=True)
    try:
        t0 = time.monotonic()
        subprocess.run([kwokctl, "create", "cluster", "--name=bench", "--runtime=binary", "--wait=2m", *binaries], **run)
        subprocess.run([kwokctl, "scale", "node", "--name=bench", "--replicas=3"], **run)
        subprocess.run([str(bindir / "kubectl"), f"--kubeconfig={work}/clusters/bench/kubeconfig.yaml", "wait",
                        "--for=condition=Ready", "node", "--all", "--timeout=120s"], **run)
        elapsed = time.monotonic() - t0
        rss = {}
        if idle:
            time.sleep(idle)
            rss = rss_kib(lambda _, cmdline: str(work) in cmdline)
        return elapsed, rss
    finally:
        subprocess.run([kwokctl, "delete", "cluster", "--name=bench"], env=env, capture_output=True)
        shutil.rmtree(work, ignore_errors=True)


def summary(starts, rss) -> dict:
    return {"start_to_ready_nodes_s": [round(s, 2) for s in starts], "median_s": round(statistics.median(starts), 2),
            "rss_mib": {k: round(v / 1024, 1) for k, v in sorted(rss.items())},
            "rss_total_mib": round(sum(rss.values()) / 1024, 1)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--idle", type=float, default=30.0)
    parser.add_argument("--kwokctl", default=shutil.which("kwokctl"),
                        help="kwokctl binary (go install sigs.k8s.io/kwok/cmd/kwokctl@v0.8.0); omit to skip the peer")
    args = parser.parse_args()
    results = {"harness": ([], {}), "kwokctl": ([], {})}
    for run in range(args.runs):
        idle = args.idle if run == args.runs - 1 else 0
        tools = [("harness", lambda: harness_run(idle))]
        if args.kwokctl:
            tools.append(("kwokctl", lambda: kwokctl_run(args.kwokctl, idle)))
        for name, fn in tools:
            elapsed, rss = fn()
            results[name][0].append(elapsed)
            if rss:
                results[name][1].update(rss)
    out = {"idle_after_s": args.idle, "harness": summary(*results["harness"])}
    if args.kwokctl:
        out["kwokctl"] = summary(*results["kwokctl"])
        out["ratio_harness_over_kwokctl"] = {
            "start": round(out["harness"]["median_s"] / out["kwokctl"]["median_s"], 2),
            "rss": round(out["harness"]["rss_total_mib"] / out["kwokctl"]["rss_total_mib"], 2)}
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
