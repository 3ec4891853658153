# Copyright: (c) 2026, deploysafe.preflight contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""CPU and memory of the target during a run, from its Prometheus metrics or from /proc/<pid>.

Memory growth is the least-squares slope of RSS over the sustain stage(s), scaled to MB per 10 min:
robust to one noisy sample, unlike first-vs-last.
"""

from __future__ import annotations

import asyncio
import os
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Tuple

from ansible.module_utils.urls import open_url

from . import promtext

CLK_TCK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


@dataclass
class Sample:
    t: float              # seconds since the run started
    cpu_seconds: float
    rss_bytes: float


@dataclass
class Sampler:
    metrics_url: str = ""
    pid: int = 0
    interval: float = 1.0
    samples: List[Sample] = field(default_factory=list)
    errors: List[str] = field(default_factory=list)

    @property
    def enabled(self) -> bool:
        return bool(self.metrics_url or self.pid)

    def read(self) -> Tuple[float, float]:
        """(cpu_seconds, rss_bytes) of the target now."""
        if self.pid:
            with open(f"/proc/{self.pid}/stat") as fh:
                fields = fh.read().rsplit(")", 1)[1].split()
            with open(f"/proc/{self.pid}/statm") as fh:
                rss = int(fh.read().split()[1]) * PAGE
            return (int(fields[11]) + int(fields[12])) / CLK_TCK, float(rss)
        with open_url(self.metrics_url, timeout=5) as resp:
            samples = promtext.parse(resp.read().decode("utf-8", "replace"))
        cpu = promtext.value(samples, "process_cpu_seconds_total")
        rss = promtext.value(samples, "process_resident_memory_bytes")
        if cpu is None or rss is None:
            raise ValueError(f"{self.metrics_url} has no process_cpu_seconds_total/process_resident_memory_bytes")
        return cpu, rss

    def sample_once(self, t: float) -> None:
        """One sample at run time t; a failed read is kept as evidence (the first 20), never raised."""
        try:
            cpu, rss = self.read()
            self.samples.append(Sample(t, cpu, rss))
        except Exception as exc:  # a failed scrape is evidence, not a crash
            if len(self.errors) < 20:
                self.errors.append(f"t={t:.1f}s: {type(exc).__name__}: {exc}")

    def start_thread(self, t0: float, stop: threading.Event) -> threading.Thread:
        """Sample every `interval` in a thread (engines in other processes) until stop is set.
        t0 is the run's start on time.monotonic()."""
        def loop():
            while True:
                self.sample_once(time.monotonic() - t0)
                if stop.wait(self.interval):
                    return
        thread = threading.Thread(target=loop, daemon=True)
        thread.start()
        return thread

    async def run(self, clock, stop: asyncio.Event) -> None:
        """Sample every `interval` until stop is set (reads run in a thread: the loop keeps its schedule)."""
        loop = asyncio.get_running_loop()
        while True:
            await loop.run_in_executor(None, self.sample_once, clock())
            if stop.is_set():
                return
            try:
                await asyncio.wait_for(stop.wait(), self.interval)
            except asyncio.TimeoutError:
                pass


def slope(points: List[Tuple[float, float]]) -> Optional[float]:
    """Least-squares slope dy/dx; None with fewer than 3 points or no spread in x."""
    if len(points) < 3:
        return None
    n = len(points)
    mx = sum(p[0] for p in points) / n
    my = sum(p[1] for p in points) / n
    sxx = sum((p[0] - mx) ** 2 for p in points)
    if sxx == 0:
        return None
    return sum((x - mx) * (y - my) for x, y in points) / sxx


def summarize(samples: List[Sample], sustain: List[Tuple[float, float]]) -> Dict[str, Any]:
    """cpu_percent (mean and max between samples), rss, memory growth slope over the sustain windows."""
    out: Dict[str, Any] = {"samples": len(samples), "cpu_percent_mean": None, "cpu_percent_max": None,
                           "rss_mb_start": None, "rss_mb_end": None, "rss_mb_max": None,
                           "memory_growth_mb_per_10min": None, "memory_growth_mb_in_window": None,
                           "memory_growth_samples": 0}
    if len(samples) >= 2:
        rates = [100.0 * (b.cpu_seconds - a.cpu_seconds) / (b.t - a.t)
                 for a, b in zip(samples, samples[1:]) if b.t > a.t]
        if rates:
            span = samples[-1].t - samples[0].t
            out["cpu_percent_mean"] = 100.0 * (samples[-1].cpu_seconds - samples[0].cpu_seconds) / span if span else None
            out["cpu_percent_max"] = max(rates)
    if samples:
        out["rss_mb_start"] = samples[0].rss_bytes / 2**20
        out["rss_mb_end"] = samples[-1].rss_bytes / 2**20
        out["rss_mb_max"] = max(s.rss_bytes for s in samples) / 2**20
    points = [(s.t, s.rss_bytes / 2**20) for s in samples if any(a <= s.t <= b for a, b in sustain)]
    per_second = slope(points)
    out["memory_growth_samples"] = len(points)
    if per_second is not None:
        out["memory_growth_mb_per_10min"] = per_second * 600.0
        # What the fitted line grows over the window itself: short runs extrapolate a few MB of
        # allocator warm-up into hundreds per 10 min, so the gate also needs a real absolute growth.
        out["memory_growth_mb_in_window"] = per_second * (points[-1][0] - points[0][0])
    return out
