"""pgBackRest (full backup, process-max 2) vs pg_backup, pgbackrest_restore_verify vs pg_restore_verify, and an
incremental backup after 1 % of the rows changed, on a pgbench database - one run, interleaved.

Usage (from the repository root, with PYTHONPATH=.collection:. as the Makefile sets it; as root, since the
harness runs PostgreSQL as `nobody`):
    .venv/bin/python benchmarks/pgbackrest/bench.py [--scale 30] [--repeat 2] [--out results.json]
Starts the harness's archiving PostgreSQL (the source) and its plain PostgreSQL (where pg_restore_verify makes its
scratch database, so that restore's WAL does not flow into the source's archive), runs `pgbench -i -s SCALE`,
configures a stanza, then alternates the contenders REPEAT times and prints each wall time with the load average
(the machine is shared: compare the ratios of one run, not numbers across runs).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import tempfile
import time

from ansible_collections.deploysafe.preflight.plugins.module_utils.pg.backup import BackupOptions, run_backup as pg_backup
from ansible_collections.deploysafe.preflight.plugins.module_utils.pg.connection import ConnParams
from ansible_collections.deploysafe.preflight.plugins.module_utils.pg.restore import RestoreOptions
from ansible_collections.deploysafe.preflight.plugins.module_utils.pg.restore_verify import restore_verify as pg_verify
from ansible_collections.deploysafe.preflight.plugins.module_utils.pgbackrest.backup import backup_summary, run_backup
from ansible_collections.deploysafe.preflight.plugins.module_utils.pgbackrest.command import PgBackRest
from ansible_collections.deploysafe.preflight.plugins.module_utils.pgbackrest.config import read_config
from ansible_collections.deploysafe.preflight.plugins.module_utils.pgbackrest.restore_verify import (
    DrillOptions, prepare_target, restore_verify)
from ansible_collections.deploysafe.preflight.plugins.module_utils.pgbackrest.stanza import apply, plan
from deploysafe_testenv import TestEnv

CONFIG = """[global]
repo1-path={base}/repo
repo1-retention-full=2
log-path={base}/log
lock-path={base}/lock
spool-path={base}/spool
compress-type=zst
compress-level=3
process-max=2
start-fast=y
log-level-console=warn

