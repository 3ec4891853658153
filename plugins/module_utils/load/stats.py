# Copyright: (c) 2026, deploysafe.preflight contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Latency and error bookkeeping: HDR histograms per (stage, endpoint), merged for every scope."""

from __future__ import annotations

import math
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

    # Reservoir sampling with geometric skips (Li's algorithm L): one random draw per replacement, not
    # one per request, so a window costs a few comparisons per response at 100k responses/s.
    _next: int = 0
    _w: float = 1.0

    def add(self, us: int, ok: bool) -> None:
        self.count += 1
        if not ok:
            self.errors += 1
        if us > self.max_us:
            self.max_us = us
        if self.count <= RESERVOIR:
            self.sample.append(us)
            if self.count == RESERVOIR:
                self._w = math.exp(math.log(1.0 - random.random()) / RESERVOIR)
                self._next = self.count + _skip(self._w)
        elif self.count == self._next:
            self.sample[random.randrange(RESERVOIR)] = us
            self._w *= math.exp(math.log(1.0 - random.random()) / RESERVOIR)
            self._next = self.count + _skip(self._w)

    def add_many(self, values: Dict[int, int], errors: int) -> None:
        """Add `n` latencies of `us` for each item: the same sample as n calls of add(), skipping ahead."""
        self.errors += errors
        for us, n in values.items():
            if us > self.max_us:
                self.max_us = us
            while n > 0 and self.count < RESERVOIR:
                self.count += 1
                n -= 1
                self.sample.append(us)
                if self.count == RESERVOIR:
                    self._w = math.exp(math.log(1.0 - random.random()) / RESERVOIR)
                    self._next = self.count + _skip(self._w)
            while n > 0:
                if self._next - self.count > n:
                    self.count += n
                    break
                n -= self._next - self.count
                self.count = self._next
                self.sample[random.randrange(RESERVOIR)] = us
                self._w *= math.exp(math.log(1.0 - random.random()) / RESERVOIR)
                self._next = self.count + _skip(self._w)

    def percentile(self, p: float) -> Optional[float]:
        if not self.sample:
            return None
        ordered = sorted(self.sample)
        return ordered[min(len(ordered) - 1, int(len(ordered) * p / 100.0))] / 1000.0


def _skip(w: float) -> int:
    if w >= 1.0:
        return 1
    return int(math.log(1.0 - random.random()) / math.log(1.0 - w)) + 1


class Recorder:
    """Latencies per (stage, endpoint) and per time window. `record` is on the engine's hot path: it only
    counts exact microsecond values in a dict per (stage, endpoint, window) and folds them into the HDR
    histograms, totals and windows when something reads them (an HDR record_value costs about 1 us of
    Python, a dict increment 0.06 us, and latencies repeat)."""

    def __init__(self, window_s: float = 1.0):
        self._hists: Dict[Tuple[str, str], Any] = {}
        self._counts: Dict[Tuple[str, str], List[int]] = {}     # [ok, errors, sum of latencies in us]
        self._windows: List[Window] = []
        self._pending: Dict[Tuple[str, str, int], Dict[int, int]] = {}
        self._pending_errors: Dict[Tuple[str, str, int], int] = {}
        self.error_kinds: Dict[str, int] = {}
        self.window_s = window_s

    @property
    def hists(self) -> Dict[Tuple[str, str], Any]:
        self.flush()
        return self._hists

    @property
    def counts(self) -> Dict[Tuple[str, str], List[int]]:
        self.flush()
        return self._counts

    @property
    def windows(self) -> List[Window]:
        self.flush()
        return self._windows

    def flush(self) -> None:
        """Fold the counted latencies into the HDR histograms, the totals and the windows."""
        if not self._pending:
            return
        pending, errors = self._pending, self._pending_errors
        self._pending, self._pending_errors = {}, {}
        for (stage, endpoint, index), values in pending.items():
            key = (stage, endpoint)
            if key not in self._hists:
                self._hists[key] = new_histogram()
                self._counts[key] = [0, 0, 0]
            hist, counts = self._hists[key], self._counts[key]
            failed = errors.get((stage, endpoint, index), 0)
            n_all = 0
            for us, n in values.items():
                hist.record_value(us, n)
                n_all += n
                counts[2] += us * n
            counts[0] += n_all - failed
            counts[1] += failed
            while len(self._windows) <= index:
                self._windows.append(Window(start=len(self._windows) * self.window_s))
            self._windows[index].add_many(values, failed)

    def record(self, stage: str, endpoint: str, t: float, latency_s: float, ok: bool, kind: str = "") -> None:
        """t: seconds since the run started (intended send time); latency_s from that time."""
        key = (stage, endpoint, int(t / self.window_s))
        values = self._pending.get(key)
        if values is None:
            values = self._pending[key] = {}
        us = int(latency_s * 1_000_000)
        if us < 1:
            us = 1
        elif us > MAX_US:
            us = MAX_US
        values[us] = values.get(us, 0) + 1
        if not ok:
            self._pending_errors[key] = self._pending_errors.get(key, 0) + 1
            self.error_kinds[kind] = self.error_kinds.get(kind, 0) + 1

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
