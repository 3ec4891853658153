"""s3_backup / s3_restore / s3_verify against rclone copy / rclone check --download on one MinIO.

Usage: PYTHONPATH=.collection:. .venv/bin/python benchmarks/s3/bench.py [--small 10000] [--large 20] [--large-mb 50]

Starts its own MinIO through the test-environment harness (the shared one is left alone), fills two
source buckets (small: 1-64 KB objects; large: N x M MB), and for each data set measures in the same run:
  mirror   s3_backup mode=mirror (download, sha256, upload) vs `rclone copy` bucket->bucket
  archive  s3_backup mode=archive + s3_restore (the backup cycle through a local .tar.zst) vs rclone copy
           to a local directory and back into a new bucket
  verify   s3_verify (re-read + sha256 of every object) vs `rclone check --download`
and the share of sha256 in the copy (hashlib over the same bytes / mirror wall time).
Prints a JSON summary and a Markdown table, and writes benchmarks/s3/last.json (benchmarks/README.md).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from benchmarks.report import loadavg, row, write_last
from deploysafe_testenv import TestEnv
from deploysafe_testenv.services.minio import s3_client
from ansible_collections.deploysafe.preflight.plugins.module_utils.s3.backup import BackupOptions, run_backup
from ansible_collections.deploysafe.preflight.plugins.module_utils.s3.client import S3Conn
from ansible_collections.deploysafe.preflight.plugins.module_utils.s3.objects import upload_stream
from ansible_collections.deploysafe.preflight.plugins.module_utils.s3.restore import RestoreOptions, run_restore
from ansible_collections.deploysafe.preflight.plugins.module_utils.s3.verify import VerifyOptions, run_verify

CONCURRENCY = 8


def fill(client, bucket, count, size_of, workers=8):
    client.create_bucket(Bucket=bucket)
    rng = random.Random(bucket)

    def put(i):
        size = size_of(rng, i)
        if size >= 64 * 1024 * 1024:
            raise SystemExit("keep large objects under 64 MiB for the fill")
        body = os.urandom(size)  # incompressible: the archive path gets no help from zstd
        client.put_object(Bucket=bucket, Key=f"data/{i:06d}.bin", Body=body)
        return size

    sizes = [size_of(rng, i) for i in range(count)]
    with ThreadPoolExecutor(workers) as pool:
        total = sum(pool.map(put, range(count)))
    return total


SERVER_PIDS = []  # MinIO's processes: their CPU time is part of every operation's cost


def cpu_now():
    """(client CPU s: this process + finished children, server CPU s: MinIO)."""
    own, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    server = 0.0
    for pid in SERVER_PIDS:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            server += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        except OSError:
            pass
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime, server


CPU = {}  # label -> (client CPU s, server CPU s) of the last timed() call with that label


def timed(fn, label=None):
    """Wall seconds of fn() (and, under label, the client and MinIO CPU seconds it cost)."""
    client0, server0 = cpu_now()
    started = time.monotonic()
    out = fn()
    wall = time.monotonic() - started
    client1, server1 = cpu_now()
    if label:
        CPU[label] = (round(client1 - client0, 2), round(server1 - server0, 2))
    return wall, out


def rclone(*args, env):
    proc = subprocess.run(["rclone", *args], env=env, capture_output=True, text=True)
    if proc.returncode != 0:
        raise SystemExit(f"rclone {' '.join(args)} failed: {proc.stderr[-2000:]}")
    return proc


def sha_seconds(total_bytes):
    block = os.urandom(1 << 20)
    digest = hashlib.sha256()
    started = time.monotonic()
    for _ in range(max(1, total_bytes >> 20)):
        digest.update(block)
    return time.monotonic() - started


def run_set(name, src, count, total, conn, client, rc_env, workdir):
    res = {"set": name, "objects": count, "bytes": total}
    # rclone copy bucket -> bucket
    dst = f"{src}-rclone"
    client.create_bucket(Bucket=dst)
    t, _ = timed(lambda: rclone("copy", f"bench:{src}", f"bench:{dst}", "--transfers", str(CONCURRENCY),
                                "--checkers", str(CONCURRENCY), env=rc_env), "rclone_copy_s")
    res["rclone_copy_s"] = t
    res["rclone_copy_cpu"] = CPU["rclone_copy_s"]
    # rclone copy with server-side copy disabled: every byte goes through the client, like our mirror
    dst2 = f"{src}-rclone-stream"
    client.create_bucket(Bucket=dst2)
    t, _ = timed(lambda: rclone("copy", "--disable", "Copy", f"bench:{src}", f"bench:{dst2}", "--transfers",
                                str(CONCURRENCY), "--checkers", str(CONCURRENCY), env=rc_env), "rclone_copy_stream_s")
    res["rclone_copy_stream_s"] = t
    res["rclone_copy_stream_cpu"] = CPU["rclone_copy_stream_s"]
    # s3_backup mirror
    mirror_bucket = f"{src}-mirror"
    client.create_bucket(Bucket=mirror_bucket)
    t, mirror = timed(lambda: run_backup(conn, BackupOptions(bucket=src, mode="mirror", dest_bucket=mirror_bucket,
                                                             concurrency=CONCURRENCY, name="m")), "mirror_s")
    res["mirror_s"] = t
    res["mirror_cpu"] = CPU["mirror_s"]
    # rclone copy to a local directory and back into a new bucket: the peer of the archive cycle
    local = workdir / f"{name}-rclone-local"
    t, _ = timed(lambda: rclone("copy", f"bench:{src}", str(local), "--transfers", str(CONCURRENCY),
                                "--checkers", str(CONCURRENCY), env=rc_env), "rclone_to_local_s")
    res["rclone_to_local_s"] = t
    res["rclone_to_local_cpu"] = CPU["rclone_to_local_s"]
    client.create_bucket(Bucket=f"{src}-rclone-back")
    t, _ = timed(lambda: rclone("copy", str(local), f"bench:{src}-rclone-back", "--transfers", str(CONCURRENCY),
                                "--checkers", str(CONCURRENCY), env=rc_env), "rclone_from_local_s")
    res["rclone_from_local_s"] = t
    res["rclone_from_local_cpu"] = CPU["rclone_from_local_s"]
    shutil.rmtree(local)
    # archive + restore
    dest = workdir / name
    dest.mkdir()
    t, backup = timed(lambda: run_backup(conn, BackupOptions(bucket=src, dest=str(dest), concurrency=CONCURRENCY,
                                                             compression_level=1)), "archive_backup_s")
    res["archive_backup_s"] = t
    res["archive_backup_cpu"] = CPU["archive_backup_s"]
    res["archive_stored_bytes"] = backup.stored_bytes
    t, _ = timed(lambda: run_restore(conn, RestoreOptions(source=backup.location, bucket=f"{src}-restore",
                                                          create_bucket=True, concurrency=CONCURRENCY)), "archive_restore_s")
    res["archive_restore_s"] = t
    res["archive_restore_cpu"] = CPU["archive_restore_s"]
    # verify vs rclone check --download (same pair: source vs the rclone copy)
    t, check = timed(lambda: run_verify(conn, VerifyOptions(manifest=backup.location, bucket=dst,
                                                            concurrency=CONCURRENCY)), "s3_verify_s")
    assert check.ok, check.counts
    res["s3_verify_s"] = t
    res["s3_verify_cpu"] = CPU["s3_verify_s"]
    t, _ = timed(lambda: rclone("check", "--download", f"bench:{src}", f"bench:{dst}", "--checkers", str(CONCURRENCY),
                                env=rc_env), "rclone_check_download_s")
    res["rclone_check_download_s"] = t
    res["rclone_check_download_cpu"] = CPU["rclone_check_download_s"]
    res["sha256_share_of_mirror"] = sha_seconds(total) / res["mirror_s"]
    res["loadavg"] = loadavg()
    shutil.rmtree(dest)
    return res


def rows_of(r):
    """The last.json rows of one data set (benchmarks/README.md)."""
    what = f"{r['objects']} small objects" if r["set"] == "small" else f"{r['objects']} x {r['bytes'] // r['objects'] >> 20} MiB"
    cycle = r["archive_backup_s"] + r["archive_restore_s"]

    def cpu(*names):  # client + MinIO CPU seconds of the named steps
        return sum(sum(r[f"{n}_cpu"]) for n in names)

    cpu_rows = [row(f"S3 mirror, {what} (CPU client+MinIO)", "rclone copy --disable Copy", cpu("rclone_copy_stream"),
                    cpu("mirror"), "cpu-s", loadavg=r["loadavg"]),
                row(f"S3 archive backup+restore, {what} (CPU client+MinIO)", "rclone copy to local + back",
                    cpu("rclone_to_local", "rclone_from_local"), cpu("archive_backup", "archive_restore"), "cpu-s",
                    loadavg=r["loadavg"]),
                row(f"S3 verify, {what} (CPU client+MinIO)", "rclone check --download", cpu("rclone_check_download"),
                    cpu("s3_verify"), "cpu-s", loadavg=r["loadavg"])]
    return [row(f"S3 mirror, {what}", "rclone copy --disable Copy", r["rclone_copy_stream_s"], r["mirror_s"], "s",
                loadavg=r["loadavg"]),
            row(f"S3 archive backup+restore, {what}", "rclone copy to local + back",
                r["rclone_to_local_s"] + r["rclone_from_local_s"], cycle, "s", loadavg=r["loadavg"]),
            row(f"S3 verify, {what}", "rclone check --download", r["rclone_check_download_s"], r["s3_verify_s"], "s",
                loadavg=r["loadavg"])] + cpu_rows


def table(results):
    rows = ["| set | objects | MB | rclone copy (server-side) | rclone copy --disable Copy | s3_backup mirror "
            "(ratio rclone-stream/ours) | rclone copy to local + back | archive backup+restore (ratio) "
            "| rclone check --download | s3_verify (ratio) | sha256 share | load average |",
            "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in results:
        mb = r["bytes"] / 1e6
        cycle = r["archive_backup_s"] + r["archive_restore_s"]

        def rate(s):
            return f"{s:.1f}s, {r['objects'] / s:.0f} obj/s, {mb / s:.0f} MB/s"
        stream = r["rclone_copy_stream_s"]
        local = r["rclone_to_local_s"] + r["rclone_from_local_s"]
        rows.append(f"| {r['set']} | {r['objects']} | {mb:.0f} | {rate(r['rclone_copy_s'])} | {rate(stream)} | "
                    f"{rate(r['mirror_s'])} ({stream / r['mirror_s']:.2f}) | {rate(local)} | "
                    f"{rate(cycle)} ({local / cycle:.2f}) | "
                    f"{rate(r['rclone_check_download_s'])} | {rate(r['s3_verify_s'])} "
                    f"({r['rclone_check_download_s'] / r['s3_verify_s']:.2f}) | {r['sha256_share_of_mirror']:.1%} "
                    f"| {' '.join(f'{x:.1f}' for x in r['loadavg'])} |")
    return "\n".join(rows)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--small", type=int, default=10000)
    parser.add_argument("--large", type=int, default=20)
    parser.add_argument("--large-mb", type=int, default=50)
    args = parser.parse_args()
    if not shutil.which("rclone"):
        raise SystemExit("rclone is not installed (Debian package rclone)")
    workdir = Path(tempfile.mkdtemp(prefix="s3-bench-"))
    env = TestEnv(workdir / "env")
    try:
        env.start("s3")
        SERVER_PIDS.extend(env["s3"].pids)
        data = env["s3"].data
        client = s3_client(data)
        conn = S3Conn(endpoint_url=data["endpoint_url"], access_key=data["access_key"], secret_key=data["secret_key"],
                      region=data["region"], max_pool=32)
        # AWS_CA_BUNDLE (set on some machines) makes rclone 1.60 refuse its plain-HTTP transport
        rc_env = {**{k: v for k, v in os.environ.items() if k != "AWS_CA_BUNDLE"}, "RCLONE_CONFIG_BENCH_TYPE": "s3", "RCLONE_CONFIG_BENCH_PROVIDER": "Minio",
                  "RCLONE_CONFIG_BENCH_ENV_AUTH": "false", "RCLONE_CONFIG_BENCH_ACCESS_KEY_ID": data["access_key"],
                  "RCLONE_CONFIG_BENCH_SECRET_ACCESS_KEY": data["secret_key"],
                  "RCLONE_CONFIG_BENCH_ENDPOINT": data["endpoint_url"], "RCLONE_CONFIG_BENCH_REGION": data["region"]}
        results = []
        if args.small:
            total = fill(client, "small", args.small, lambda rng, i: rng.randint(1024, 64 * 1024))
            results.append(run_set("small", "small", args.small, total, conn, client, rc_env, workdir))
        if args.large:
            size = args.large_mb * 1024 * 1024
            total = fill(client, "large", args.large, lambda rng, i: size, workers=2)
            results.append(run_set("large", "large", args.large, total, conn, client, rc_env, workdir))
        print(json.dumps({"args": vars(args), "cpus": os.cpu_count(), "load": os.getloadavg(), "results": results},
                         indent=2))
        print(table(results))
        write_last("s3", [r for res in results for r in rows_of(res)], args=vars(args), results=results)
    finally:
        env.down()
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
