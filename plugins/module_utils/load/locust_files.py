# Copyright: (c) 2026, deploysafe.preflight contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Locustfiles written next to a Locust run (kept as text so Ansible ships them with the module).

HOOKS is loaded beside any locustfile: it records every request (start time, name, latency, success)
to a per-process file, so thresholds per stage and endpoint are evaluated from the same raw data as
the built-in engine, and it drives users through the plan's stages with a LoadTestShape.
Workers on other hosts (started with ``-f -``, so they download these files from the master) have no
shared directory: they send their samples to the master as Locust custom messages, and the master
appends them to one file per worker. The plan is embedded (``PLAN_MARK``) for the same reason.
PLAN_USERS runs the plan's own weighted request mix when no locustfile is given.
"""

PLAN_MARK = "__DEPLOYSAFE_PLAN_JSON__"

HOOKS = r'''
import json
import os
import socket
import time

from locust import LoadTestShape, events

PLAN = json.loads(os.environ.get("DEPLOYSAFE_LOAD_PLAN") or __DEPLOYSAFE_PLAN_JSON__)
OUT_DIR = os.environ.get("DEPLOYSAFE_LOAD_SAMPLES", "")
_buffer = []
_handle = None
_env = None
_connected = set()


@events.init.add_listener
def _init(environment, **kw):
    global _env
    _env = environment
    from locust.runners import MasterRunner
    if isinstance(environment.runner, MasterRunner):
        environment.runner.register_message("deploysafe_samples", _remote_samples)


@events.worker_connect.add_listener
def _worker_connected(client_id, **kw):
    _connected.add(client_id)
    with open(os.path.join(OUT_DIR, "workers"), "w") as fh:
        fh.write("%d" % len(_connected))


def _remote_samples(msg, **kw):
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in str(msg.node_id))
    with open(os.path.join(OUT_DIR, "samples-remote-%s.tsv" % safe), "a") as fh:
        fh.write(msg.data)


def _flush():
    global _handle
    if not _buffer:
        return
    if not OUT_DIR:
        # A worker on another host: the master writes the samples (sent before "client_stopped").
        _env.runner.send_message("deploysafe_samples", "".join(_buffer))
        _buffer.clear()
        return
    if _handle is None:
        _handle = open(os.path.join(OUT_DIR, "samples-%s-%d.tsv" % (socket.gethostname(), os.getpid())), "a")
    _handle.write("".join(_buffer))
    _buffer.clear()
    _handle.flush()


@events.request.add_listener
def _record(request_type, name, response_time, response_length, exception=None, start_time=None, **kw):
    start = start_time if start_time is not None else time.time() - response_time / 1000.0
    text = str(exception) if exception is not None else ""
    # A locustfile's own failure message (resp.failure("wrong_result")) names the kind better than its class.
    own = text.startswith("http_") or type(exception).__name__ == "CatchResponseError"
    kind = "" if exception is None else (text[:60].replace("\t", " ").replace("\n", " ") if own
                                         else type(exception).__name__)
    _buffer.append("%.6f\t%s\t%.3f\t%d\t%s\n" % (start, name.replace("\t", " "), response_time,
                                                  0 if exception else 1, kind))
    if len(_buffer) >= 500:
        _flush()


@events.test_start.add_listener
def _started(environment, **kw):
    from locust.runners import WorkerRunner
    if not isinstance(environment.runner, WorkerRunner):
        with open(os.path.join(OUT_DIR, "start"), "w") as fh:
            fh.write("%.6f" % time.time())


@events.quitting.add_listener
def _quit(environment, **kw):
    _flush()


@events.test_stop.add_listener
def _stopped(environment, **kw):
    _flush()
    from locust.runners import WorkerRunner
    if not OUT_DIR and isinstance(environment.runner, WorkerRunner):
        # A worker started for one distributed run: the master forgets it once it reports "stopped"
        # (sent right after this event), so no "quit" follows; exit on our own.
        import gevent
        gevent.spawn_later(1.0, environment.runner.quit)


class PlanShape(LoadTestShape):
    """Users follow the plan's stages linearly, like the built-in closed model."""

    def tick(self):
        t = self.get_run_time()
        offset = 0.0
        for stage in PLAN["stages"]:
            if t < offset + stage["duration"]:
                frac = (t - offset) / stage["duration"]
                users = round(stage["start"] + (stage["target"] - stage["start"]) * frac)
                return (max(int(users), 0), max(users, 1) * 10.0)
            offset += stage["duration"]
        from locust.runners import MasterRunner
        if os.environ.get("DEPLOYSAFE_LOAD_DRAIN") and isinstance(self.runner, MasterRunner) \
                and not getattr(self, "_drained", False):
            # Headless Locust quits the workers right after the shape ends; stop them first so each sends
            # its last samples (on test_stop, before reporting "stopped", which this call waits for).
            self._drained = True
            self.runner.stop()
        return None
'''

PLAN_USERS = r'''
import json
import os
import random

from locust import between, constant, task
from locust.contrib.fasthttp import FastHttpUser

PLAN = json.loads(os.environ.get("DEPLOYSAFE_LOAD_PLAN") or __DEPLOYSAFE_PLAN_JSON__)


class PlanUser(FastHttpUser):
    """The load_test request mix: same names, weights and success rule as the built-in engine."""
    host = PLAN["host"]
    wait_time = between(PLAN["think_time"] * 0.5, PLAN["think_time"] * 1.5) if PLAN["think_time"] else constant(0)
    network_timeout = PLAN["timeout"]
    connection_timeout = PLAN["timeout"]

    @task
    def mixed(self):
        req = random.choices(PLAN["requests"], weights=[r["weight"] for r in PLAN["requests"]])[0]
        with self.client.request(req["method"], req["url"], name=req["name"], headers=req["headers"] or None,
                                 json=req["json"], catch_response=True) as resp:
            expected = req["expect_status"]
            ok = resp.status_code in expected if expected else 0 < resp.status_code < 400
            if ok:
                resp.success()
            else:
                resp.failure("http_%s" % resp.status_code)
'''
