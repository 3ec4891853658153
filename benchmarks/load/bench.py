"""Load-generator throughput on one core: built-in engine vs wrk, k6 and Locust FastHttpUser against nginx.

nginx (Debian) serves a 100-byte file on 127.0.0.1 with one worker pinned to the last CPU; each
generator is pinned to CPU 0 (`taskset`) and runs closed-loop with 64 connections/users for DURATION
seconds. The tools run interleaved, ROUNDS times, so that a shared machine's load hits them alike:
the table gives each tool's median and the median of the per-round ratios, with the load average.
CPU-ms per 1k requests = (user+sys of the generator process tree) / requests * 1000.

Then: the open model at a fixed rate on one core (achieved rate and late sends); worker processes
(1 vs 2, interleaved per round, see `workers_section`); and coordinated-omission accuracy of the open
model against the sample service stalling 1 s every 3 s (expected p99 from the wrk2-style model:
1 - 0.01 * T / (n_stalls * 1 s)).

Run: PYTHONPATH=.collection:. .venv/bin/python benchmarks/load/bench.py [--duration 5 --rounds 3]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent
GEN_CPU = "0"


def free_port() -> int:
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_nginx(work: Path) -> tuple:
    port = free_port()
    # nginx's worker runs as an unprivileged user: a 0700 mkdtemp made every answer a 403
    os.chmod(work, 0o755)
    (work / "www").mkdir()
    (work / "www" / "small.txt").write_bytes(b"x" * 100)
    conf = work / "nginx.conf"
    conf.write_text(f"""
worker_processes 1;
daemon off;
pid {work}/nginx.pid;
error_log {work}/error.log warn;
events {{ worker_connections 4096; }}
http {{
  access_log off;
  client_body_temp_path {work}/tmp; proxy_temp_path {work}/tmp; fastcgi_temp_path {work}/tmp;
  uwsgi_temp_path {work}/tmp; scgi_temp_path {work}/tmp;
  keepalive_requests 1000000;
  server {{ listen 127.0.0.1:{port}; root {work}/www; }}
}}
""")
    (work / "tmp").mkdir()
    last_cpu = str(os.cpu_count() - 1)
    proc = subprocess.Popen(["taskset", "-c", last_cpu, "nginx", "-c", str(conf), "-p", str(work)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    time.sleep(0.5)
    return proc, f"http://127.0.0.1:{port}/small.txt"


def timed(argv, env=None, pin=True) -> tuple:
    """Run argv pinned to GEN_CPU (or to the CPU list `pin`, or unpinned if False); return (stdout, cpu_seconds
    of the child tree)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpus = GEN_CPU if pin is True else pin
    out = subprocess.run((["taskset", "-c", cpus] if cpus else []) + argv, capture_output=True, text=True, env=env,
                         timeout=600)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if out.returncode not in (0, 1):
        raise RuntimeError(f"{argv[0]} failed: {out.stderr[-500:]}")
    return out.stdout, cpu


def run_wrk(url: str, duration: int) -> dict:
    out, cpu = timed(["wrk", "-t1", "-c64", f"-d{duration}s", "--latency", url])
    reqs = int(re.search(r"(\d+) requests in", out).group(1))
    if "Non-2xx" in out:
        raise RuntimeError(f"wrk got error answers:\n{out}")
    p50 = re.search(r"50%\s+([\d.]+)(us|ms|s)", out)
    p99 = re.search(r"99%\s+([\d.]+)(us|ms|s)", out)
    scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}
    return {"requests": reqs, "seconds": duration, "cpu": cpu,
            "p50_ms": float(p50.group(1)) * scale[p50.group(2)], "p99_ms": float(p99.group(1)) * scale[p99.group(2)]}


BUILTIN = """
import json, sys, time
from ansible_collections.deploysafe.preflight.plugins.module_utils.load.runner import run_load_test
url, duration, model, target, workers = sys.argv[1], float(sys.argv[2]), sys.argv[3], float(sys.argv[4]), int(sys.argv[5])
cpu0 = time.process_time()
r = run_load_test({"requests": [url], "model": model, "thresholds": {}, "workers": workers,
                   "stages": [{"duration": duration, "target": target, "start": target}]})
o = r["stats"]["overall"]
print(json.dumps({"requests": o["requests"], "seconds": r["run"]["duration"], "p50_ms": o["p50_ms"],
                  "p99_ms": o["p99_ms"], "cpu_in_run": time.process_time() - cpu0, "errors": o["errors"],
                  "sent": r["run"]["sent"], "late": r["run"]["late_sends"], "first_errors": r["run"]["first_errors"], "kinds": r["run"]["error_kinds"],
                  "last_intended": r["run"]["last_intended_s"], "verdict": r["verdict"]["summary"],
                  "generator_cpu_s": r["run"].get("generator_cpu_s"), "worker_runs": r["run"].get("worker_runs"),
                  "dropped": r["run"].get("dropped", 0)}))
"""


