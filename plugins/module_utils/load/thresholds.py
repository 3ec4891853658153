# Copyright: (c) 2026, deploysafe.preflight contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Threshold evaluation overall, per stage and per endpoint. A check with no data is undecided (None)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Dict, Iterable, List, Optional

from .plan import LoadTestError

# limit name -> (statistic key, comparison "value <cmp> limit")
LIMITS = {
    "p50_ms": ("p50_ms", "<"), "p90_ms": ("p90_ms", "<"), "p95_ms": ("p95_ms", "<"), "p99_ms": ("p99_ms", "<"),
    "max_ms": ("max_ms", "<"), "error_rate": ("error_rate", "<"), "min_rps": ("rps", ">="),
    "cpu_percent": ("cpu_percent_mean", "<"), "memory_growth_mb_per_10min": ("memory_growth_mb_per_10min", "<"),
}
DEFAULTS: Dict[str, Optional[float]] = {"p95_ms": 500.0, "p99_ms": 1000.0, "error_rate": 0.001,
                                        "cpu_percent": 80.0, "memory_growth_mb_per_10min": 100.0}
# Budgets of the search scope: endpoints with these names get a tighter p95 (or keep a stricter overall
# one) unless threshold_overrides set their own. The names are those of the shipped locustfile and k6
# script (docs/load-testing.md).
SEARCH_BUDGETS: Dict[str, Dict[str, float]] = {"search": {"p95_ms": 200.0}, "complex_search": {"p95_ms": 500.0},
                                               "kb_search": {"p95_ms": 300.0}}
MEMORY_NOISE_FLOOR_MB = 8.0   # growth of the fitted line inside the window below this is not a leak
RESOURCE_LIMITS = ("cpu_percent", "memory_growth_mb_per_10min")
OVERALL_ONLY = ("min_rps",) + RESOURCE_LIMITS
SCOPE_KINDS = ("overall", "stage", "endpoint")


@dataclass
class Check:
    name: str          # e.g. "p95_ms[stage=spike]"
    scope: str         # overall | stage:<name> | endpoint:<name>
    limit_name: str
    value: Optional[float]
    limit: float
    comparison: str
    ok: Optional[bool]  # None: no data to decide
    note: str = ""

    def as_dict(self) -> Dict[str, Any]:
        return dict(self.__dict__)


def resolve_limits(thresholds: Optional[Dict[str, Any]]) -> Dict[str, float]:
    """Defaults overlaid with the user's values; null switches a limit off; unknown names are errors."""
    merged: Dict[str, Any] = dict(DEFAULTS)
    for key, value in (thresholds or {}).items():
        if key not in LIMITS:
            raise LoadTestError(f"unknown threshold {key!r}; known: {', '.join(LIMITS)}")
        merged[key] = value
    out = {}
    for key, value in merged.items():
        if value is None:
            continue
        try:
            out[key] = float(value)
        except (TypeError, ValueError):
            raise LoadTestError(f"threshold {key} must be a number, got {value!r}") from None
    return out


def _compare(value: Optional[float], cmp: str, limit: float) -> Optional[bool]:
    if value is None:
        return None
    return value < limit if cmp == "<" else value >= limit


def evaluate(stats: Dict[str, Any], limits: Dict[str, float], scopes: Iterable[str] = SCOPE_KINDS,
             overrides: Iterable[Dict[str, Any]] = (), resources: Optional[Dict[str, Any]] = None,
             resources_enabled: bool = False, explicit: Iterable[str] = ()) -> List[Check]:
    """stats = {"overall": {...}, "stages": {name: {...}}, "endpoints": {name: {...}}} from the recorder.

    Resource limits apply when the target is sampled; a resource limit the user set explicitly (named in
    `explicit`) with nothing sampling the target is undecided, not skipped, and so is any resource limit
    whose samples did not come."""
    scopes = list(scopes)
    explicit = set(explicit)
    for s in scopes:
        if s not in SCOPE_KINDS:
            raise LoadTestError(f"unknown threshold scope {s!r}; known: {', '.join(SCOPE_KINDS)}")
    per_scope: Dict[str, Dict[str, float]] = {}
    targets: Dict[str, Dict[str, Any]] = {"overall": stats["overall"]}
    targets.update({f"stage:{k}": v for k, v in stats["stages"].items()})
    targets.update({f"endpoint:{k}": v for k, v in stats["endpoints"].items()})
    for scope in targets:
        kind = scope.split(":", 1)[0]
        if kind in scopes:
            per_scope[scope] = {k: v for k, v in limits.items() if kind == "overall" or k not in OVERALL_ONLY}
    for name, budget in SEARCH_BUDGETS.items():
        if f"endpoint:{name}" in per_scope:
            scope_limits = per_scope[f"endpoint:{name}"]
            for key, limit in budget.items():   # never looser than a stricter overall limit
                scope_limits[key] = min(limit, scope_limits.get(key, limit))
    for item in overrides or []:
        scope = str(item.get("scope", ""))
        if scope not in targets:
            raise LoadTestError(f"threshold override for unknown scope {scope!r}; known: {', '.join(targets)}")
        extra = resolve_limits({k: v for k, v in item.items() if k != "scope"})
        given = {k for k in item if k != "scope"}
        per_scope.setdefault(scope, {}).update({k: v for k, v in extra.items() if k in given})
        for k in given:
            if item[k] is None:
                per_scope[scope].pop(k, None)
    checks: List[Check] = []
    for scope, scope_limits in per_scope.items():
        data = targets[scope]
        label = "" if scope == "overall" else "[" + scope.replace(":", "=", 1) + "]"
        for name, limit in scope_limits.items():
            key, cmp = LIMITS[name]
            note = ""
            if name in RESOURCE_LIMITS:
                if not resources_enabled and name not in explicit:
                    continue   # a default limit, and the user gave no way to sample the target
                value = (resources or {}).get(key) if resources_enabled else None
                if not resources_enabled:
                    note = "nothing samples the target: set target_metrics_url or target_pid"
                elif value is None:
                    note = _no_samples_note(name, resources or {})
            else:
                value = data.get(key)
                if not data.get("requests"):
                    note = "no requests completed in this scope"
            ok = _compare(value, cmp, limit)
            if name == "memory_growth_mb_per_10min" and ok is False:
                in_window = (resources or {}).get("memory_growth_mb_in_window") or 0.0
                if in_window < MEMORY_NOISE_FLOOR_MB:
                    ok, note = True, (f"slope extrapolated from {in_window:.1f} MB in a short window, "
                                      f"below the {MEMORY_NOISE_FLOOR_MB:g} MB noise floor")
            checks.append(Check(f"{name}{label}", scope, name, value, limit, cmp, ok, note))
    return checks


def _no_samples_note(name: str, resources: Dict[str, Any]) -> str:
    if not resources.get("samples"):
        errors = resources.get("errors") or []
        return "no target resource samples were collected" + (f" (first error {errors[0]})" if errors else "")
    if name == "cpu_percent":
        return f"{resources['samples']} target resource sample(s): too few to measure CPU"
    return "too few memory samples in the sustain stage to fit a slope"
