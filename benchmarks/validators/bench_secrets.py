#!/usr/bin/env python3
"""Secret scan speed and agreement: deploysafe.preflight vs detect-secrets and gitleaks, same run.

    PYTHONPATH=.collection:. .venv/bin/python benchmarks/validators/bench_secrets.py \
        [--root DIR ...] [--gitleaks PATH] [--no-detect-secrets]

Default corpus: the venv's site-packages/ansible and site-packages/botocore (detect-secrets needs
minutes per 10 MB, so the full site-packages is only used for the gitleaks comparison: --full).
Agreement is on (file, line) pairs; a "finding" is whatever each tool reports.
Every tool scans the corpus through a symlink under a temporary directory: gitleaks' default
config ignores any path containing site-packages or a venv, which would make it scan nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import time

from ansible_collections.deploysafe.preflight.plugins.module_utils.secrets import SecretScanner


def ours(root, workers=1):
    start = time.perf_counter()
    matches, stats = SecretScanner().scan_tree(root, workers=workers)
    elapsed = time.perf_counter() - start
    return elapsed, {(m.file, m.line) for m in matches}, {"files": stats.files_scanned, "bytes": stats.bytes_scanned}


def gitleaks(binary, root):
    with tempfile.TemporaryDirectory() as tmp:
        report = os.path.join(tmp, "gl.json")
        start = time.perf_counter()
        subprocess.run([binary, "dir", root.rstrip("/") + "/", "-f", "json", "-r", report, "--no-banner", "--exit-code", "0",
                        "--redact", "-l", "error", "--max-target-megabytes", "10"], check=True,
                       stdout=subprocess.DEVNULL)
        elapsed = time.perf_counter() - start
        with open(report) as handle:
            data = json.load(handle) or []
    return elapsed, {(os.path.relpath(d["File"], root), d["StartLine"]) for d in data}, {}


def detect_secrets(root):
    exe = shutil.which("detect-secrets") or os.path.join(os.path.dirname(sys.executable), "detect-secrets")
    start = time.perf_counter()
    # detect-secrets must run from the root; a relative PYTHONPATH would then shadow the stdlib
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    run = subprocess.run([exe, "scan", "--all-files", "."], cwd=root, check=False, capture_output=True, text=True,
                         env=env)
    elapsed = time.perf_counter() - start
    if run.returncode != 0:
        raise SystemExit(f"detect-secrets failed in {root}: {run.stderr[-2000:]}")
    data = json.loads(run.stdout)["results"]
    return elapsed, {(os.path.normpath(f), s["line_number"]) for f, items in data.items() for s in items}, {}


def agreement(a, b):
    return {"both": len(a & b), "only_ours": len(a - b), "only_theirs": len(b - a)}


def main():
    site = sysconfig.get_paths()["purelib"]
    parser = argparse.ArgumentParser()
    parser.add_argument("--root", action="append", help="directory to scan (repeatable)")
    parser.add_argument("--gitleaks", default=os.path.expanduser("~/.cache/deploysafe-preflight/bin/gitleaks"))
    parser.add_argument("--no-detect-secrets", action="store_true")
    parser.add_argument("--full", action="store_true", help="also ours vs gitleaks on the whole site-packages")
    parser.add_argument("--workers", type=int, default=1, help="processes for our scan (gitleaks uses all cores)")
    args = parser.parse_args()
    roots = args.root or [os.path.join(site, "ansible"), os.path.join(site, "botocore")]
    totals = {}
    rows = []
    links = tempfile.mkdtemp(prefix="secret-bench-")

    def via_link(path):
        link = os.path.join(links, "corpus-" + os.path.basename(path.rstrip("/")))
        if not os.path.islink(link):
            os.symlink(os.path.realpath(path), link)
        return link

    roots = [via_link(r) for r in roots]
    site = via_link(site)
    for root in roots:
        t_ours, f_ours, info = ours(root, args.workers)
        row = {"root": root, "workers": args.workers, "files": info["files"], "mb": round(info["bytes"] / 1e6, 1),
               "ours_s": round(t_ours, 2), "ours_findings": len(f_ours)}
        if os.path.exists(args.gitleaks):
            t_gl, f_gl, _ = gitleaks(args.gitleaks, root)
            row.update(gitleaks_s=round(t_gl, 2), gitleaks_findings=len(f_gl), vs_gitleaks=agreement(f_ours, f_gl))
        if not args.no_detect_secrets:
            t_ds, f_ds, _ = detect_secrets(root)
            row.update(detect_secrets_s=round(t_ds, 2), detect_secrets_findings=len(f_ds),
                       vs_detect_secrets=agreement(f_ours, f_ds))
        rows.append(row)
        for key in ("ours_s", "gitleaks_s", "detect_secrets_s"):
            totals[key] = totals.get(key, 0) + row.get(key, 0)
        print(json.dumps(row), flush=True)
    if args.full and os.path.exists(args.gitleaks):
        t_ours, f_ours, info = ours(site, args.workers)
        t_gl, f_gl, _ = gitleaks(args.gitleaks, site)
        full = {"root": site, "workers": args.workers, "files": info["files"], "mb": round(info["bytes"] / 1e6, 1), "ours_s": round(t_ours, 2),
                "gitleaks_s": round(t_gl, 2), "ours_findings": len(f_ours), "gitleaks_findings": len(f_gl),
                "vs_gitleaks": agreement(f_ours, f_gl), "ratio_ours_over_gitleaks": round(t_ours / t_gl, 2)}
        print(json.dumps(full), flush=True)
    summary = {k: round(v, 2) for k, v in totals.items()}
    if summary.get("detect_secrets_s"):
        summary["speedup_vs_detect_secrets"] = round(summary["detect_secrets_s"] / summary["ours_s"], 1)
    if summary.get("gitleaks_s"):
        summary["ratio_ours_over_gitleaks"] = round(summary["ours_s"] / summary["gitleaks_s"], 2)
    print(json.dumps({"summary": summary}))
    shutil.rmtree(links)


if __name__ == "__main__":
    main()