LOCUSTFILE = """
from locust import constant, task
from locust.contrib.fasthttp import FastHttpUser

class Fast(FastHttpUser):
    wait_time = constant(0)

    @task
    def small(self):
        self.client.get("/small.txt")
"""


def run_builtin(url: str, duration: int, model: str = "closed", target: float = 64, workers: int = 1,
                pin=True) -> dict:
    env = dict(os.environ, PYTHONPATH=f"{ROOT / '.collection'}:{ROOT}")
    out, cpu = timed([sys.executable, "-c", BUILTIN, url, str(duration), model, str(target), str(workers)], env=env,
                     pin=pin)
    r = dict(json.loads(out.strip().splitlines()[-1]), cpu=cpu)
    if r["errors"]:
        raise RuntimeError(f"the built-in engine got errors: {r['kinds']} {r['first_errors']}")
    return r


def run_locust(url: str, duration: int, work: Path) -> dict:
    lf = work / "locustfile.py"
    lf.write_text(LOCUSTFILE)
    prefix = work / "locust"
    host = url.rsplit("/", 1)[0]
    out, cpu = timed([str(VENV_BIN / "locust"), "-f", str(lf), "--headless", "-u", "64", "-r", "64", "-t", f"{duration}s",
                      "-H", host, "--csv", str(prefix), "--only-summary", "--loglevel", "ERROR"])
    import csv
    with open(f"{prefix}_stats.csv") as fh:
        agg = next(r for r in csv.DictReader(fh) if r["Name"] == "Aggregated")
    return {"requests": int(agg["Request Count"]), "seconds": duration, "cpu": cpu,
            "p50_ms": float(agg["50%"]), "p99_ms": float(agg["99%"])}


K6_SCRIPT = """
import http from 'k6/http';
export const options = { vus: 64, duration: __ENV.DURATION, discardResponseBodies: true,
                         summaryTrendStats: ['med', 'p(99)'] };
export default function () { http.get(__ENV.URL); }
"""


def run_k6(url: str, duration: int, work: Path) -> dict:
    exe = shutil.which("k6") or str(Path(os.environ.get("DEPLOYSAFE_CACHE", Path.home() / ".cache/deploysafe-preflight"))
                                     / "bin" / "k6")
    if not os.path.exists(exe):
        return {}
    script, summary = work / "k6.js", work / "k6-summary.json"
    script.write_text(K6_SCRIPT)
    out, cpu = timed([exe, "run", "--quiet", "--no-color", "-e", f"URL={url}", "-e", f"DURATION={duration}s",
                      "--summary-export", str(summary), str(script)])
    doc = json.loads(summary.read_text())["metrics"]
    dur = doc["http_req_duration"]
    return {"requests": int(doc["http_reqs"]["count"]), "seconds": duration, "cpu": cpu,
            "p50_ms": dur["med"], "p99_ms": dur["p(99)"]}


def coordinated_omission() -> dict:
    sys.path[:0] = [str(ROOT / ".collection"), str(ROOT)]
    import urllib.request
    from ansible_collections.deploysafe.preflight.plugins.module_utils.load.runner import run_load_test
    from deploysafe_testenv import TestEnv

    def faults(url, **kw):
        req = urllib.request.Request(url + "/admin/faults", data=json.dumps(kw).encode(), method="POST",
                                     headers={"Content-Type": "application/json"})
        urllib.request.urlopen(req).close()

    out = {}
    with TestEnv() as env:
        env.start("app")
        url = env["app"].data["url"]
        for model, target in (("open", 50), ("closed", 5)):
            faults(url, stall_every_s=0)
            faults(url, stall_every_s=3, stall_ms=1000)
            r = run_load_test({"base_url": url, "requests": ["/api/search?q=backup"], "model": model,
                               "stages": [{"duration": 8, "target": target, "start": target}]})
            out[model] = r["stats"]["overall"]["p99_ms"]
    out["expected"] = 960.0
    return out


