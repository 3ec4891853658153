"""The open model's bounds against real loopback targets: a stalled target gets at most `max_in_flight`
connections and sends that cannot start within the timeout are dropped and counted; a starved generator
is counted late even when its sends queue behind the in-flight cap."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from dataclasses import asdict

import pytest

from ansible_collections.deploysafe.preflight.plugins.module_utils.load.runner import run_load_test

from load_helpers import open_run_here
from raw_http import RawServer, response


def test_stalled_target_gets_capped_connections_and_late_sends_are_dropped():
    """The server answers nothing from 0.5 s to 2.0 s of a 3 s, 200 req/s run (timeout 1 s, cap 20). The
    20 requests in flight time out; the ~280 arrivals behind them wait for a slot, and those that waited
    past the timeout are dropped, each a failed request. Opening a connection per arrival would have
    opened ~300 during the stall."""
    stalled = threading.Event()

    def respond(_request):
        while stalled.is_set():
            time.sleep(0.01)
        return response(body=b"ok")
    server = RawServer(respond)
    timers = [threading.Timer(0.5, stalled.set), threading.Timer(2.0, stalled.clear)]
    try:
        for timer in timers:
            timer.start()
        result = run_load_test({"requests": [server.url + "/"], "model": "open", "timeout": 1.0, "max_in_flight": 20,
                                "max_duration": 30, "stages": [{"duration": 3, "target": 200, "start": 200}]})
    finally:
        stalled.clear()
        for timer in timers:
            timer.cancel()
        server.stop()
    run = result["run"]
    print(f"connections {server.connections} (peak {run['peak_connections']}), dropped {run['dropped']}, "
          f"kinds {run['error_kinds']}, late {run['late_sends']} of {run['sent']}")
    assert run["peak_connections"] <= 20
    assert server.connections <= 3 * 20   # the cap, plus replacements of the connections that timed out
    assert run["dropped"] >= 20 and run["error_kinds"].get("dropped") == run["dropped"]
    assert run["error_kinds"].get("timeout", 0) >= 1
    assert "max_in_flight" in run["first_errors"]["dropped"]
    # every scheduled send is accounted for: answered, failed or dropped
    assert result["stats"]["overall"]["requests"] == run["sent"]
    assert result["verdict"]["status"] == "fail" and "error_rate" in result["verdict"]["summary"]


def test_starved_generator_is_late_even_behind_the_in_flight_cap(app, faults):
    """Block the generator's event loop for 600 ms while every in-flight slot is taken (cap 2, the target
    answering in 5 ms). The sends due during the block find no free slot and queue. Measured when they
    finally started, their lateness looked like the target's back-pressure: 2 late sends of 301, and the
    block charged to the target (p99 570 ms, a pass under the default limits). Counted when the schedule
    reaches them, they are late, the verdict is pending, and the target's latency keeps to the queue
    behind 2 slots."""
    faults(latency_ms=5, latency_paths=["/livez"])
    stall_s = 0.6
    info, result = open_run_here(app, stall_s, max_in_flight=2)
    verdict = result["verdict"]
    overall = result["stats"]["overall"]
    print(f"late {info.late_sends} of {info.sent}, p95 {overall['p95_ms']:.1f} ms, p99 {overall['p99_ms']:.1f} ms")
    assert info.late_sends >= 0.5 * 100 * stall_s, info
    assert verdict["status"] == "pending" and "load generator saturated" in verdict["summary"], verdict["summary"]
    assert overall["p99_ms"] < 0.5 * stall_s * 1000, overall
    assert overall["errors"] == 0 and info.dropped == 0


def test_generator_kept_off_the_cpu_is_named_a_busy_host(app):
    """A real busy host: for 0.6 s of a 3 s, 100 req/s run a real-time (SCHED_FIFO) process spins on the
    generator's one CPU, so the kernel keeps the generator waiting in its run queue. (A nice -20 spinner
    was not enough on a quiet machine: the scheduler still ran the waking generator in time.) Its sends are late
    (pending, as for any late generator) and the verdict names the host, with the measured wait, instead
    of asking for more workers. (The planted loop block in test_load_nodata is the opposite case.)"""
    cpu = min(os.sched_getaffinity(0))
    hog = "import os, time\ntime.sleep(1.2)\nend = time.monotonic() + 0.6\nwhile time.monotonic() < end: pass\n"
    before = os.sched_getaffinity(0)
    try:
        proc = subprocess.Popen([sys.executable, "-c", hog], preexec_fn=lambda: (
            os.sched_setaffinity(0, {cpu}), os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(1))))
    except (PermissionError, subprocess.SubprocessError):
        pytest.skip("a real-time process needs root (CAP_SYS_NICE)")
    os.sched_setaffinity(0, {cpu})   # this thread runs the generator's loop
    try:
        info, result = open_run_here(app)
    finally:
        os.sched_setaffinity(0, before)
        proc.wait(10)
    summary = result["verdict"]["summary"]
    print(f"late {info.late_sends} of {info.sent}, latest {1000 * info.max_lag_s:.0f} ms with "
          f"{1000 * info.max_lag_host_wait_s:.0f} ms in the run queue; {summary}")
    assert info.late_sends >= 5 and info.max_lag_host_wait_s >= 0.5 * info.max_lag_s, asdict(info)
    assert result["verdict"]["status"] == "pending" and "a busy host" in summary, summary
