# Copyright: (c) 2026, deploysafe.preflight contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The built-in async load engine: closed model (virtual users) and open model (arrival rate).

Requests go out on asyncio Protocols (`http1.Connection`, llhttp through httptools) and every step of a
request is a callback: a response completes, is recorded, and the next request of that user is written
from the same callback, with no task or future per request. That is what lets one core drive
~100k requests/s with full bookkeeping (an aiohttp client spent ~90 % of its time in its own machinery
and topped out near 10k).

In the open model every request has an intended send time on a fixed schedule and its latency is
measured from that time, not from when it was actually sent: a server that stalls delays the queue of
requests behind it, and those delays are counted (coordinated-omission correction, as in wrk2).
"""

from __future__ import annotations

import asyncio
import bisect
import gc
import os
import random
import resource
import ssl
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Optional, Tuple

from .checks import describe
from .http1 import Prepared, client_ssl_context, open_connection, prepare
from .models import ClosedUser, OpenPool
from .plan import Plan, Stage
from .stats import Recorder

TICK = 0.05


@dataclass
class RunInfo:
    duration: float = 0.0
    sent: int = 0
    aborted: str = ""                         # why the run stopped before its stages ended
    stage_windows: List[Tuple[str, float, float]] = field(default_factory=list)   # name, start, end (s)
    first_errors: Dict[str, str] = field(default_factory=dict)   # error kind -> first message
    late_sends: int = 0                       # open model: sends the generator reached > models.LATE_S late
    dropped: int = 0                          # open model: sends that found no free slot within the timeout
    peak_connections: int = 0                 # most connections open at once
    generator_cpu_s: float = 0.0              # CPU seconds (user + system) of this process during the run
    max_lag_s: float = 0.0                    # open model: the latest send, seconds after it could have started
    max_lag_host_wait_s: float = -1.0         # ...and how long the host kept the generator off the CPU meanwhile
    host_wait_s: float = -1.0                 # time the loop's thread waited for a CPU (run queue); -1: unknown
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
        self.stopping = False                 # the hot paths read a plain attribute, not the Event
        self.t0 = 0.0
        self.loop: Any = None
        self.prepared: List[Prepared] = [prepare(r) for r in plan.requests]
        self.ssl_ctx = client_ssl_context(verify_tls, ca_path) \
            if any(p.origin[0] == "https" for p in self.prepared) else None
        self.conns: set = set()               # live connections, swept for timeouts
        self.connecting: set = set()
        self.think = plan.think_time
        self.timeout = plan.timeout
        self.single = len(self.prepared) == 1
        self.keep_bodies = any(p.keep_body for p in self.prepared)
        self.clock = time.perf_counter
        total = sum(r.weight for r in plan.requests)
        acc, self.cum_weights = 0.0, []
        for r in plan.requests:
            acc += r.weight / total
            self.cum_weights.append(acc)
        self._stage: Tuple[str, float, float] = ("", 0.0, -1.0)   # cached (name, start, end) of stage_name()
        self.schedstat = -1                   # fd of the loop thread's /proc schedstat, -1 when there is none
        self.gap_wait = -1.0                  # run-queue wait since the schedule's previous turn (open model)

    # -- helpers -------------------------------------------------------------------------------
    def now(self) -> float:
        """Seconds since the run started (perf_counter: uvloop's loop.time() has millisecond steps)."""
        return time.perf_counter() - self.t0

    def stage_at(self, t: float) -> Optional[Tuple[Stage, float]]:
        for stage, (_name, start, end) in zip(self.plan.stages, self.windows):
            if t < end:
                return stage, t - start
        return None

    def stage_name(self, t: float) -> str:
        name, start, end = self._stage
        if start <= t < end:
            return name
        for wname, wstart, wend in self.windows:
            if t < wend:
                self._stage = (wname, wstart, wend)
                return wname
        name = self.windows[-1][0]   # answers that arrive after the last stage belong to it
        self._stage = (name, self.windows[-1][2], float("inf"))
        return name

    def pick(self) -> Prepared:
        if len(self.prepared) == 1:
            return self.prepared[0]
        i = bisect.bisect_right(self.cum_weights, self.rng.random())
        return self.prepared[min(i, len(self.prepared) - 1)]

    def budget_left(self) -> bool:
        if self.info.sent >= self.plan.max_requests:
            if not self.info.aborted:
                self.info.aborted = f"request bound reached ({self.plan.max_requests})"
            self.halt()
            return False
        return True

    def halt(self) -> None:
        self.stopping = True
        self.stop.set()

    def finish(self, request: Tuple[Prepared, float, float], status: int, body: Optional[bytes], kind: str,
               message: str) -> None:
        """Record one request: latency from its intended time minus the generator's own lag.

        In the open model `lag` is how late the generator started the send after the moment it could have
        (its intended time, or when an in-flight slot freed up, which is the target's back-pressure and is
        counted): a busy event loop is never charged to the target."""
        prep, intended, lag = request
        spec = prep.spec
        if kind:
            self.info.first_errors.setdefault(kind, f"{spec.method} {spec.url}: {message}")
        elif (status not in spec.expect_status) if spec.expect_status else status >= 400:
            kind = f"http_{status}"
        elif prep.check is not None:
            kind = prep.check(body or b"")
            if kind:
                self.info.first_errors.setdefault(kind, describe(spec, kind))
        name, start, end = self._stage
        if not start <= intended < end:
            name = self.stage_name(intended)
        self.recorder.record(name, spec.name, intended, self.clock() - self.t0 - intended - lag, not kind, kind)

    def connect(self, owner: Any, request: Tuple[Prepared, float, float]) -> None:
        task = self.loop.create_task(self._connect(owner, request))
        self.connecting.add(task)
        task.add_done_callback(self.connecting.discard)

    async def _connect(self, owner: Any, request: Tuple[Prepared, float, float]) -> None:
        origin = request[0].origin
        try:
            conn = await asyncio.wait_for(open_connection(self.loop, owner, origin, self.ssl_ctx, self.keep_bodies),
                                          self.plan.timeout)
        except asyncio.TimeoutError:
            owner.connect_failed(request, "timeout", f"no connection to {origin[1]}:{origin[2]} within "
                                                     f"{self.plan.timeout:g}s")
            return
        except (OSError, ssl.SSLError, ValueError) as exc:   # refused, reset, DNS, certificate...
            owner.connect_failed(request, _error_kind(exc), str(exc) or type(exc).__name__)
            return
        if self.stopping:
            conn.close(abort=True)
            owner.connect_failed(request, "", "")
            return
        self.conns.add(conn)
        if len(self.conns) > self.info.peak_connections:
            self.info.peak_connections = len(self.conns)
        owner.connected(conn, request)

    def send(self, conn: Any, request: Tuple[Prepared, float, float]) -> None:
        conn.request = request
        conn.send(request[0], self.now() + self.plan.timeout)

    def sweep(self) -> None:
        """Time out requests past their deadline and forget closed connections."""
        now = self.now()
        for conn in list(self.conns):
            if conn.closed and not conn.busy:
                self.conns.discard(conn)
            elif conn.busy and now > conn.deadline:
                conn.fail("timeout", f"no answer within {self.plan.timeout:g}s")
                self.conns.discard(conn)

    def close_all(self) -> None:
        for task in self.connecting:
            task.cancel()
        for conn in self.conns:
            conn.busy = False        # cut at the end of the run: not a failure of the target
            conn.close(abort=True)
        self.conns.clear()

    # -- models --------------------------------------------------------------------------------
    async def _closed(self) -> None:
        users: List[ClosedUser] = []
        drained = asyncio.Event()
        while not self.stopping:
            self.info.reached_s = self.now()
            located = self.stage_at(self.info.reached_s)
            if located is None:
                self.info.schedule_done = True
                break
            want = int(round(located[0].level_at(located[1])))
            users = [u for u in users if not u.gone]
            live = [u for u in users if not u.leaving]
            for dummy in range(want - len(live)):
                user = ClosedUser(self, drained)
                users.append(user)
                user.next()
            for user in live[want:] if want < len(live) else []:
                user.leaving = True
            await asyncio.sleep(TICK)
        for user in users:
            user.leaving = True
        if any(not u.gone for u in users):
            ClosedUser.watch_drain(users, drained)
            try:
                await asyncio.wait_for(drained.wait(), timeout=self.plan.timeout + 1)
            except asyncio.TimeoutError:
                pass

    async def _open(self) -> None:
        pool = OpenPool(self)
        info, max_requests = self.info, self.plan.max_requests
        intended = 0.0
        stage, stage_start, stage_end = None, 0.0, -1.0
        played = False
        last_wait = self.run_queue_wait()
        while not self.stopping and not played:
            now = self.now()
            if last_wait >= 0:   # what the host took from this turn of the schedule (0.7 us a read)
                wait = self.run_queue_wait()
                self.gap_wait, last_wait = wait - last_wait, wait
            while intended <= now and not self.stopping:
                if info.sent >= max_requests and not self.budget_left():
                    break
                if intended >= stage_end:   # the stage lookup, only when a stage ends
                    info.reached_s = intended
                    located = self.stage_at(intended)
                    if located is None:
                        info.schedule_done = played = True
                        break
                    stage = located[0]
                    stage_start = intended - located[1]
                    stage_end = stage_start + stage.duration
                rate = stage.target if stage.flat else stage.level_at(intended - stage_start)
                if rate <= 0:
                    intended += TICK
                    continue
                info.sent += 1
                info.last_intended_s = intended
                pool.dispatch(self.prepared[0] if self.single else self.pick(), intended)
                intended += 1.0 / rate
            if played:
                break
            info.reached_s = min(intended, now)
            if self.stopping:
                break
            # uvloop's timers have millisecond steps, and shorter sleeps spin: sends due within the
            # millisecond go out together, on time to well under LATE_S.
            await asyncio.sleep(min(max(intended - self.now(), 0.001), TICK))
        pool.drained.clear()
        if pool.outstanding():
            try:
                await asyncio.wait_for(pool.drained.wait(), timeout=self.plan.timeout + 1)
            except asyncio.TimeoutError:
                pass
        pool.abandon()

    async def _watch(self) -> None:
        while not self.stop.is_set():
            await asyncio.sleep(1.0)   # evaluating percentiles costs a few ms per scope
            reason = self.should_abort(self.now()) if self.should_abort else ""
            if reason:
                self.info.aborted = reason
                self.halt()

    async def _sweeper(self) -> None:
        period = min(TICK, self.plan.timeout / 5)
        while True:
            await asyncio.sleep(period)
            self.sweep()

    async def run(self, start_at: Optional[float] = None) -> RunInfo:
        """Play the plan. `start_at` (a time.perf_counter() value, the same clock in every process of the
        host) makes worker processes start their schedules together, after their own set-up."""
        self.loop = asyncio.get_running_loop()
        gc_was_enabled = gc.isenabled()
        gc.collect()
        gc.disable()   # cyclic-GC pauses would show up as generator lateness
        try:
            if start_at is not None:
                await asyncio.sleep(max(start_at - time.perf_counter(), 0.0))
            cpu0 = _cpu_seconds()
            try:
                self.schedstat = os.open("/proc/thread-self/schedstat", os.O_RDONLY)
            except OSError:
                self.schedstat = -1
            wait0 = self.run_queue_wait()
            self.t0 = time.perf_counter() if start_at is None else start_at
            helpers = [asyncio.ensure_future(self._watch()), asyncio.ensure_future(self._sweeper())]
            model = self._open if self.plan.model == "open" else self._closed
            try:
                await asyncio.wait_for(model(), timeout=self.plan.max_duration)
            except asyncio.TimeoutError:
                if not self.info.schedule_done:   # past the last stage only the drain was cut
                    self.info.aborted = f"time bound reached ({self.plan.max_duration:g}s)"
            finally:
                self.halt()
                for task in helpers:
                    task.cancel()
                self.close_all()
                await asyncio.sleep(0)   # let the cancelled tasks finish before the loop closes
            self.info.duration = self.now()
            self.info.generator_cpu_s = _cpu_seconds() - cpu0
            wait1 = self.run_queue_wait()
            if wait0 >= 0 and wait1 >= 0:
                self.info.host_wait_s = wait1 - wait0
        finally:
            if self.schedstat >= 0:
                os.close(self.schedstat)
                self.schedstat = -1
            if gc_was_enabled:
                gc.enable()
        return self.info

    def run_queue_wait(self) -> float:
        """Seconds the loop's thread has spent runnable but waiting for a CPU (Linux schedstat), -1 if unknown.

        Tells a busy host from a slow generator: a thread the host keeps off the CPU waits in the run queue;
        one busy with its own work, or blocked in a call, does not."""
        if self.schedstat < 0:
            return -1.0
        try:
            return int(os.pread(self.schedstat, 128, 0).split()[1]) / 1e9
        except (OSError, ValueError, IndexError):
            return -1.0


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


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


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