# Worker processes on a 2-core machine whose second core runs nginx: 2 generator processes cannot raise the
# throughput (they compete with the target), so what is measured is what the split costs:
# - requests per generator CPU-second (user + system of the generator processes inside the measured window,
#   from their own rusage): the engine is shared-nothing while it runs, so with a core per process the
#   throughput of N processes is N x one process's as long as this figure holds and the target keeps up;
# - the same core budget: 1 process, or 2 processes together, pinned to CPU 0 (nginx on CPU 1) - the ratio
#   of throughputs is what splitting costs, 1.0 ideal;
# - the open model at a fixed rate the target absorbs (pinned to CPU 0): the same work, so CPU per request
#   compares directly;
# - unpinned, as a user would run it: nginx shares the cores, shown for the record.
WORKER_CONFIGS = [
    ("closed 64 users, 1 process pinned to CPU 0", dict(workers=1, pin=True)),
    ("closed 64 users, 2 processes pinned to CPU 0", dict(workers=2, pin=True)),
    ("open {rate} req/s, 1 process pinned to CPU 0", dict(workers=1, pin=True, model="open")),
    ("open {rate} req/s, 2 processes pinned to CPU 0", dict(workers=2, pin=True, model="open")),
    ("closed 64 users, 1 process unpinned", dict(workers=1, pin=False)),
    ("closed 64 users, 2 processes unpinned", dict(workers=2, pin=False)),
]


def per_cpu_s(r: dict) -> float:
    return r["requests"] / r["generator_cpu_s"] if r.get("generator_cpu_s") else 0.0


def workers_section(url: str, duration: int, rounds: int, rate: float) -> dict:
    """{label: [result per round]}, the configurations interleaved within each round."""
    out = {}
    for rnd in range(rounds):
        for label, kw in WORKER_CONFIGS:
            kw = dict(kw)
            if kw.get("model") == "open":
                kw["target"] = rate
            r = run_builtin(url, duration, **kw)
            r["load"] = loadavg()
            out.setdefault(label.format(rate=f"{rate:,.0f}"), []).append(r)
            print(f"round {rnd + 1} {label.format(rate=f'{rate:,.0f}')}: {rps(r):,.0f} req/s, "
                  f"{per_cpu_s(r):,.0f} req per generator CPU-s, load {r['load']}", file=sys.stderr)
    return out