[main]
pg1-path={data}
pg1-port={port}
pg1-socket-path={sock}
pg1-user=postgres
"""


def loadavg() -> str:
    with open("/proc/loadavg", encoding="ascii") as handle:
        return " ".join(handle.read().split()[:3])


def timed(label, results, fn):
    before = loadavg()
    started = time.monotonic()
    extra = fn()
    wall = round(time.monotonic() - started, 2)
    entry = {"what": label, "seconds": wall, "loadavg_before": before, "loadavg_after": loadavg(), **(extra or {})}
    results.append(entry)
    print(json.dumps(entry), flush=True)
    return extra


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scale", type=int, default=30)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--out", default="")
    args = parser.parse_args()
    results = []
    with TestEnv() as env:
        env.start("postgres_archiving", "postgres")
        src, other = env["postgres_archiving"].data, env["postgres"].data
        base = os.path.join(src["home"], "pgbackrest")
        for sub in ("", "repo", "log", "lock", "spool"):
            os.makedirs(os.path.join(base, sub), exist_ok=True)
        with open(os.path.join(base, "pgbackrest.conf"), "w", encoding="utf-8") as handle:
            handle.write(CONFIG.format(base=base, data=src["data_dir"], port=src["port"], sock=src["socket_dir"]))
        subprocess.run(["chown", "-R", src["os_user"], base], check=True)
        superuser = ConnParams(host="127.0.0.1", port=src["port"], user="postgres", password=src["superpassword"],
                               dbname="postgres")
        runner = PgBackRest(read_config(os.path.join(base, "pgbackrest.conf"), "main"), os_user=src["os_user"],
                            password=src["superpassword"])
        applied = apply(runner, superuser, plan(runner, superuser))
        assert applied["check"]["ok"], applied
        env_pg = dict(os.environ, PGPASSWORD=src["superpassword"])
        subprocess.run(["psql", "-h", "127.0.0.1", "-p", str(src["port"]), "-U", "postgres", "-qc", "CREATE DATABASE bench"],
                       env=env_pg, check=True)
        timed(f"pgbench -i -s {args.scale}", results, lambda: subprocess.run(
            [os.path.join(src["bindir"], "pgbench"), "-i", "-q", "-s", str(args.scale), "-h", "127.0.0.1", "-p",
             str(src["port"]), "-U", "postgres", "bench"], env=env_pg, check=True, capture_output=True) and None)
        bench = superuser.with_db("bench")
        scratch_server = ConnParams(host="127.0.0.1", port=other["port"], user="postgres",
                                    password=other["superpassword"], dbname="postgres")
        work = tempfile.mkdtemp(prefix="bench-pgbr-")
        artifacts = []
        for round_ in range(args.repeat):
            def pgbr_full():
                r = run_backup(runner, "full", verify=False)
                s = backup_summary(r.backup)
                return {"label": s["label"], "database_bytes": s["database_size_bytes"],
                        "repository_bytes": s["repository_delta_bytes"], "backup_only_s": r.durations["backup"]}
            timed(f"round {round_}: pgbackrest full backup (process-max 2, zst 3, check first)", results, pgbr_full)

            def dump():
                r = pg_backup(bench, BackupOptions(dest=work, prefix=f"bench{round_}", format="directory", jobs=2))
                artifacts.append(r.path)
                return {"stored_bytes": r.stored_bytes}
            timed(f"round {round_}: pg_backup of database bench (directory format, 2 jobs, zstd, md5 hashes)", results, dump)

            def drill():
                r = restore_verify(runner, superuser, prepare_target(runner, superuser, "latest", ""),
                                   DrillOptions(bindir=src["bindir"], verify_repository=True, recovery_timeout=1800))
                assert not r.restore_error and r.amcheck.clean, (r.restore_error, r.amcheck)
                return {"rto_s": r.rto_s, "rpo_s": r.rpo_s, **{f"{k}_s": v for k, v in r.durations.items()}}
            timed(f"round {round_}: pgbackrest_restore_verify latest (verify, restore, recovery, amcheck --heapallindexed, counts)",
                  results, drill)

            def pg_rv():
                r = pg_verify(scratch_server, artifacts[-1], RestoreOptions(jobs=2))
                assert set(r.properties.values()) == {"pass"}, r.properties
                return {"restore_s": r.restore["duration_s"], "compare_s": r.comparison.duration_s}
            timed(f"round {round_}: pg_restore_verify (scratch database, 2 jobs, content hashes)", results, pg_rv)

        rows = int(subprocess.run(["psql", "-h", "127.0.0.1", "-p", str(src["port"]), "-U", "postgres", "-d", "bench",
                                   "-Atc", "SELECT count(*) FROM pgbench_accounts"], env=env_pg, check=True,
                                  capture_output=True, text=True).stdout)
        # 1 % of the rows, two ways: spread (every 100th row: most pages change) and clustered (the first 1 %).
        # pgBackRest 2.45's incremental backups are file-level: a changed 1 GB segment file is copied whole.
        for how, where in (("spread", "aid % 100 = 0"), ("clustered", f"aid <= {rows // 100}")):
            subprocess.run(["psql", "-h", "127.0.0.1", "-p", str(src["port"]), "-U", "postgres", "-d", "bench", "-qc",
                            f"UPDATE pgbench_accounts SET abalance = abalance + 1 WHERE {where}"], env=env_pg, check=True)

            def incr():
                r = run_backup(runner, "incr", verify=False)
                s = backup_summary(r.backup)
                return {"rows_changed": rows // 100, "database_bytes": s["database_size_bytes"],
                        "backup_delta_bytes": s["backup_delta_bytes"], "repository_bytes": s["repository_delta_bytes"]}
            timed(f"pgbackrest incremental backup after 1 % of pgbench_accounts updated ({how})", results, incr)
    if args.out:
        with open(args.out, "w", encoding="utf-8") as handle:
            json.dump({"scale": args.scale, "results": results}, handle, indent=2)


if __name__ == "__main__":
    main()
