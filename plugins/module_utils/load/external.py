# Copyright: (c) 2026, deploysafe.preflight contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Scale-out engines: Locust (headless, optionally with worker processes) run as separate processes.

Per-request samples recorded by a hook file feed the same Recorder (HDR histograms per stage and
endpoint) as the built-in engine; Locust's own CSV stats are read to check the samples are complete.
"""

from __future__ import annotations

import csv
import glob
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from typing import Any, Dict, List, Tuple

from ..localhost import free_port
from .locust_files import HOOKS, PLAN_MARK, PLAN_USERS
from .plan import LoadTestError, Plan
from .resources import Sampler
from .stats import Recorder


def _locust_exe(settings: Dict[str, Any]) -> List[str]:
    exe = settings.get("executable")
    if exe:
        return [exe]
    found = shutil.which("locust") or os.path.join(os.path.dirname(sys.executable), "locust")
    if not os.path.exists(found):
        raise LoadTestError("locust is not installed on this host (pip install locust==2.47.0), or set locust.executable")
    return [found]


def run_locust(plan: Plan, recorder: Recorder, opts: Dict[str, Any], sampler: Sampler) -> Dict[str, Any]:
    if plan.model != "closed":
        raise LoadTestError("Locust runs virtual users only: use model=closed with engine=locust")
    settings = dict(opts.get("locust") or {})
    workers = int(settings.get("workers", 0))
    exe = _locust_exe(settings)
    work = tempfile.mkdtemp(prefix="deploysafe-locust-")
    try:
        host = opts["base_url"] or "/".join(plan.requests[0].url.split("/", 3)[:3])
        plan_doc = {"host": host, "think_time": plan.think_time, "timeout": plan.timeout,
                    "stages": [{"name": s.name, "duration": s.duration, "start": s.start, "target": s.target}
                               for s in plan.stages],
                    "requests": [{"name": r.name, "method": r.method, "url": r.url, "weight": r.weight,
                                  "headers": r.headers, "json": r.json, "expect_status": r.expect_status}
                                 for r in plan.requests]}
        # Embedded so that workers on other hosts, which download these files from the master, have the plan.
        embedded = repr(json.dumps(plan_doc))
        # Names unique to this run: workers that download the files from the master (`-f -`) write them under
        # those names into their temporary directory, shared by every Locust run of that host. With fixed names
        # a concurrent run truncated, rewrote or (at its exit) deleted the file a worker was importing, and that
        # worker never connected.
        tag = secrets.token_hex(4)
        hooks = os.path.join(work, f"deploysafe_hooks_{tag}.py")
        with open(hooks, "w") as fh:
            fh.write(HOOKS.replace(PLAN_MARK, embedded))
        if settings.get("locustfile"):
            if not os.path.exists(settings["locustfile"]):
                raise LoadTestError(f"locustfile {settings['locustfile']} does not exist")
            files = f"{settings['locustfile']},{hooks}"
        else:
            users = os.path.join(work, f"deploysafe_plan_users_{tag}.py")
            with open(users, "w") as fh:
                fh.write(PLAN_USERS.replace(PLAN_MARK, embedded))
            files = f"{users},{hooks}"
        # The plan (its headers may hold a token) reaches Locust only in those files, inside the private work
        # directory: never in the processes' environment, which others can read while they run.
        env = dict(os.environ, DEPLOYSAFE_LOAD_SAMPLES=work, PYTHONUNBUFFERED="1",
                   # a locustfile may shorten its think times with the stages (the shipped one does)
                   DEPLOYSAFE_LOAD_TIME_SCALE=str(float(opts.get("time_scale", 1.0))))
        csv_prefix = os.path.join(work, "stats")
        common = ["-f", files, "--host", host, "--loglevel", "WARNING"]
        classes = list(settings.get("user_classes") or [])
        tags = list(settings.get("tags") or [])
        master = exe + common + ["--headless", "--csv", csv_prefix, "--run-time", f"{int(plan.max_duration)}s",
                                 "--stop-timeout", str(int(plan.timeout) + 1), "--exit-code-on-error", "0"]
        # Classes before --tags: its list takes every word after it, class names included.
        master += classes
        if tags:
            master += ["--tags"] + tags
        procs: List[subprocess.Popen] = []
        logs = []
        remote = int(settings.get("expect_workers", 0))   # workers on other hosts, started by the role
        expect = workers + remote
        wait_workers = float(settings.get("worker_timeout", 60))
        if remote:
            env["DEPLOYSAFE_LOAD_DRAIN"] = "1"   # see PlanShape.tick: remote samples arrive by message
        if expect:
            # Loopback unless told otherwise: the master port takes commands and code from whoever connects.
            port = int(settings.get("master_port", 0)) or free_port()
            master += ["--master", "--expect-workers", str(expect), "--expect-workers-max-wait",
                       str(max(int(wait_workers), 1)), "--master-bind-host",
                       settings.get("master_bind_host") or "127.0.0.1", "--master-bind-port", str(port)]
        t0 = time.monotonic()
        log = open(os.path.join(work, "master.log"), "w+")
        logs.append(log)
        procs.append(subprocess.Popen(master, env=env, cwd=work, stdout=log, stderr=subprocess.STDOUT,
                                      start_new_session=True))
        for i in range(workers):
            wlog = open(os.path.join(work, f"worker{i}.log"), "w+")
            logs.append(wlog)
            procs.append(subprocess.Popen(exe + common + ["--worker", "--master-host", "127.0.0.1", "--master-port",
                                                          str(port)] + classes, env=env, cwd=work, stdout=wlog,
                                          stderr=subprocess.STDOUT, start_new_session=True))
        stop = threading.Event()
        thread = sampler.start_thread(t0, stop) if sampler.enabled else None
        deadline = t0 + plan.max_duration + plan.timeout + 60 + (wait_workers if expect else 0)
        aborted = ""
        try:
            while procs[0].poll() is None:
                if time.monotonic() > deadline:
                    aborted = f"time bound reached ({plan.max_duration:g}s)"
                    break
                time.sleep(0.2)
        finally:
            stop.set()
            for p in procs:
                _stop(p)
            if thread:
                thread.join()
        duration = time.monotonic() - t0
        code = procs[0].returncode
        log.seek(0)
        master_log = log.read()[-2000:]
        for lg in logs:
            lg.close()
        if code not in (0, 1, -signal.SIGTERM) and not aborted:
            raise LoadTestError(f"Locust exited with code {code}: {master_log.strip()[-800:]}")
        if expect and "Gave up waiting for workers" in master_log:
            raise LoadTestError(f"only {_connected(work)} of {expect} Locust workers connected to the master on "
                                f"{settings.get('master_bind_host') or '127.0.0.1'}:{port} within "
                                f"{wait_workers:g}s; nothing was sent")
        start_epoch = _start_epoch(work, master_log)
        sent, reporting = _load_samples(work, start_epoch, plan, recorder)
        _cross_check(csv_prefix + "_stats.csv", sent, master_log)
        first = {}
        for kind in recorder.error_kinds:
            first.setdefault(kind, f"Locust reported {kind}")
        stage_end = sum(s.duration for s in plan.stages)
        return {"duration": min(duration, stage_end) if sent else duration, "sent": sent, "aborted": aborted,
                "stage_windows": [], "first_errors": first, "late_sends": 0, "workers": expect,
                "workers_reporting": reporting if expect else 0}
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(15)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            proc.wait()


def _start_epoch(work: str, log: str) -> float:
    try:
        with open(os.path.join(work, "start")) as fh:
            return float(fh.read())
    except (OSError, ValueError):
        raise LoadTestError(f"Locust never started the test (no start mark): {log.strip()[-800:]}") from None


def _connected(work: str) -> int:
    try:
        with open(os.path.join(work, "workers")) as fh:
            return int(fh.read())
    except (OSError, ValueError):
        return 0


def _load_samples(work: str, start: float, plan: Plan, recorder: Recorder) -> Tuple[int, int]:
    """Feed per-request samples into the recorder; stage by start time relative to the test start.
    Returns the sample count and the number of processes (sample files) that sent requests."""
    ends, names, t = [], [], 0.0
    for s in plan.stages:
        t += s.duration
        ends.append(t)
        names.append(s.name)
    count, sources = 0, 0
    for path in sorted(glob.glob(os.path.join(work, "samples-*.tsv"))):
        sources += os.path.getsize(path) > 0
        with open(path) as fh:
            for line in fh:
                parts = line.rstrip("\n").split("\t")
                if len(parts) != 5:
                    continue   # a line cut by a killed worker
                at, name, ms, ok, kind = float(parts[0]) - start, parts[1], float(parts[2]), parts[3] == "1", parts[4]
                stage = next((n for n, e in zip(names, ends) if at < e), names[-1])
                recorder.record(stage, name, max(at, 0.0), ms / 1000.0, ok, kind)
                count += 1
    return count, sources


def _cross_check(stats_csv: str, samples: int, log: str) -> None:
    """Locust's own totals must match the samples, or the result is incomplete."""
    try:
        with open(stats_csv, newline="") as fh:
            rows = list(csv.DictReader(fh))
    except OSError:
        raise LoadTestError(f"Locust stats file {os.path.basename(stats_csv)} is missing: {log.strip()[-600:]}") from None
    total = next((r for r in rows if r.get("Name") == "Aggregated"), None)
    if total is None or "Request Count" not in total:
        raise LoadTestError(f"Locust stats file {os.path.basename(stats_csv)} is truncated (no Aggregated row)")
    reported = int(total["Request Count"])
    # Requests still in flight when Locust writes its final CSV may add a few samples; missing ones
    # mean a sample file was lost.
    if samples < reported - max(5, reported // 100):
        raise LoadTestError(f"Locust reported {reported} requests but {samples} samples were recorded: "
                            "the worker sample files are incomplete")
