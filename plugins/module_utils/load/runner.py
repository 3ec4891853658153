# Copyright: (c) 2026, deploysafe.preflight contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""load_test end to end: plan -> engine (built-in, Locust or k6) -> statistics -> thresholds -> verdict + reports."""

from __future__ import annotations

import asyncio
from dataclasses import asdict
from typing import Any, Dict, List

from ..verdict import artifact
from . import report, resources, thresholds
from .decision import decide, discount_for_generator, generator_saturation
from .engine import Engine, run_async, stage_windows
from .external import run_locust
from .k6 import run_k6
from .plan import LoadTestError, Plan, build_requests, build_stages, check_targets
from .stats import Recorder
from .workers import run_workers

DEFAULTS: Dict[str, Any] = {
    "engine": "builtin", "base_url": "", "requests": [], "model": "closed", "profile": "smoke", "stages": [],
    "time_scale": 1.0, "target_scale": 1.0, "think_time": 0.0, "timeout": 10.0, "max_requests": 1_000_000,
    "max_duration": 3600.0, "max_in_flight": 1024, "thresholds": {}, "threshold_scopes": ["overall", "stage", "endpoint"],
    "threshold_overrides": [], "abort_on_fail": False, "target_metrics_url": "", "target_pid": 0,
    "sample_interval": 0.0, "sustain_stages": [], "allowed_hosts": [], "allow_loopback": True,
    "validate_certs": True, "ca_path": None, "report_dir": "", "report_name": "load_test", "seed": None,
    "locust": {}, "k6": {}, "workers": 1, "headers": {}, "request_headers": {}, "auth_token": "",
}
ENGINES = ("builtin", "locust", "k6")
MODELS = ("closed", "open")


def build_plan(opts: Dict[str, Any]) -> Plan:
    if opts["model"] not in MODELS:
        raise LoadTestError(f"model must be one of {', '.join(MODELS)}, not {opts['model']!r}")
    requests = build_requests(opts["requests"], opts["base_url"], opts.get("headers"), opts.get("request_headers"),
                              opts.get("auth_token") or "")
    check_targets(requests, opts["allowed_hosts"], opts["allow_loopback"])
    stages = build_stages(opts["profile"], opts["stages"], float(opts["time_scale"]), float(opts["target_scale"]))
    for name in opts["sustain_stages"]:
        if name not in [s.name for s in stages]:
            raise LoadTestError(f"sustain stage {name!r} is not a stage of this plan")
    for key in ("max_requests", "max_duration", "timeout", "max_in_flight"):
        if float(opts[key]) <= 0:
            raise LoadTestError(f"{key} must be > 0")
    planned = sum(s.duration for s in stages)
    if planned > float(opts["max_duration"]):
        # Cutting the run at the bound would leave stages unplayed: refuse it before sending anything.
        source = "stages" if opts["stages"] else f"profile {opts['profile']}"
        raise LoadTestError(f"the plan ({source}, time_scale {float(opts['time_scale']):g}) lasts {planned:g} s, "
                            f"longer than max_duration {float(opts['max_duration']):g} s: raise max_duration to at "
                            f"least {planned:g} or shorten the stages")
    return Plan(requests=requests, stages=stages, model=opts["model"], think_time=float(opts["think_time"]),
                timeout=float(opts["timeout"]), max_requests=int(opts["max_requests"]),
                max_duration=float(opts["max_duration"]), max_in_flight=int(opts["max_in_flight"]),
                sustain_stages=list(opts["sustain_stages"]))


def sustain_windows(plan: Plan, duration: float) -> List[tuple]:
    """Where the memory slope is fitted: named sustain stages, else flat loaded stages, else the whole run."""
    wins = stage_windows(plan.stages)
    chosen = [(a, min(b, duration)) for (n, a, b), s in zip(wins, plan.stages)
              if (n in plan.sustain_stages if plan.sustain_stages else (s.flat and s.target > 0))]
    return chosen or [(0.0, duration)]


def collect_stats(recorder: Recorder, plan: Plan, duration: float,
                  endpoints_from_samples: bool = False) -> Dict[str, Any]:
    wins = {n: (a, b) for n, a, b in stage_windows(plan.stages)}
    stages = {}
    for s in plan.stages:
        a, b = wins[s.name]
        seconds = max(min(b, duration) - a, 0.0)
        if seconds <= 0 and not any(k[0] == s.name for k in recorder.hists):
            continue   # never reached (aborted before it)
        if s.start == 0 and s.target == 0:
            continue   # a deliberate pause
        stages[s.name] = dict(recorder.scope_stats(stage=s.name, seconds=seconds or None), start_s=a,
                              end_s=min(b, duration), target=s.target)
    names = [r.name for r in plan.requests]
    if endpoints_from_samples:   # a user's locustfile names its own requests
        names = sorted({key[1] for key in recorder.hists})
    endpoints = {n: recorder.scope_stats(endpoint=n, seconds=duration or None) for n in names}
    return {"overall": recorder.scope_stats(seconds=duration or None), "stages": stages, "endpoints": endpoints}


