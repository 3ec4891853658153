"""Run every benchmark and print one ratio table (peer / ours) with the machine's load average.

Usage (from the repository root; `make bench` does this):
    PYTHONPATH=.collection:. .venv/bin/python benchmarks/summary.py [--only s3,load] [--full] [--no-run]

Each benchmark is its own script (benchmarks/<name>/...), run as a subprocess with short settings
(--full: their documented defaults). A benchmark reports through `benchmarks/<name>/last.json`
(benchmarks/README.md); for the scripts that do not write it yet, the rows are read from the JSON or
Markdown they print (the `parse_*` functions below). A benchmark that fails or is missing its tools
is listed with its reason and does not stop the others. --no-run only prints the last results.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from benchmarks.report import loadavg, row  # noqa: E402  (after the path fix, so it runs from anywhere)

ROOT = Path(__file__).resolve().parent


def json_docs(text: str) -> List[Any]:
    """Every top-level JSON object printed in text (one per line or indented), in order."""
    decoder, docs, pos = json.JSONDecoder(), [], 0
    while True:
        start = text.find("{", pos)
        if start < 0:
            return docs
        try:
            doc, end = decoder.raw_decode(text, start)
        except ValueError:
            pos = start + 1
            continue
        docs.append(doc)
        pos = end


def parse_load(text: str) -> List[Dict[str, Any]]:
    rates = {}
    for match in re.finditer(r"^\| ([^|]+?) \| ([\d,.]+) \|", text, re.M):
        rates[match.group(1)] = float(match.group(2).replace(",", ""))
    ours = next((v for k, v in rates.items() if k.startswith("built-in")), None)
    if ours is None:
        return []
    return [row("load, nginx 100-byte file, one core", name, value, ours, "req/s")
            for name, value in rates.items() if not name.startswith("built-in")]


def parse_pg_backup(text: str) -> List[Dict[str, Any]]:
    runs = {d["label"]: d["median_s"] for d in json_docs(text) if "label" in d and "median_s" in d}
    # ours: the module's defaults (content_hash=copy_sha256, default format), else the first variant timed
    ours_backup = next((v for k, v in runs.items() if k.startswith("pg_backup content_hash=copy_sha256 (")),
                       next((v for k, v in runs.items() if k.startswith("pg_backup content_hash=")), None))
    ours_verify = next((v for k, v in runs.items() if k == "pg_restore_verify --jobs 2 (content_hash=copy_sha256)"),
                       next((v for k, v in runs.items() if k.startswith("pg_restore_verify")), None))
    rows = []
    for peer in ("pg_dump -Fc -Z0 > file", "pg_dump -Fc > file"):
        if peer in runs and ours_backup:
            rows.append(row("PostgreSQL backup with proof", peer, runs[peer], ours_backup, "s"))
    peer = "pg_restore --jobs 2 (raw dump)"
    if peer in runs and ours_verify:
        rows.append(row("PostgreSQL restore-verify", peer, runs[peer], ours_verify, "s"))
    return rows


def parse_secrets(text: str) -> List[Dict[str, Any]]:
    """One row per corpus and peer from bench_secrets.py's per-corpus lines (older runs: one "summary" doc)."""
    docs = [d for d in json_docs(text) if "corpus" in d and "ours_s" in d]
    docs += [dict(d["summary"], corpus="site-packages ansible + botocore") for d in json_docs(text) if "summary" in d]
    return [row(f"secret scan, {d['corpus']} corpus ({d.get('files', '?')} files)", peer, d[key], d["ours_s"], "s")
            for d in docs for peer, key in (("detect-secrets", "detect_secrets_s"), ("gitleaks", "gitleaks_s"))
            if d.get("ours_s") and d.get(key)]


def parse_manifests(text: str) -> List[Dict[str, Any]]:
    doc = next((d for d in json_docs(text) if "ours_s" in d), {})
    return [row(f"manifest validation ({doc.get('files')} files)", peer, doc[key], doc["ours_s"], "s")
            for peer, key in (("kube-score", "kube_score_s"), ("kube-linter", "kube_linter_s"),
                              ("kubeconform", "kubeconform_s")) if doc.get(key) and doc.get("ours_s")]


def parse_k8s(text: str) -> List[Dict[str, Any]]:
    doc = next((d for d in json_docs(text) if "harness" in d), {})
    if "kwokctl" not in doc:
        return []
    h, k = doc["harness"], doc["kwokctl"]
    return [row("test control plane start to Ready nodes", "kwokctl", k["median_s"], h["median_s"], "s"),
            row("test control plane memory (RSS)", "kwokctl", k["rss_total_mib"], h["rss_total_mib"], "MiB")]