def print_workers(rows: dict) -> list:
    """Print the table and the 2-vs-1 ratios (median of per-round ratios); return report rows."""
    print("| workers (median of interleaved rounds) | req/s | req per generator CPU-s | CPU-ms/1k (whole tree) "
          "| per worker: requests / CPU-s | late / dropped | load average |")
    print("|---|---|---|---|---|---|---|")
    for label, runs in rows.items():
        r = sorted(runs, key=per_cpu_s)[len(runs) // 2]
        per = ", ".join(f"{w['requests']:,} / {w['cpu_s']:.2f}" for w in r["worker_runs"] or []) or "–"
        print(f"| {label} | {rps(r):,.0f} | {per_cpu_s(r):,.0f} | {1e6 * r['cpu'] / r['requests']:.1f} | {per} "
              f"| {r['late']} / {r['dropped']} | {r['load']} |")
    print()
    labels = list(rows)
    report = []
    for one, two in zip(labels[0::2], labels[1::2]):
        eff = [per_cpu_s(b) / per_cpu_s(a) for a, b in zip(rows[one], rows[two]) if per_cpu_s(a)]
        thr = [rps(b) / rps(a) for a, b in zip(rows[one], rows[two])]
        print(f"{two} / {one}: requests per generator CPU-s {statistics.median(eff):.2f}x "
              f"(rounds {', '.join(f'{x:.2f}' for x in eff)}); req/s {statistics.median(thr):.2f}x "
              f"(rounds {', '.join(f'{x:.2f}' for x in thr)})")
        report.append((one, two, eff, thr, statistics.median(per_cpu_s(r) for r in rows[one]),
                       statistics.median(per_cpu_s(r) for r in rows[two])))
    return report


def loadavg() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def rps(r: dict) -> float:
    return r["requests"] / r["seconds"]


def write_result(rows: dict, ours: str, extra: list, args, workers: list = ()) -> None:
    """benchmarks/load/last.json for `make bench` (benchmarks/report.py, where that convention exists)."""
    sys.path.insert(0, str(ROOT))
    try:
        from benchmarks.report import row, write_last
    except ImportError:
        return
    work = "load, nginx 100-byte file, 64 connections, one core"
    out = []
    for peer, runs in rows.items():
        if peer == ours or not runs or not rows[ours]:
            continue
        pairs = [rps(a) / rps(b) for a, b in zip(rows[ours], runs)]
        out.append(row(work, peer, statistics.median(rps(r) for r in runs), statistics.median(rps(r) for r in rows[ours]),
                       "req/s", round_ratios=[round(p, 3) for p in pairs]))
    for one, two, eff, thr, one_value, two_value in workers:
        out.append(row(f"load, requests per generator CPU-second: {two} vs 1", "1 process", one_value, two_value,
                       "req/cpu-s", round_ratios=[round(x, 3) for x in eff], throughput_ratio=round(statistics.median(thr), 3)))
    write_last("load", out, args=vars(args),
               extra=[{"label": label, "rps": rps(r), "p50_ms": r["p50_ms"], "p99_ms": r["p99_ms"], "late": r["late"],
                       "sent": r["sent"], "load": r["load"]} for label, r in extra])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--duration", type=int, default=5)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--open-rates", default="50000,20000", help="comma-separated arrival rates for the open model")
    ap.add_argument("--skip-co", action="store_true")
    ap.add_argument("--skip-tools", action="store_true", help="no wrk/k6/Locust comparison (workers and open model only)")
    ap.add_argument("--workers-rate", type=float, default=40000, help="open-model rate of the workers comparison")
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="deploysafe-bench-"))
    nginx, url = start_nginx(work)
    tools = {"wrk -t1 -c64": lambda: run_wrk(url, args.duration),
             "built-in (asyncio protocols + httptools), 64 users": lambda: run_builtin(url, args.duration),
             "k6 v2.2.0, 64 VUs (GOMAXPROCS=1)": lambda: run_k6(url, args.duration, work),
             "Locust FastHttpUser, 64 users": lambda: run_locust(url, args.duration, work)}
    ours, wrk, k6 = list(tools)[1], list(tools)[0], list(tools)[2]
    rows = {name: [] for name in tools}
    extra = []
    try:
        for rnd in range(0 if args.skip_tools else args.rounds):
            for name, run in tools.items():
                r = run()
                if r:
                    r["load"] = loadavg()
                    rows[name].append(r)
                    print(f"round {rnd + 1} {name}: {rps(r):,.0f} req/s, load {r['load']}", file=sys.stderr)
        rates = [float(r) for r in args.open_rates.split(",") if r]
        for label, kw in [(f"open model, {rate:,.0f} req/s target, 1 process pinned", dict(model="open", target=rate))
                          for rate in rates]:
            r = run_builtin(url, args.duration, **kw)
            r["load"] = loadavg()
            extra.append((label, r))
        worker_rows = workers_section(url, args.duration, args.rounds, args.workers_rate)
    finally:
        nginx.terminate()
        nginx.wait()
        shutil.rmtree(work, ignore_errors=True)
    print(f"| tool (median of {args.rounds} interleaved rounds) | req/s | p50 ms | p99 ms | CPU-ms/1k req "
          "(incl. start-up) | CPU-ms/1k in run | load average |")
    print("|---|---|---|---|---|---|---|")
    for name, runs in rows.items():
        if not runs:
            continue
        r = sorted(runs, key=rps)[len(runs) // 2]
        in_run = f"{1e6 * r['cpu_in_run'] / r['requests']:.1f}" if "cpu_in_run" in r else "–"
        print(f"| {name} | {rps(r):,.0f} | {r['p50_ms']:.2f} | {r['p99_ms']:.2f} | {1e6 * r['cpu'] / r['requests']:.1f} "
              f"| {in_run} | {r['load']} |")
    print()
    for peer in (wrk, k6, list(tools)[3]):
        pairs = [rps(a) / rps(b) for a, b in zip(rows[ours], rows[peer])]
        if pairs:
            print(f"built-in / {peer}: median of per-round ratios {statistics.median(pairs):.2f}x "
                  f"(rounds: {', '.join(f'{p:.2f}' for p in pairs)})")
    print()
    for label, r in extra:
        late = (f", late sends {r['late']} of {r['sent']} ({100 * r['late'] / max(r['sent'], 1):.2f} %); "
                f"verdict: {r['verdict']}") if "open" in label else ""
        print(f"{label}: {rps(r):,.0f} req/s, p50 {r['p50_ms']:.2f} ms, p99 {r['p99_ms']:.2f} ms, "
              f"CPU-ms/1k {1e6 * r['cpu'] / r['requests']:.1f}, errors {r['errors']}{late}; load {r['load']}")
        if r["errors"]:
            print(f"  error kinds: {r['kinds']}; first errors: {r['first_errors']}")
    print()
    write_result(rows, ours, extra, args, print_workers(worker_rows))
    if not args.skip_co:
        co = coordinated_omission()
        print(f"\nstalls 1 s every 3 s over 8 s: open-model p99 {co['open']:.0f} ms (expected {co['expected']:.0f}), "
              f"closed-model p99 {co['closed']:.0f} ms")


if __name__ == "__main__":
    main()