def _abort_check(recorder: Recorder, plan: Plan, limits: Dict[str, float]):
    latency_limits = {k: v for k, v in limits.items() if k not in thresholds.OVERALL_ONLY}

    def should_abort(now: float) -> str:
        if recorder.total < 50:
            return ""
        stats = collect_stats(recorder, plan, now)
        ended = {n for n, a, b in stage_windows(plan.stages) if b <= now}
        stats["stages"] = {k: v for k, v in stats["stages"].items() if k in ended}
        stats["endpoints"] = {}
        for check in thresholds.evaluate(stats, latency_limits, ("overall", "stage")):
            if check.ok is False:
                return f"abort_on_fail: {check.name} = {check.value:.4g} (limit {check.comparison} {check.limit:g})"
        return ""
    return should_abort


async def _run_builtin(plan: Plan, recorder: Recorder, opts: Dict[str, Any], sampler: resources.Sampler, limits):
    engine = Engine(plan, recorder, verify_tls=opts["validate_certs"], ca_path=opts["ca_path"], seed=opts["seed"],
                    should_abort=_abort_check(recorder, plan, limits) if opts["abort_on_fail"] else None)
    stop = asyncio.Event()
    task = asyncio.ensure_future(sampler.run(lambda: engine.now() if engine.t0 else 0.0, stop)) \
        if sampler.enabled else None
    try:
        info = await engine.run()
    finally:
        stop.set()
        if task:
            await task
    return info


def run_load_test(options: Dict[str, Any]) -> Dict[str, Any]:
    """Run the test described by module-style options and return the full result with its verdict."""
    opts = dict(DEFAULTS)
    unknown = set(options) - set(DEFAULTS)
    if unknown:
        raise LoadTestError(f"unknown options: {', '.join(sorted(unknown))}")
    opts.update({k: v for k, v in options.items() if v is not None})
    if opts["engine"] not in ENGINES:
        raise LoadTestError(f"engine must be one of {', '.join(ENGINES)}, not {opts['engine']!r}")
    plan = build_plan(opts)
    if opts["engine"] != "builtin":
        builtin_only = [r.name for r in plan.requests if r.body is not None or r.expect_body or r.expect_json]
        if builtin_only:
            raise LoadTestError(f"body, expect_body and expect_json are built-in engine features; requests "
                                f"{', '.join(builtin_only)} use them with engine {opts['engine']}")
    limits = thresholds.resolve_limits(opts["thresholds"])
    interval = float(opts["sample_interval"]) or min(1.0, max(0.1, plan.duration / 60.0))
    sampler = resources.Sampler(metrics_url=opts["target_metrics_url"], pid=int(opts["target_pid"] or 0),
                                interval=interval)
    recorder = Recorder(window_s=max(plan.duration / 300.0, 0.1))
    if opts["engine"] == "builtin" and int(opts["workers"]) > 1:
        run = run_workers(plan, recorder, opts, sampler, int(opts["workers"]))
    elif opts["engine"] == "builtin":
        run = asdict(run_async(_run_builtin(plan, recorder, opts, sampler, limits)))
    elif opts["engine"] == "locust":
        run = run_locust(plan, recorder, opts, sampler)
    else:
        run = run_k6(plan, recorder, opts, sampler)
    return evaluate(plan, opts, recorder, run, sampler)


def evaluate(plan: Plan, opts: Dict[str, Any], recorder: Recorder, run: Dict[str, Any],
             sampler: resources.Sampler) -> Dict[str, Any]:
    """Statistics, checks, verdict and reports of a finished run (whatever engine produced it)."""
    limits = thresholds.resolve_limits(opts["thresholds"])
    run["error_kinds"] = dict(recorder.error_kinds)
    duration = run["duration"]
    stats = collect_stats(recorder, plan, duration,
                          endpoints_from_samples=bool((opts["engine"] == "locust" and opts["locust"].get("locustfile"))
                                                      or (opts["engine"] == "k6" and opts["k6"].get("script"))))
    res = resources.summarize(sampler.samples, sustain_windows(plan, duration))
    res["errors"] = sampler.errors
    explicit = [k for k, v in (opts["thresholds"] or {}).items() if v is not None]
    checks = thresholds.evaluate(stats, limits, opts["threshold_scopes"], opts["threshold_overrides"], res,
                                 sampler.enabled, explicit)
    checks = discount_for_generator(checks, generator_saturation(run, plan.model)[0])
    result = {"engine": opts["engine"], "model": plan.model, "run": run, "stats": stats, "resources": res,
              "checks": [c.as_dict() for c in checks], "timeline": report.timeline(recorder),
              "plan": {"stages": [asdict(s) for s in plan.stages], "requests": [r.name for r in plan.requests]}}
    result["verdict"] = decide(result, checks)
    if opts["report_dir"]:
        result["reports"] = report.write_all(result, opts["report_dir"], opts["report_name"])
        result["verdict"]["evidence"]["artifacts"] = [artifact(p, kind=k) for k, p in result["reports"].items()]
    return result
