"""Locust master waiting for workers on other hosts: workers started apart from the module (as the
load_test role does on inventory hosts, with ``-f -`` and no shared directory) send their samples over
Locust's messaging, and the verdicts match the built-in engine's."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from ansible_collections.deploysafe.preflight.plugins.module_utils.load.plan import LoadTestError
from ansible_collections.deploysafe.preflight.plugins.module_utils.load.runner import run_load_test

MIX = [{"url": "/api/workspaces", "name": "workspaces", "weight": 2},
       {"url": "/api/search?q=backup", "name": "search", "weight": 1}]
STAGES = [{"name": "ramp", "duration": 2.5, "start": 2, "target": 6}, {"name": "sustain", "duration": 3, "target": 6}]

LOCUST = os.path.join(os.path.dirname(sys.executable), "locust")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_worker(port: int, tmp: Path) -> subprocess.Popen:
    """A worker as on a host of its own: `-f -` writes the downloaded locustfiles into the temporary
    directory, so two workers sharing one (and every other Locust run of this machine) rewrote each
    other's files while importing them; the worker that read a truncated file never connected."""
    tmp.mkdir(parents=True, exist_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith("DEPLOYSAFE_LOAD_")}
    env["TMPDIR"] = str(tmp)
    return subprocess.Popen([LOCUST, "-f", "-", "--worker", "--master-host", "127.0.0.1", "--master-port", str(port),
                             "--loglevel", "WARNING"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)


def failed(result):
    return sorted(c["name"] for c in result["checks"] if c["ok"] is False)


def base(app):
    return {"base_url": app["url"], "requests": MIX, "stages": STAGES, "model": "closed", "max_duration": 60,
            "thresholds": {"p95_ms": 400, "p99_ms": None, "error_rate": 0.05}}


@pytest.mark.parametrize("fault,expect_failed", [
    ({}, []),
    ({"latency_ms": 600, "latency_paths": ["/api/search"]},
     ["p95_ms", "p95_ms[endpoint=search]", "p95_ms[stage=ramp]", "p95_ms[stage=sustain]"]),
], ids=["healthy", "latency-on-search"])
def test_remote_workers_match_builtin_verdicts(app, faults, tmp_path, fault, expect_failed):
    if fault:
        faults(**fault)
    builtin = run_load_test(dict(base(app), engine="builtin"))
    port = free_port()
    workers = [start_worker(port, tmp_path / f"w{i}") for i in range(2)]
    try:
        locust = run_load_test(dict(base(app), engine="locust",
                                    locust={"expect_workers": 2, "master_bind_host": "127.0.0.1",
                                            "master_port": port, "worker_timeout": 60}))
    finally:
        for w in workers:
            try:
                w.wait(30)   # the master tells them to quit
            except subprocess.TimeoutExpired:
                w.kill()
                w.wait()
    assert locust["run"]["workers"] == 2 and locust["run"]["workers_reporting"] == 2
    assert locust["stats"]["overall"]["requests"] > 20
    assert set(locust["stats"]["endpoints"]) == {"workspaces", "search"}
    assert builtin["verdict"]["status"] == locust["verdict"]["status"] == ("fail" if expect_failed else "pass")
    assert failed(builtin) == failed(locust) == expect_failed


def test_missing_remote_worker_fails_clearly(app, tmp_path):
    port = free_port()
    worker = start_worker(port, tmp_path / "w0")
    done = threading.Event()
    try:
        with pytest.raises(LoadTestError, match=r"only 1 of 2 Locust workers connected .* within 3s"):
            run_load_test(dict(base(app), engine="locust",
                               locust={"expect_workers": 2, "master_port": port, "worker_timeout": 3}))
        done.set()
    finally:
        if worker.poll() is None:
            worker.kill()
        worker.wait()
    assert done.is_set()
