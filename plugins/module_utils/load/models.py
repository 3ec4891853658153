# Copyright: (c) 2026, deploysafe.preflight contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Who owns the connections of the built-in engine in each model, driven by response callbacks.

Closed model: a virtual user keeps one connection per origin, like a wrk connection, and sends its
next request from the callback of the previous answer (after its think time). Open model: one pool
shares keep-alive connections; the engine's schedule hands it requests at their intended times.

A request travels as (prepared request, intended time, generator lag) and ends in `Engine.finish`.
"""

from __future__ import annotations

import asyncio
from collections import deque
from typing import Any, Deque, Dict, List, Optional, Tuple

# Open model: a send that starts more than this after the moment it could have started (its intended
# time, or when an in-flight slot freed up) is late because of the generator, not the target. Jitter
# below it is caught up at once: the OS descheduling the generator on a busy host, the resource sampler
# thread holding the GIL for its 5 ms switch interval, uvloop's millisecond timers. A generator that
# cannot keep up builds a backlog that only grows, and a stalled one leaves a gap: both put sends far
# later than this (measured on a 2-core machine at load average 8-11: 100-300 req/s runs had 1-16 % of
# sends over 10 ms late from descheduling alone, almost none over 50 ms).
LATE_S = 0.050


class ClosedUser:
    """One virtual user: request, answer, think, request... until told to leave."""

    def __init__(self, engine: Any, drained: asyncio.Event):
        self.engine = engine
        self.drained = drained
        self.conns: Dict[Tuple[str, str, int], Any] = {}
        self.leaving = False
        self.gone = False
        self.group: Optional[List["ClosedUser"]] = None

    def next(self) -> None:
        e = self.engine
        # the hot path: a budget check, a pick and a write (helpers inlined; 100k calls a second)
        if self.leaving or e.stopping or (e.info.sent >= e.plan.max_requests and not e.budget_left()):
            self.leave()
            return
        e.info.sent += 1
        prep = e.prepared[0] if e.single else e.pick()
        now = e.clock() - e.t0
        request = (prep, now, 0.0)   # closed model: the request is intended when it is sent
        conn = self.conns.get(prep.origin)
        if conn is not None and not conn.closed:
            conn.request = request
            conn.send(prep, now + e.timeout)
        else:
            e.connect(self, request)

    def on_response(self, conn: Any, status: int, body: Optional[bytes], kind: str, message: str) -> None:
        e = self.engine
        e.finish(conn.request, status, body, kind, message)
        if e.think:
            self.pause_then_next()
        else:
            self.next()

    def connected(self, conn: Any, request: Tuple[Any, float, float]) -> None:
        self.conns[request[0].origin] = conn
        self.engine.send(conn, request)

    def connect_failed(self, request: Tuple[Any, float, float], kind: str, message: str) -> None:
        if kind:
            self.engine.finish(request, 0, None, kind, message)
        self.pause_then_next()

    def pause_then_next(self) -> None:
        e = self.engine
        if e.think and not self.leaving and not e.stopping:
            e.loop.call_later(e.think * (0.5 + e.rng.random()), self.next)
        else:
            self.next()

    def leave(self) -> None:
        if self.gone:
            return
        self.gone = True
        for conn in self.conns.values():
            conn.close()
        if self.group is not None and all(u.gone for u in self.group):
            self.drained.set()

    @staticmethod
    def watch_drain(users: List["ClosedUser"], drained: asyncio.Event) -> None:
        """Set `drained` when the last of `users` has left (users in think time leave when it ends)."""
        for user in users:
            user.group = users
            if not user.gone and (user.leaving and not any(c.busy for c in user.conns.values())):
                user.leave()   # thinking or idle: nothing in flight to wait for
        if all(u.gone for u in users):
            drained.set()


# Open model: connections being opened at once. After a stall (the host descheduling the generator), a
# burst of due sends finds no idle connection; opening one per send turned a 50 ms hiccup into a storm
# of a thousand connects that collapsed the run. Sends beyond this wait for the next free connection.
CONNECT_BURST = 16


class OpenPool:
    """Keep-alive connections shared by the open model, at most `max_in_flight` requests outstanding.

    The cap also bounds the connections: a connection is opened only for a request that holds a slot and
    finds no idle one, so a stalled target gets at most `max_in_flight` connections per origin, not one
    per arrival. Arrivals beyond the cap wait in `waiting` (the target's back-pressure, counted as their
    latency); one that has waited longer than the request timeout is dropped and recorded as a failed
    request of kind `dropped` (it could not have been answered within the timeout), which also bounds
    the queue to about rate x timeout entries."""

    def __init__(self, engine: Any):
        self.engine = engine
        self.idle: Dict[Tuple[str, str, int], List[Any]] = {}
        self.waiting: Deque[Tuple[Any, float, float]] = deque()   # (prep, intended, generator lag)
        self.parked: Deque[Tuple[Any, float, float]] = deque()   # started, waiting for a connection
        self.opening = 0
        self.in_flight = 0
        self.drained = asyncio.Event()

    def outstanding(self) -> bool:
        return bool(self.in_flight or self.waiting)

    def dispatch(self, prep: Any, intended: float) -> None:
        """Start the send the schedule wants at `intended`, or queue it behind the in-flight cap.

        Lateness is the generator's own and is measured here, when the schedule reaches the send, whether
        or not a slot is free: a starved event loop reaches it late. (Measured when a queued send finally
        starts, it was hidden: the wait for a slot then looked like the target's back-pressure.)"""
        e = self.engine
        now = e.clock() - e.t0
        lag = now - intended if now > intended else 0.0
        if lag > LATE_S:
            e.info.late_sends += 1
            e.info.generator_lag_s += lag
            if lag > e.info.max_lag_s:
                e.info.max_lag_s = lag
                e.info.max_lag_host_wait_s = e.gap_wait
        if self.in_flight >= e.plan.max_in_flight:
            self.waiting.append((prep, intended, lag))   # the target's back-pressure: counted as latency
            if now - self.waiting[0][1] > e.timeout:
                self.expire(now)
            return
        self.start(prep, intended, lag, now)

    def expire(self, now: float) -> None:
        """Drop the queued sends that have waited past the timeout for a slot (oldest first)."""
        e = self.engine
        waiting, limit = self.waiting, e.timeout
        while waiting and now - waiting[0][1] > limit:
            e.info.dropped += 1
            e.finish(waiting.popleft(), 0, None, "dropped",
                     f"not sent: no free slot within the {limit:g}s timeout ({e.plan.max_in_flight} requests "
                     "outstanding, max_in_flight)")

    def abandon(self) -> None:
        """At the end of the run: queued sends older than the timeout are dropped; younger ones are cut
        with the run, like requests in flight."""
        self.expire(self.engine.now())
        self.waiting.clear()

    def start(self, prep: Any, intended: float, lag: float, now: float) -> None:
        e = self.engine
        if now > e.info.last_send_s:
            e.info.last_send_s = now
        self.in_flight += 1
        request = (prep, intended, lag)
        idle = self.idle.get(prep.origin)
        while idle:
            conn = idle.pop()
            if not conn.closed:
                conn.request = request
                conn.send(prep, now + e.timeout)
                return
        if self.opening >= CONNECT_BURST:
            self.parked.append(request)
            return
        self.opening += 1
        e.connect(self, request)

    def on_response(self, conn: Any, status: int, body: Optional[bytes], kind: str, message: str) -> None:
        request = conn.request
        self.engine.finish(request, status, body, kind, message)
        if self.parked or conn.closed:
            self.reuse(conn, request[0].origin)
        else:   # the common case, inlined
            idle = self.idle.get(request[0].origin)
            if idle is None:
                idle = self.idle[request[0].origin] = []
            idle.append(conn)
        self.done()

    def reuse(self, conn: Any, origin: Tuple[str, str, int]) -> None:
        """A free connection takes the first parked request of its origin, or goes idle."""
        if conn.closed:
            if self.parked and self.opening < CONNECT_BURST:   # replace it for whoever waits
                self.opening += 1
                self.engine.connect(self, self.parked.popleft())
            return
        for i, request in enumerate(self.parked):
            if request[0].origin == origin:
                del self.parked[i]
                self.engine.send(conn, request)
                return
        self.idle.setdefault(origin, []).append(conn)

    def connected(self, conn: Any, request: Tuple[Any, float, float]) -> None:
        self.opening -= 1
        self.engine.send(conn, request)
        if self.parked and self.opening < CONNECT_BURST:
            self.opening += 1
            self.engine.connect(self, self.parked.popleft())

    def connect_failed(self, request: Tuple[Any, float, float], kind: str, message: str) -> None:
        self.opening -= 1
        if kind:
            self.engine.finish(request, 0, None, kind, message)
        self.done()
        if self.parked and self.opening < CONNECT_BURST:
            self.opening += 1
            self.engine.connect(self, self.parked.popleft())

    def done(self) -> None:
        self.in_flight -= 1
        if self.waiting:
            now = self.engine.now()
            if now - self.waiting[0][1] > self.engine.timeout:
                self.expire(now)
        if self.waiting:
            # the generator's lag at dispatch stays the request's; the wait for this slot is the target's
            prep, intended, lag = self.waiting.popleft()
            self.start(prep, intended, lag, now)
        elif not self.in_flight:
            self.drained.set()
