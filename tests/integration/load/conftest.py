"""Helpers for load-gate tests: fault changes on the real sample service while a run goes on (the
`faults` fixture itself is in tests/conftest.py)."""

from __future__ import annotations

import os
import threading

import pytest

from deploysafe_testenv.services.sample_app import set_faults


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
def bearer_server(loopback_http):
    """A real HTTP server on loopback that answers 200 only to `Authorization: Bearer <token>` and keeps
    every Authorization header it saw. The token is made at test time (never a committed secret)."""
    token = os.urandom(12).hex()
    seen = []

    def respond(request):
        got = request.headers.get("Authorization", "")
        seen.append(got)
        return (200, None, b"ok") if got == f"Bearer {token}" else (401, None, b"unauthorized")

    return {"url": loopback_http(respond), "token": token, "seen": seen}
