"""Helpers for load-gate tests: fault control on the real sample service."""

from __future__ import annotations

import json
import os
import threading
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest


def set_faults(url: str, method: str = "POST", **faults) -> dict:
    req = urllib.request.Request(url + "/admin/faults", method=method, data=json.dumps(faults).encode(),
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as resp:
        return json.loads(resp.read())


@pytest.fixture
def faults(app):
    """faults(**settings) sets faults on the sample service; they are reset after the test."""
    set_faults(app["url"], "DELETE")
    yield lambda **kw: set_faults(app["url"], **kw)
    set_faults(app["url"], "DELETE")


@pytest.fixture
def at_times(app):
    """Schedule fault changes at offsets (seconds) from now, in a thread, while a run goes on."""
    timers = []

    def schedule(*events):
        for delay, settings in events:
            method = "DELETE" if settings is None else "POST"
            timer = threading.Timer(delay, set_faults, args=(app["url"], method), kwargs=settings or {})
            timer.start()
            timers.append(timer)
    yield schedule
    for timer in timers:
        timer.cancel()


@pytest.fixture
def bearer_server():
    """A real HTTP server on loopback that answers 200 only to `Authorization: Bearer <token>` and keeps
    every Authorization header it saw. The token is made at test time (never a committed secret)."""
    token = os.urandom(12).hex()
    seen = []

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self):   # noqa: N802 (http.server's naming)
            got = self.headers.get("Authorization", "")
            seen.append(got)
            body = b"ok" if got == f"Bearer {token}" else b"unauthorized"
            self.send_response(200 if body == b"ok" else 401)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield {"url": f"http://127.0.0.1:{server.server_address[1]}", "token": token, "seen": seen}
    server.shutdown()
    server.server_close()