# name -> (last.json folder, quick argv, full argv, fallback parser, timeout seconds)
BENCHES: Dict[str, Any] = {
    "load": ("load", ["load/bench.py", "--duration", "5", "--skip-co"], ["load/bench.py"], parse_load, 600),
    "pg_backup": ("pg_backup", ["pg_backup/bench.py", "--scale", "10", "--repeat", "1"], ["pg_backup/bench.py"],
                  parse_pg_backup, 1200),
    "s3": ("s3", ["s3/bench.py", "--small", "2000", "--large", "10", "--large-mb", "50"], ["s3/bench.py"],
           None, 1200),
    "secrets": ("validators", ["validators/bench_secrets.py"], ["validators/bench_secrets.py", "--full"],
                parse_secrets, 1200),
    "manifests": ("validators", ["validators/bench_manifests.py", "--count", "300"],
                  ["validators/bench_manifests.py"], parse_manifests, 600),
    "k8s": ("k8s", ["k8s/startup.py", "--runs", "1", "--idle", "5"], ["k8s/startup.py"], parse_k8s, 900),
}


def last_rows(folder: str, since: float, name: str) -> Optional[List[Dict[str, Any]]]:
    """Rows of benchmarks/<folder>/last.json if it was written since `since` by this benchmark."""
    path = ROOT / folder / f"last-{name}.json"  # a folder with several benchmark scripts
    if not path.is_file():
        path = ROOT / folder / "last.json"
    if not path.is_file() or path.stat().st_mtime < since:
        return None
    doc = json.loads(path.read_text())
    if doc.get("bench") not in (name, folder):
        return None
    return doc.get("rows") or []


def run_one(name: str, full: bool, env: Dict[str, str]) -> Dict[str, Any]:
    folder, quick, long, parser, timeout = BENCHES[name]
    argv = [sys.executable, *[str(ROOT / long[0]) if i == 0 else a for i, a in enumerate(long if full else quick)]]
    started, before = time.time(), loadavg()
    print(f"== {name}: {' '.join(argv[1:])} (load average {before})", file=sys.stderr, flush=True)
    try:
        proc = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=timeout, cwd=ROOT.parent)
    except subprocess.TimeoutExpired:
        return {"name": name, "rows": [], "error": f"timed out after {timeout} s", "loadavg": loadavg()}
    out = {"name": name, "seconds": round(time.time() - started, 1), "loadavg": loadavg()}
    (ROOT / folder / f"last-{name}.log").write_text(proc.stdout + "\n--- stderr ---\n" + proc.stderr[-20000:])
    rows = last_rows(folder, started, name)
    if rows is None and parser is not None:
        rows = parser(proc.stdout)
    out["rows"] = rows or []
    if proc.returncode != 0:
        tail = [line for line in proc.stderr.strip().splitlines() if line.strip()][-1:] or ["no message"]
        out["error"] = f"exit status {proc.returncode}: {tail[0][:200]}"
    elif not out["rows"]:
        out["error"] = "no comparison rows (peer tool missing?)"
    return out


def table(results: List[Dict[str, Any]]) -> str:
    lines = [f"load average now: {' '.join(map(str, loadavg()))} ({os.cpu_count()} CPUs)", "",
             "| bench | work | peer | peer | ours | unit | ratio (>1: ours better) | load avg |",
             "|---|---|---|---|---|---|---|---|"]
    for res in results:
        for r in res["rows"]:
            load = " ".join(f"{x:.1f}" for x in (r.get("loadavg") or res.get("loadavg") or []))
            ratio = "–" if r.get("ratio") is None else f"{r['ratio']:.2f}×"
            lines.append(f"| {res['name']} | {r['work']} | {r['peer']} | {r['peer_value']:.4g} | {r['ours_value']:.4g} | "
                         f"{r['unit']} | {ratio} | {load} |")
        if res.get("error"):
            lines.append(f"| {res['name']} | not measured: {res['error']} | | | | | | |")
    return "\n".join(lines)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--only", default="", help="comma-separated subset of: " + ", ".join(BENCHES))
    ap.add_argument("--full", action="store_true", help="each benchmark's documented full settings")
    ap.add_argument("--no-run", action="store_true", help="print the table from the last results only")
    args = ap.parse_args()
    names = [n for n in args.only.split(",") if n] or list(BENCHES)
    unknown = [n for n in names if n not in BENCHES]
    if unknown:
        ap.error(f"unknown benchmark(s) {', '.join(unknown)}; choose from {', '.join(BENCHES)}")
    env = dict(os.environ, PYTHONPATH=f"{ROOT.parent}/.collection:{ROOT.parent}")
    results = []
    for name in names:
        if args.no_run:
            rows = last_rows(BENCHES[name][0], 0, name)
            log = ROOT / BENCHES[name][0] / f"last-{name}.log"
            if rows is None and BENCHES[name][3] is not None and log.is_file():
                rows = BENCHES[name][3](log.read_text().split("\n--- stderr ---\n")[0])
            results.append({"name": name, "rows": rows or [], **({} if rows else {"error": "no last.json or log"})})
        else:
            results.append(run_one(name, args.full, env))
    print(table(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
