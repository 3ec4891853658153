"""Fault injection for load-gate tests: latency and errors on chosen paths, stalls, a memory leak.

Set at start from the JSON in DEPLOYSAFE_APP_FAULTS, changed at run time with POST /admin/faults.
"""

from __future__ import annotations

import asyncio
import random
import time
from dataclasses import asdict, dataclass, field, fields
from typing import Any, Dict, List


@dataclass
class Faults:
    latency_ms: float = 0.0             # added to each matching request
    latency_paths: List[str] = field(default_factory=list)   # path prefixes; empty = every /api path
    error_rate: float = 0.0             # fraction of matching requests answered 500
    error_paths: List[str] = field(default_factory=list)     # path prefixes; empty = every /api path
    stall_every_s: float = 0.0          # block the whole event loop (like a GC pause) this often...
    stall_ms: float = 0.0               # ...for this long
    leak_kb_per_s: float = 0.0          # retain this much memory per second, forever
    search_index: bool = True           # False marks the search index unavailable (text-scan fallback)
    wrong_results: bool = False         # searches answer with their top hit moved last (a ranking bug)

    def update(self, changes: Dict[str, Any]) -> None:
        known = {f.name: f for f in fields(self)}
        unknown = set(changes) - set(known)
        if unknown:
            raise ValueError(f"unknown fault settings: {', '.join(sorted(unknown))}")
        for key, value in changes.items():
            if key in ("latency_paths", "error_paths"):
                if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                    raise ValueError(f"{key} must be a list of path prefixes")
            elif key in ("search_index", "wrong_results"):
                value = bool(value)
            else:
                value = float(value)
                if value < 0 or (key == "error_rate" and value > 1):
                    raise ValueError(f"{key} out of range: {value}")
            setattr(self, key, value)

    def as_dict(self) -> Dict[str, Any]:
        return asdict(self)

    @staticmethod
    def _matches(path: str, prefixes: List[str]) -> bool:
        if not prefixes:
            return path.startswith("/api/")
        return any(path.startswith(p) for p in prefixes)

    def delay_for(self, path: str) -> float:
        return self.latency_ms / 1000.0 if self.latency_ms and self._matches(path, self.latency_paths) else 0.0

    def rank(self, items: List[Any]) -> List[Any]:
        """The search results as answered: unchanged, or with the top hit moved last (wrong_results)."""
        return items[1:] + items[:1] if self.wrong_results and len(items) > 1 else items

    def should_fail(self, path: str) -> bool:
        return bool(self.error_rate) and self._matches(path, self.error_paths) and random.random() < self.error_rate


class FaultLoops:
    """Background tasks for stalls and the leak; they re-read the settings every tick."""

    def __init__(self, faults: Faults):
        self.faults = faults
        self.leaked: List[bytes] = []
        self.tasks: List[asyncio.Task] = []

    def start(self) -> None:
        self.tasks = [asyncio.ensure_future(self._stall_loop()), asyncio.ensure_future(self._leak_loop())]

    async def stop(self) -> None:
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)

    async def _stall_loop(self) -> None:
        last = time.monotonic()
        while True:
            await asyncio.sleep(0.05)
            f = self.faults
            if f.stall_every_s > 0 and f.stall_ms > 0 and time.monotonic() - last >= f.stall_every_s:
                last += f.stall_every_s          # start-to-start period, so stalls stay on a fixed grid
                time.sleep(f.stall_ms / 1000.0)   # deliberately blocking: the whole server freezes
            elif f.stall_every_s <= 0:
                last = time.monotonic()

    async def _leak_loop(self) -> None:
        tick = 0.1
        while True:
            await asyncio.sleep(tick)
            kb = self.faults.leak_kb_per_s * tick
            if kb > 0:
                # bytes(n) may stay unbacked by RAM; a filled buffer is resident at once.
                self.leaked.append(b"\x5a" * int(kb * 1024))
