# Copyright: (c) 2026, deploysafe.preflight contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Latency and error bookkeeping: HDR histograms per (stage, endpoint), merged for every scope."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Tuple

try:
    from hdrh.histogram import HdrHistogram
    HAS_HDRH = True
except ImportError:  # the module reports missing_required_lib
    HdrHistogram = None
    HAS_HDRH = False

MAX_US = 3_600_000_000   # one hour: anything slower is clamped
PERCENTILES = (50, 90, 95, 99, 99.9)
RESERVOIR = 256


def new_histogram():
    return HdrHistogram(1, MAX_US, 3)


@dataclass
class Window:
    """One slice of the run for the latency-over-time plot."""
    start: float
    count: int = 0
    errors: int = 0
    max_us: int = 0
    sample: List[int] = field(default_factory=list)

    def add(self, us: int, ok: bool) -> None:
        self.count += 1
        if not ok:
            self.errors += 1
        if us > self.max_us:
            self.max_us = us
        if len(self.sample) < RESERVOIR:
            self.sample.append(us)
        else:
            j = random.randrange(self.count)
            if j < RESERVOIR:
                self.sample[j] = us

    def percentile(self, p: float) -> Optional[float]:
        if not self.sample:
            return None
        ordered = sorted(self.sample)
        return ordered[min(len(ordered) - 1, int(len(ordered) * p / 100.0))] / 1000.0


class Recorder:
    def __init__(self, window_s: float = 1.0):
        self.hists: Dict[Tuple[str, str], Any] = {}
        self.counts: Dict[Tuple[str, str], List[int]] = {}     # [ok, errors, sum of latencies in us]
        self.error_kinds: Dict[str, int] = {}
        self.window_s = window_s
        self.windows: List[Window] = []

    def record(self, stage: str, endpoint: str, t: float, latency_s: float, ok: bool, kind: str = "") -> None:
        """t: seconds since the run started (intended send time); latency_s from that time."""
        key = (stage, endpoint)
        hist = self.hists.get(key)
        if hist is None:
            hist = self.hists[key] = new_histogram()
            self.counts[key] = [0, 0, 0]
        us = min(max(int(latency_s * 1_000_000), 1), MAX_US)
        hist.record_value(us)
        counts = self.counts[key]
        counts[0 if ok else 1] += 1
        counts[2] += us
        if not ok:
            self.error_kinds[kind] = self.error_kinds.get(kind, 0) + 1
        index = int(t / self.window_s)
        while len(self.windows) <= index:
            self.windows.append(Window(start=len(self.windows) * self.window_s))
        self.windows[index].add(us, ok)

    @property
    def total(self) -> int:
        return sum(c[0] + c[1] for c in self.counts.values())

    def merge_encoded(self, encoded: Dict[str, str], counts: Dict[str, List[int]]) -> None:
        """Add another worker's histograms (HDR encoded, keyed 'stage\\tendpoint')."""
        for key_s, blob in encoded.items():
            key = tuple(key_s.split("\t", 1))
            other = HdrHistogram.decode(blob)
            if key in self.hists:
                self.hists[key].add(other)
                self.counts[key] = [a + b for a, b in zip(self.counts[key], counts[key_s])]
            else:
                self.hists[key] = other
                self.counts[key] = list(counts[key_s])

    def encoded(self) -> Tuple[Dict[str, str], Dict[str, List[int]]]:
        return ({f"{s}\t{e}": h.encode().decode() for (s, e), h in self.hists.items()},
                {f"{s}\t{e}": c for (s, e), c in self.counts.items()})

    def scope_stats(self, stage: Optional[str] = None, endpoint: Optional[str] = None,
                    seconds: Optional[float] = None) -> Dict[str, Any]:
        """Merged statistics of every (stage, endpoint) that matches; None filters match all."""
        merged = new_histogram()
        ok = err = total_us = 0
        for (s, e), hist in self.hists.items():
            if (stage is None or s == stage) and (endpoint is None or e == endpoint):
                merged.add(hist)
                ok += self.counts[(s, e)][0]
                err += self.counts[(s, e)][1]
                total_us += self.counts[(s, e)][2]
        return summarize(merged, ok, err, seconds, total_us)


def summarize(hist, ok: int, errors: int, seconds: Optional[float], total_us: int = 0) -> Dict[str, Any]:
    total = ok + errors
    out: Dict[str, Any] = {"requests": total, "ok": ok, "errors": errors,
                           "error_rate": (errors / total) if total else None,
                           "rps": (total / seconds) if seconds and total else (0.0 if seconds else None)}
    if total:
        for p in PERCENTILES:
            out[f"p{p:g}_ms"] = hist.get_value_at_percentile(p) / 1000.0
        out["max_ms"] = hist.get_max_value() / 1000.0
        out["min_ms"] = hist.get_min_value() / 1000.0
        out["mean_ms"] = total_us / total / 1000.0   # hdrh's get_mean_value walks every bucket in Python
    else:
        for p in PERCENTILES:
            out[f"p{p:g}_ms"] = None
        out.update(max_ms=None, min_ms=None, mean_ms=None)
    return out
