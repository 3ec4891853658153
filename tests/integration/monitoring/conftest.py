"""A second, bare Prometheus (no scrape target, no alert rule) for the "no data" cases: a gate that
looks at nothing must say pending, never pass."""

from __future__ import annotations

import json
import shutil
import urllib.request

import pytest

from deploysafe_testenv.process import free_port, spawn, stop_group, wait_until


def _ready(url: str) -> bool:
    with urllib.request.urlopen(url + "/api/v1/status/buildinfo", timeout=2) as resp:
        return json.loads(resp.read())["status"] == "success"


@pytest.fixture(scope="module")
def bare_prometheus(tmp_path_factory):
    """URL of a real Prometheus with an empty configuration, stopped after the module."""
    binary = shutil.which("prometheus") or "/usr/bin/prometheus"
    workdir = tmp_path_factory.mktemp("bare-prometheus")
    (workdir / "prometheus.yml").write_text("global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n")
    port = free_port()
    log = workdir / "prometheus.log"
    proc = spawn([binary, f"--config.file={workdir / 'prometheus.yml'}", f"--storage.tsdb.path={workdir / 'tsdb'}",
                  f"--web.listen-address=127.0.0.1:{port}"], log, cwd=workdir)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until("bare Prometheus", lambda: _ready(url), timeout=60, proc=proc, log_path=log)
        yield url
    finally:
        stop_group(proc.pid)
