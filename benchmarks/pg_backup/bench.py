"""pg_backup vs pg_dump, pg_restore_verify vs pg_restore, on a pgbench database (one run, same server).

Usage (from the repository root, with PYTHONPATH=.collection:. as the Makefile sets it):
    .venv/bin/python benchmarks/pg_backup/bench.py [--scale 30] [--repeat 3]
Starts its own harness PostgreSQL, runs `pgbench -i -s SCALE`, then times the contenders in REPEAT
interleaved rounds (median wall clock, the load average after each run) and reports peak RSS of the
measured process (os.wait4). Backups first (pg_dump -Fc -Z0, pg_dump -Fc, pg_backup per --hashes), then
restores (pg_restore -j2 of the raw dump, pg_restore_verify of each pg_backup artifact).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

import pyrage

from deploysafe_testenv import TestEnv

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

BACKUP_RUNNER = """
import sys, json
from ansible_collections.deploysafe.preflight.plugins.module_utils.pg.connection import ConnParams
from ansible_collections.deploysafe.preflight.plugins.module_utils.pg.backup import BackupOptions, run_backup
conn, dest, recipient, content_hash = json.loads(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
fmt = {"format": sys.argv[5]} if sys.argv[5] != "default" else {}
r = run_backup(ConnParams(**conn), BackupOptions(dest=dest, prefix="bench", encrypt_recipients=[recipient],
                                                 content_hash=content_hash, **fmt))
print(json.dumps({"path": r.path, "stored": r.stored_bytes, "plain": r.plaintext_bytes}))
"""

VERIFY_RUNNER = """
import sys, json
from ansible_collections.deploysafe.preflight.plugins.module_utils.pg.connection import ConnParams
from ansible_collections.deploysafe.preflight.plugins.module_utils.pg.restore import RestoreOptions
from ansible_collections.deploysafe.preflight.plugins.module_utils.pg.restore_verify import restore_verify
conn, path, identity = json.loads(sys.argv[1]), sys.argv[2], sys.argv[3]
r = restore_verify(ConnParams(**conn), path, RestoreOptions(jobs=2, identity_file=identity))
assert set(r.properties.values()) == {"pass"}, r.properties
print(json.dumps({"restore": r.restore["duration_s"], "unpack": r.restore["unpack_s"],
                  "compare": r.comparison.duration_s, "total": r.total_s}))
"""


def timed(argv, env=None, stdout=None):
    """(wall seconds, peak RSS MB of the process itself, stdout text, client CPU seconds: user + system
    of the process and the children it waited for, e.g. pg_dump under pg_backup; the server's not counted)."""
    started = time.monotonic()
    proc = subprocess.Popen(argv, env=env, stdout=stdout or subprocess.PIPE, stderr=subprocess.PIPE)
    out = proc.stdout.read() if stdout is None else b""
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.monotonic() - started
    err = proc.stderr.read()
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0 or err.strip():
        raise SystemExit(f"{argv[0]} failed ({proc.returncode}): {err.decode()[-2000:]}")
    return wall, usage.ru_maxrss / 1024, out.decode(), usage.ru_utime + usage.ru_stime


def summarize(label, runs):
    walls = [r[0] for r in runs]
    result = {"label": label, "median_s": round(statistics.median(walls), 3), "runs_s": [round(w, 3) for w in walls],
              "peak_rss_mb": round(max(r[1] for r in runs), 1), "last_stdout": runs[-1][2].strip(),
              "client_cpu_s": round(statistics.median(r[3] for r in runs), 2),
              "loadavg": [round(r[4], 1) for r in runs]}
    print(json.dumps(result), flush=True)
    return result


def interleaved(contenders, repeat):
    """Run every contender once per round, REPEAT rounds, so load changes hit them alike; each run records
    the 1-minute load average when it ended."""
    runs = {label: [] for label, _fn in contenders}
    for _round in range(repeat):
        for label, fn in contenders:
            wall, rss, out, cpu = fn()
            runs[label].append((wall, rss, out, cpu, os.getloadavg()[0]))
    return [summarize(label, runs[label]) for label, _fn in contenders]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--scale", type=int, default=30)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--hashes", default="copy_sha256", help="content_hash values of pg_backup to time, comma-separated")
    ap.add_argument("--formats", default="default",
                    help="pg_backup formats to time with each hash, comma-separated (default: the module's default)")
    args = ap.parse_args()
    # one pg_backup variant per (content_hash, format); a variant's key is "hash" or "hash/format"
    hashes = [h if f == "default" else f"{h}/{f}" for h in args.hashes.split(",") if h
              for f in args.formats.split(",") if f]
    work = tempfile.mkdtemp(prefix="pg-bench-")
    env_py = dict(os.environ, PYTHONPATH=f"{ROOT}/.collection:{ROOT}")
    with TestEnv() as testenv:
        testenv.start("postgres")
        pg = testenv["postgres"].data
        bindir = pg["bindir"]
        su = dict(host=pg["host"], port=pg["port"], user=pg["superuser"], password=pg["superpassword"])
        pgenv = dict(os.environ, PGHOST=pg["host"], PGPORT=str(pg["port"]), PGUSER=pg["superuser"],
                     PGPASSWORD=pg["superpassword"])
        subprocess.run([f"{bindir}/createdb", "bench"], env=pgenv, check=True)
        t0 = time.monotonic()
        subprocess.run([f"{bindir}/pgbench" if os.path.exists(f"{bindir}/pgbench") else "pgbench", "-i", "-q", "-s",
                        str(args.scale), "bench"], env=pgenv, check=True, capture_output=True)
        subprocess.run([f"{bindir}/psql", "-X", "-q", "-d", "bench", "-c", "VACUUM ANALYZE"], env=pgenv, check=True)
        print(json.dumps({"pgbench_init_s": round(time.monotonic() - t0, 1), "scale": args.scale}), flush=True)
        ident = pyrage.x25519.Identity.generate()
        idfile = os.path.join(work, "id.txt")
        with open(idfile, "w") as handle:
            handle.write(f"{ident}\n")
        dumpenv = dict(pgenv, PGDATABASE="bench")
        raw = os.path.join(work, "raw.dump")
        outdir = os.path.join(work, "backups")
        os.mkdir(outdir)

        def pg_dump(extra, name):
            def run():
                with open(os.path.join(work, name), "wb") as out:
                    return timed([f"{bindir}/pg_dump", "-Fc", *extra], env=dumpenv, stdout=out)
            return run

        def backup(variant):
            content_hash, _slash, fmt = variant.partition("/")
            dest = os.path.join(outdir, variant.replace("/", "-"))
            os.mkdir(dest)

            def run():
                for old in os.listdir(dest):  # the last run's artifact is the one restore-verify reads
                    os.unlink(os.path.join(dest, old))
                return timed([sys.executable, "-c", BACKUP_RUNNER, json.dumps({**su, "dbname": "bench"}), dest,
                              str(ident.to_public()), content_hash, fmt or "default"], env=env_py)
            return run

        backup_labels = {h: f"pg_backup content_hash={h} (zstd-3 + age + sha256, fsync)" for h in hashes}
        results = interleaved([("pg_dump -Fc -Z0 > file", pg_dump(["-Z0"], "raw.dump")),
                               ("pg_dump -Fc > file", pg_dump([], "gzip.dump"))]
                              + [(backup_labels[h], backup(h)) for h in hashes], args.repeat)
        by = {r["label"]: r for r in results}
        artifacts = {h: json.loads(by[backup_labels[h]]["last_stdout"])["path"] for h in hashes}

        def restore_plain():
            subprocess.run([f"{bindir}/dropdb", "--if-exists", "restored"], env=pgenv, check=True)
            subprocess.run([f"{bindir}/createdb", "restored"], env=pgenv, check=True)
            return timed([f"{bindir}/pg_restore", "--jobs=2", "-d", "restored", raw], env=pgenv)

        def verify(artifact):
            return lambda: timed([sys.executable, "-c", VERIFY_RUNNER, json.dumps({**su, "dbname": "postgres"}),
                                  artifact, idfile], env=env_py)

        verify_labels = {h: f"pg_restore_verify --jobs 2 (content_hash={h})" for h in hashes}
        results += interleaved([("pg_restore --jobs 2 (raw dump)", restore_plain)]
                               + [(verify_labels[h], verify(artifacts[h])) for h in hashes], args.repeat)
    by = {r["label"]: r for r in results}
    raw_s, gzip_s = by["pg_dump -Fc -Z0 > file"]["median_s"], by["pg_dump -Fc > file"]["median_s"]
    restore_s = by["pg_restore --jobs 2 (raw dump)"]["median_s"]
    summary = {"raw_dump_bytes": os.path.getsize(raw),
               "gzip_dump_bytes": os.path.getsize(os.path.join(work, "gzip.dump")),
               "pg_backup_bytes": os.path.getsize(artifacts[hashes[0]])}
    for content_hash in hashes:
        backup_r, verify_r = by[backup_labels[content_hash]], by[verify_labels[content_hash]]
        summary[content_hash] = {
            "pg_backup_vs_raw_Z0": round(backup_r["median_s"] / raw_s, 2),
            "pg_backup_vs_pg_dump_Fc": round(backup_r["median_s"] / gzip_s, 2),
            "pg_backup_peak_rss_mb": backup_r["peak_rss_mb"],
            "restore_verify_vs_pg_restore_j2": round(verify_r["median_s"] / restore_s, 2),
            "restore_verify_peak_rss_mb": verify_r["peak_rss_mb"],
        }
    summary["load_average_at_end"] = os.getloadavg()
    print(json.dumps(summary, indent=2))
    subprocess.run(["rm", "-rf", work])


if __name__ == "__main__":
    main()
