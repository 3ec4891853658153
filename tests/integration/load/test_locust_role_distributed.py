"""The load_test role with engine locust across two inventory hosts (both this machine): master on the
first, a worker started on the second; verdicts equal the built-in engine's, and a worker that never
connects fails the run with a clear message instead of hanging."""

from __future__ import annotations

import json
import os
import socket
import sys

from ansible_collections.deploysafe.preflight.plugins.module_utils.load.runner import run_load_test

MIX = [{"url": "/api/workspaces", "name": "workspaces", "weight": 2},
       {"url": "/api/search?q=backup", "name": "search", "weight": 1}]
STAGES = [{"name": "ramp", "duration": 2.5, "start": 2, "target": 6}, {"name": "sustain", "duration": 3, "target": 6}]
THRESHOLDS = {"p95_ms": 400, "p99_ms": None, "error_rate": 0.05}
LOCUST = os.path.join(os.path.dirname(sys.executable), "locust")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def play(app, tmp_path, **extra):
    inventory = tmp_path / "hosts.ini"
    inventory.write_text("[load]\n" + "".join(
        f"{h} ansible_connection=local ansible_host=127.0.0.1 ansible_python_interpreter={sys.executable}\n"
        for h in ("host_a", "host_b")))
    role_vars = {"load_test_engine": "locust", "load_test_base_url": app["url"], "load_test_requests": MIX,
                 "load_test_stages": STAGES, "load_test_thresholds": THRESHOLDS, "load_test_max_duration": 60,
                 "load_test_locust_hosts": ["host_a", "host_b"], "load_test_locust_master_port": free_port(),
                 "load_test_locust_executable": LOCUST, "load_test_report_dir": str(tmp_path / "reports"),
                 "load_test_fail_on": "never", **extra}
    text = ("- hosts: host_a\n  gather_facts: false\n  tasks:\n"
            "    - ansible.builtin.include_role: {name: deploysafe.preflight.load_test}\n"
            f"      vars: {json.dumps(role_vars)}\n")
    return text, str(inventory)


def failed(checks):
    return sorted(c["name"] for c in checks if c["ok"] is False)


def test_role_runs_locust_across_two_hosts(app, faults, tmp_path, ansible_playbook):
    faults(latency_ms=600, latency_paths=["/api/search"])
    builtin = run_load_test({"engine": "builtin", "base_url": app["url"], "requests": MIX, "stages": STAGES,
                             "model": "closed", "max_duration": 60, "thresholds": THRESHOLDS})
    text, inventory = play(app, tmp_path)
    proc = ansible_playbook(text, "-i", inventory)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    report = json.loads((tmp_path / "reports" / "load_test.json").read_text())
    assert report["run"]["workers"] == 1 and report["run"]["workers_reporting"] == 1, report["run"]
    assert report["stats"]["overall"]["requests"] > 20
    assert report["verdict"]["status"] == builtin["verdict"]["status"] == "fail"
    assert failed(report["checks"]) == failed(builtin["checks"]) == [
        "p95_ms", "p95_ms[endpoint=search]", "p95_ms[stage=ramp]", "p95_ms[stage=sustain]"]


def test_role_fails_when_a_worker_never_connects(app, tmp_path, ansible_playbook):
    # A Locust command whose workers exit at once (the master runs the real one): the worker never arrives.
    broken = tmp_path / "locust-no-workers"
    broken.write_text(f'#!/bin/sh\ncase " $* " in *" --worker "*) exit 0;; esac\nexec {LOCUST} "$@"\n')
    broken.chmod(0o755)
    text, inventory = play(app, tmp_path, load_test_locust_executable=str(broken),
                           load_test_locust_worker_timeout=3)
    proc = ansible_playbook(text, "-i", inventory, timeout=300)
    assert proc.returncode != 0
    assert "only 0 of 1 Locust workers connected to the master on 127.0.0.1" in proc.stdout, proc.stdout[-3000:]
