# Copyright: (c) 2026, deploysafe.preflight contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""More than one core for the built-in engine: forked worker processes, each running the plan at
1/N of its users or rate, send back HDR-encoded histograms that the parent merges.

Nothing is shared while the load runs: each worker has its own event loop, connections and recorder,
and talks to the parent once, at the end. So the throughput of N workers is N times one worker's as
long as each has a core of its own and the target keeps up; what multi-process costs is measured per
worker (requests per CPU-second, from the worker's own rusage) and reported in `worker_runs`.
The workers set up first (fork, the engine, a garbage collection), meet at a barrier and start their
schedules at the same instant: a worker still starting cannot shift the stages or the merged
timeline, and its set-up is not inside the measured window.
"""

from __future__ import annotations

import gc
import multiprocessing
import resource
import threading
import time
from dataclasses import asdict, replace
from typing import Any, Dict, List

from .engine import Engine, run_async
from .plan import LoadTestError, Plan
from .resources import Sampler
from .stats import Recorder, Window


def _share(plan: Plan, workers: int, index: int) -> Plan:
    """Worker `index`'s slice: targets and the request bound divided evenly (remainders to the first)."""
    def part(value: float) -> float:
        if plan.model == "open":
            return value / workers
        base, extra = divmod(int(round(value)), workers)
        return base + (1 if index < extra else 0)
    stages = [replace(s, start=part(s.start), target=part(s.target)) for s in plan.stages]
    bound = plan.max_requests // workers + (1 if index < plan.max_requests % workers else 0)
    return replace(plan, stages=stages, max_requests=max(bound, 1))


# Between the last worker reaching the barrier and the common start: room to leave the barrier and
# arm the start timer. A worker descheduled past it starts late, and the open model counts those sends late.
START_MARGIN_S = 0.1
BARRIER_TIMEOUT_S = 60.0


def _worker(plan: Plan, window_s: float, opts: Dict[str, Any], seed: Any, conn, barrier, start) -> None:
    try:
        recorder = Recorder(window_s=window_s)

        async def go():
            # built inside the loop (on Python 3.9 its asyncio objects bind to the loop that exists then)
            engine = Engine(plan, recorder, verify_tls=opts["validate_certs"], ca_path=opts["ca_path"], seed=seed)
            gc.collect()
            barrier.wait(BARRIER_TIMEOUT_S)   # every worker set up: the last one in sets the common start
            return await engine.run(start_at=start.value)
        info = run_async(go())
        hists, counts = recorder.encoded()
        usage = resource.getrusage(resource.RUSAGE_SELF)
        conn.send({"hists": hists, "counts": counts, "error_kinds": recorder.error_kinds, "info": asdict(info),
                   "windows": [asdict(w) for w in recorder.windows], "requests": recorder.total,
                   "process_cpu_s": usage.ru_utime + usage.ru_stime})
    except Exception as exc:  # reported by the parent with the worker's message
        barrier.abort()   # the others stop waiting for this one
        conn.send({"error": f"{type(exc).__name__}: {exc}"})
    finally:
        conn.close()


def run_workers(plan: Plan, recorder: Recorder, opts: Dict[str, Any], sampler: Sampler, workers: int) -> Dict[str, Any]:
    ctx = multiprocessing.get_context("fork")
    pipes, procs = [], []
    start = ctx.Value("d", 0.0, lock=False)

    def set_start() -> None:   # run by the last worker to reach the barrier, before any leaves it
        start.value = time.perf_counter() + START_MARGIN_S
    barrier = ctx.Barrier(workers, action=set_start)
    t0 = time.monotonic()
    stop = threading.Event()
    thread = None
    if sampler.enabled:
        thread = sampler.start_thread(t0, stop)
    try:
        # The parent's objects are frozen out of the workers' garbage collections: collecting them would
        # touch (and copy, page by page) the memory the workers share with the parent.
        gc.freeze()
        try:
            for i in range(workers):
                parent, child = ctx.Pipe(duplex=False)
                seed = None if opts["seed"] is None else int(opts["seed"]) + i
                proc = ctx.Process(target=_worker, args=(_share(plan, workers, i), recorder.window_s, opts, seed,
                                                         child, barrier, start), daemon=True)
                proc.start()
                child.close()
                pipes.append(parent)
                procs.append(proc)
        finally:
            gc.unfreeze()
        results: List[Dict[str, Any]] = []
        for parent, proc in zip(pipes, procs):
            if not parent.poll(plan.max_duration + plan.timeout + 60):
                raise LoadTestError("a load worker process did not report back in time")
            results.append(parent.recv())
            proc.join(10)
    finally:
        stop.set()
        for proc in procs:
            if proc.is_alive():
                proc.kill()
        if thread:
            thread.join()
    # a worker that failed to set up breaks the barrier for the others: name its error, not theirs
    errors = sorted((r["error"] for r in results if "error" in r), key=lambda e: e.startswith("BrokenBarrierError"))
    if errors:
        raise LoadTestError(f"load worker failed: {errors[0]}")
    for r in results:
        recorder.merge_encoded(r["hists"], r["counts"])
        for kind, n in r["error_kinds"].items():
            recorder.error_kinds[kind] = recorder.error_kinds.get(kind, 0) + n
        for i, w in enumerate(r["windows"]):
            while len(recorder.windows) <= i:
                recorder.windows.append(Window(start=len(recorder.windows) * recorder.window_s))
            mine = recorder.windows[i]
            mine.count += w["count"]
            mine.errors += w["errors"]
            mine.max_us = max(mine.max_us, w["max_us"])
            mine.sample = (mine.sample + w["sample"])[: max(len(mine.sample), len(w["sample"])) * 2]
    infos = [r["info"] for r in results]
    first_errors: Dict[str, str] = {}
    for info in infos:
        for kind, msg in info["first_errors"].items():
            first_errors.setdefault(kind, msg)
    return {"duration": max(i["duration"] for i in infos), "sent": sum(i["sent"] for i in infos),
            "aborted": next((i["aborted"] for i in infos if i["aborted"]), ""),
            "stage_windows": infos[0]["stage_windows"], "first_errors": first_errors,
            "late_sends": sum(i["late_sends"] for i in infos),
            "generator_lag_s": sum(i["generator_lag_s"] for i in infos),
            "last_send_s": max(i["last_send_s"] for i in infos),
            "last_intended_s": max(i["last_intended_s"] for i in infos),
            # the run got as far as its slowest worker; it finished only if every worker did
            "reached_s": min(i["reached_s"] for i in infos),
            "schedule_done": all(i["schedule_done"] for i in infos), "workers": workers,
            "dropped": sum(i["dropped"] for i in infos),
            "peak_connections": sum(i["peak_connections"] for i in infos),
            "generator_cpu_s": sum(i["generator_cpu_s"] for i in infos),
            "host_wait_s": sum(i["host_wait_s"] for i in infos) if all(i["host_wait_s"] >= 0 for i in infos) else -1.0,
            # the latest send of all, with the run-queue wait of the worker that sent it
            **{k: v for k, v in max(infos, key=lambda i: i["max_lag_s"]).items()
               if k in ("max_lag_s", "max_lag_host_wait_s")},
            "worker_runs": [{"requests": r["requests"], "cpu_s": round(r["info"]["generator_cpu_s"], 3),
                             "process_cpu_s": round(r["process_cpu_s"], 3), "duration": round(r["info"]["duration"], 3)}
                            for r in results]}
