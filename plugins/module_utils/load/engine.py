# Copyright: (c) 2026, deploysafe.preflight contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The built-in async load engine (aiohttp): closed model (virtual users) and open model (arrival rate).

In the open model every request has an intended send time on a fixed schedule and its latency is
measured from that time, not from when it was actually sent: a server that stalls delays the queue of
requests behind it, and those delays are counted (coordinated-omission correction, as in wrk2).
"""

from __future__ import annotations

import asyncio
import gc
import random
import ssl
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Optional, Tuple

from .plan import Plan, RequestSpec, Stage
from .stats import Recorder

try:
    import aiohttp
    HAS_AIOHTTP = True
except ImportError:
    aiohttp = None
    HAS_AIOHTTP = False

TICK = 0.05
# Open model: a send that starts more than this after the moment it could have started (its intended
# time, or when an in-flight slot freed up) is late because of the generator, not the target. Jitter
# below it is caught up at once: the OS descheduling the generator on a busy host, the resource sampler
# thread holding the GIL for its 5 ms switch interval, uvloop's millisecond timers. A generator that
# cannot keep up builds a backlog that only grows, and a stalled one leaves a gap: both put sends far
# later than this (measured on a 2-core machine at load average 8-11: 100-300 req/s runs had 1-16 % of
# sends over 10 ms late from descheduling alone, almost none over 50 ms).
LATE_S = 0.050


@dataclass
class RunInfo:
    duration: float = 0.0
    sent: int = 0
    aborted: str = ""                         # why the run stopped before its stages ended
    stage_windows: List[Tuple[str, float, float]] = field(default_factory=list)   # name, start, end (s)
    first_errors: Dict[str, str] = field(default_factory=dict)   # error kind -> first message
    late_sends: int = 0                       # open model: sends the generator started > LATE_S late
    generator_lag_s: float = 0.0              # open model: total generator lag, kept out of latencies
    last_send_s: float = 0.0                  # open model: when the last send actually started
    last_intended_s: float = 0.0              # open model: when the schedule wanted the last send
    reached_s: float = 0.0                    # how far into the stages the run got before it stopped
    schedule_done: bool = False               # every stage was played to its end


def stage_windows(stages: List[Stage]) -> List[Tuple[str, float, float]]:
    out, t = [], 0.0
    for s in stages:
        out.append((s.name, t, t + s.duration))
        t += s.duration
    return out


class Engine:
    def __init__(self, plan: Plan, recorder: Recorder, *, verify_tls: bool = True, ca_path: Optional[str] = None,
                 should_abort: Optional[Callable[[float], str]] = None, seed: Optional[int] = None):
        self.plan = plan
        self.recorder = recorder
        self.should_abort = should_abort
        self.rng = random.Random(seed)
        self.windows = stage_windows(plan.stages)
        self.info = RunInfo(stage_windows=self.windows)
        self.stop = asyncio.Event()
        self.t0 = 0.0
        self.ssl_ctx: Any = None
        if not verify_tls:
            self.ssl_ctx = False
        elif ca_path:
            self.ssl_ctx = ssl.create_default_context(cafile=ca_path)
        total = sum(r.weight for r in plan.requests)
        acc, self.cum_weights = 0.0, []
        for r in plan.requests:
            acc += r.weight / total
            self.cum_weights.append(acc)

    # -- helpers -------------------------------------------------------------------------------
    def now(self) -> float:
        return asyncio.get_running_loop().time() - self.t0

    def stage_at(self, t: float) -> Optional[Tuple[Stage, float]]:
        for stage, (_name, start, end) in zip(self.plan.stages, self.windows):
            if t < end:
                return stage, t - start
        return None

    def pick(self) -> RequestSpec:
        x = self.rng.random()
        for req, cw in zip(self.plan.requests, self.cum_weights):
            if x < cw:
                return req
        return self.plan.requests[-1]

    def _budget_left(self) -> bool:
        if self.info.sent >= self.plan.max_requests:
            if not self.info.aborted:
                self.info.aborted = f"request bound reached ({self.plan.max_requests})"
            self.stop.set()
            return False
        return True

    async def send(self, session, req: RequestSpec, intended: float, ready: Optional[float] = None) -> None:
        """Send one request and record its latency from `intended`, minus any lag of the generator itself.

        `ready` (open model) is when the request could have started from the target's point of view: its
        intended time, or later when it had to wait for an in-flight slot (the target's back-pressure,
        which is counted). Anything after `ready` until the send starts is the generator falling behind
        (a busy event loop, CPU): it is counted as a late send and never charged to the target.
        """
        located = self.stage_at(intended)
        stage_name = located[0].name if located else self.plan.stages[-1].name
        lag = 0.0
        if ready is not None:
            started = self.now()
            lag = max(started - ready, 0.0)
            self.info.last_send_s = max(self.info.last_send_s, started)
            if lag > LATE_S:
                self.info.late_sends += 1
                self.info.generator_lag_s += lag
        ok, kind = False, ""
        try:
            async with session.request(req.method, req.url, headers=req.headers or None, json=req.json,
                                       ssl=self.ssl_ctx) as resp:
                await resp.read()
                ok = resp.status in req.expect_status if req.expect_status else resp.status < 400
                if not ok:
                    kind = f"http_{resp.status}"
        except asyncio.TimeoutError:
            kind = "timeout"
            self.info.first_errors.setdefault(kind, f"{req.method} {req.url}: no answer within {self.plan.timeout}s")
        except Exception as exc:  # every client-side failure is a failed request with a named kind
            kind = _error_kind(exc)
            self.info.first_errors.setdefault(kind, f"{req.method} {req.url}: {exc}")
        self.recorder.record(stage_name, req.name, intended, self.now() - intended - lag, ok, kind)

    # -- models --------------------------------------------------------------------------------
    async def _closed(self, session) -> None:
        users: List[Tuple[asyncio.Task, asyncio.Event]] = []

        async def user(done: asyncio.Event) -> None:
            while not done.is_set() and not self.stop.is_set() and self._budget_left():
                self.info.sent += 1
                start = self.now()
                await self.send(session, self.pick(), start)
                if self.plan.think_time:
                    await asyncio.sleep(self.plan.think_time * (0.5 + self.rng.random()))

        while not self.stop.is_set():
            self.info.reached_s = self.now()
            located = self.stage_at(self.info.reached_s)
            if located is None:
                self.info.schedule_done = True
                break
            want = int(round(located[0].level_at(located[1])))
            users = [(t, d) for t, d in users if not t.done()]
            live = [(t, d) for t, d in users if not d.is_set()]
            for dummy in range(want - len(live)):
                done = asyncio.Event()
                users.append((asyncio.ensure_future(user(done)), done))
            for task, done in live[want:] if want < len(live) else []:
                done.set()
            await asyncio.sleep(TICK)
        for task, done in users:
            done.set()
        if users:
            await asyncio.wait([task for task, done in users], timeout=self.plan.timeout + 1)
            for task, done in users:
                task.cancel()

    async def _open(self, session) -> None:
        in_flight = asyncio.Semaphore(self.plan.max_in_flight)
        tasks = set()
        intended = 0.0

        async def one(req: RequestSpec, at: float, ready: float) -> None:
            try:
                await self.send(session, req, at, ready)
            finally:
                in_flight.release()

        while not self.stop.is_set() and self._budget_left():
            self.info.reached_s = intended
            located = self.stage_at(intended)
            if located is None:
                self.info.schedule_done = True
                break
            rate = located[0].level_at(located[1])
            if rate <= 0:
                intended += TICK
                continue
            delay = intended - self.now()
            if delay > 0.001:
                await asyncio.sleep(delay)
            ready = intended
            if in_flight.locked():
                await in_flight.acquire()   # waiting for a slot is the target's doing: counted as latency
                ready = max(intended, self.now())
            else:
                await in_flight.acquire()
            self.info.sent += 1
            self.info.last_intended_s = intended
            task = asyncio.ensure_future(one(self.pick(), intended, ready))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
            intended += 1.0 / rate
        if tasks:
            await asyncio.wait(list(tasks), timeout=self.plan.timeout + 1)
            for t in list(tasks):
                t.cancel()

    async def _watch(self) -> None:
        while not self.stop.is_set():
            await asyncio.sleep(1.0)   # evaluating percentiles costs a few ms per scope
            reason = self.should_abort(self.now()) if self.should_abort else ""
            if reason:
                self.info.aborted = reason
                self.stop.set()

    async def run(self) -> RunInfo:
        loop = asyncio.get_running_loop()
        connector = aiohttp.TCPConnector(limit=self.plan.max_in_flight, ttl_dns_cache=300)
        timeout = aiohttp.ClientTimeout(total=self.plan.timeout)
        gc_was_enabled = gc.isenabled()
        gc.collect()
        gc.disable()   # cyclic-GC pauses would show up as generator lateness
        try:
            async with aiohttp.ClientSession(connector=connector, timeout=timeout, cookie_jar=aiohttp.DummyCookieJar(),
                                             skip_auto_headers=("User-Agent",),
                                             headers={"User-Agent": "deploysafe-load/1"}) as session:
                self.t0 = loop.time()
                watcher = asyncio.ensure_future(self._watch())
                model = self._open if self.plan.model == "open" else self._closed
                try:
                    await asyncio.wait_for(model(session), timeout=self.plan.max_duration)
                except asyncio.TimeoutError:
                    if not self.info.schedule_done:   # past the last stage only the drain was cut
                        self.info.aborted = f"time bound reached ({self.plan.max_duration:g}s)"
                finally:
                    self.stop.set()
                    watcher.cancel()
                self.info.duration = self.now()
        finally:
            if gc_was_enabled:
                gc.enable()
        return self.info


def run_async(coro):
    """asyncio.run on uvloop when it is installed (about twice the requests per CPU second)."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run(coro)
    loop = uvloop.new_event_loop()
    try:
        return loop.run_until_complete(coro)
    finally:
        loop.run_until_complete(loop.shutdown_asyncgens())
        loop.close()


def _error_kind(exc: BaseException) -> str:
    name = type(exc).__name__
    text = str(exc).lower()
    if "certificate" in text or "ssl" in name.lower():
        return "tls"
    if "dns" in name.lower() or "name or service not known" in text or "nodename nor servname" in text \
            or "temporary failure in name resolution" in text:
        return "dns"
    if "connect" in name.lower():
        return "connect"
    if "disconnect" in name.lower() or "reset" in text:
        return "disconnected"
    return name
