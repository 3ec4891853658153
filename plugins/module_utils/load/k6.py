# Copyright: (c) 2026, deploysafe.preflight contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""engine=k6: run k6 (built from its Go module) on the plan, read its per-request JSON output into the
same Recorder as the built-in engine, and cross-check totals against its summary export."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tempfile
import threading
import time
from datetime import datetime
from typing import Any, Dict, List

from .plan import LoadTestError, Plan
from .resources import Sampler
from .stats import Recorder

SCRIPT = r'''
import http from 'k6/http';
import { sleep } from 'k6';
import { Counter } from 'k6/metrics';

const PLAN = JSON.parse(open(__ENV.DEPLOYSAFE_LOAD_PLAN_FILE));
const started = new Counter('deploysafe_start');
const total = PLAN.requests.reduce((a, r) => a + r.weight, 0);

export const options = {
  scenarios: { plan: PLAN.scenario },
  discardResponseBodies: true,
  insecureSkipTLSVerify: !PLAN.validate_certs,
  summaryTrendStats: ['min', 'med', 'p(95)', 'p(99)', 'max', 'count'],
};

export function setup() { started.add(1); }

export default function () {
  let x = Math.random() * total;
  let req = PLAN.requests[PLAN.requests.length - 1];
  for (const r of PLAN.requests) { if (x < r.weight) { req = r; break; } x -= r.weight; }
  const body = req.json === null ? null : JSON.stringify(req.json);
  const headers = Object.assign(req.json === null ? {} : { 'Content-Type': 'application/json' }, req.headers);
  http.request(req.method, req.url, body, { headers: headers, tags: { name: req.name }, timeout: PLAN.timeout + 's' });
  if (PLAN.think_time > 0) { sleep(PLAN.think_time * (0.5 + Math.random())); }
}
'''


def _k6_stages(plan: Plan) -> List[Dict[str, Any]]:
    """k6 stages ramp from the previous target; a stage that starts elsewhere gets a 1 ms jump first."""
    out, level = [], plan.stages[0].start
    for s in plan.stages:
        if s.start != level:
            out.append({"duration": "1ms", "target": int(round(s.start))})
        out.append({"duration": f"{int(s.duration * 1000)}ms", "target": int(round(s.target))})
        level = s.target
    return out


def scenario(plan: Plan) -> Dict[str, Any]:
    if plan.model == "open":
        return {"executor": "ramping-arrival-rate", "startRate": int(round(plan.stages[0].start)), "timeUnit": "1s",
                "preAllocatedVUs": min(plan.max_in_flight, 100), "maxVUs": plan.max_in_flight,
                "stages": _k6_stages(plan)}
    return {"executor": "ramping-vus", "startVUs": int(round(plan.stages[0].start)), "stages": _k6_stages(plan),
            "gracefulRampDown": "0s", "gracefulStop": f"{int(plan.timeout)}s"}


def k6_executable(settings: Dict[str, Any]) -> str:
    exe = settings.get("executable") or shutil.which("k6")
    if not exe:
        cache = os.environ.get("DEPLOYSAFE_CACHE", os.path.expanduser("~/.cache/deploysafe-preflight"))
        exe = os.path.join(cache, "bin", "k6")
    if not os.path.exists(exe):
        raise LoadTestError("k6 is not installed on this host (make k6 builds it), or set k6.executable")
    return exe


def run_k6(plan: Plan, recorder: Recorder, opts: Dict[str, Any], sampler: Sampler) -> Dict[str, Any]:
    settings = dict(opts.get("k6") or {})
    exe = k6_executable(settings)
    work = tempfile.mkdtemp(prefix="deploysafe-k6-")
    try:
        script = settings.get("script")
        if script and not os.path.exists(script):
            raise LoadTestError(f"k6 script {script} does not exist")
        if not script:
            script = os.path.join(work, "plan.js")
            with open(script, "w") as fh:
                fh.write(SCRIPT)
        plan_file = os.path.join(work, "plan.json")
        with open(plan_file, "w") as fh:
            json.dump({"scenario": scenario(plan), "validate_certs": opts["validate_certs"], "timeout": plan.timeout,
                       "think_time": plan.think_time,
                       "requests": [{"name": r.name, "method": r.method, "url": r.url, "weight": r.weight,
                                     "headers": r.headers, "json": r.json} for r in plan.requests]}, fh)
        out_json, summary = os.path.join(work, "samples.json"), os.path.join(work, "summary.json")
        argv = [exe, "run", "--quiet", "--no-color", "--out", f"json={out_json}", "--summary-export", summary,
                "--env", f"DEPLOYSAFE_LOAD_PLAN_FILE={plan_file}"]
        if opts.get("base_url"):
            argv += ["--env", f"BASE_URL={opts['base_url']}"]
        argv += ["--env", f"TIME_SCALE={opts.get('time_scale', 1.0)}",
                 "--env", f"TARGET_SCALE={opts.get('target_scale', 1.0)}"]
        if settings.get("scenario"):
            argv += ["--env", f"SCENARIO={settings['scenario']}"]
        argv.append(script)
        t0 = time.monotonic()
        stop = threading.Event()
        thread = sampler.start_thread(t0, stop) if sampler.enabled else None
        try:
            proc = subprocess.run(argv, capture_output=True, text=True, cwd=work, check=False,
                                  timeout=plan.max_duration + plan.timeout + 60)
        except subprocess.TimeoutExpired:
            raise LoadTestError(f"k6 did not finish within the time bound ({plan.max_duration:g}s)") from None
        finally:
            stop.set()
            if thread:
                thread.join()
        duration = time.monotonic() - t0
        crossed = thresholds_crossed(proc.returncode, proc.stderr or proc.stdout or "")
        sent = _load_samples(out_json, plan, recorder)
        _cross_check(summary, sent)
        first = {k: f"k6 reported {k}" for k in recorder.error_kinds}
        return {"duration": min(duration, plan.duration), "sent": sent, "aborted": "", "stage_windows": [],
                "first_errors": first, "late_sends": 0, "exit_code": proc.returncode,
                "engine_thresholds_failed": crossed}
    finally:
        shutil.rmtree(work, ignore_errors=True)


THRESHOLDS_FAILED = 99   # k6's exit code when thresholds defined in the script were crossed


def thresholds_crossed(code: int, output: str) -> str:
    """What k6's exit code means for the verdict: "" after a clean run; on exit 99 (the script's own
    thresholds crossed, a failed test) a description of them; any other exit is an error naming the code."""
    if code == 0:
        return ""
    tail = output.strip()[-800:]
    if code == THRESHOLDS_FAILED:
        names = re.findall(r"thresholds on metrics? '([^']+)' ha(?:ve|s) been crossed", output)
        what = f"on {', '.join(names)}" if names else tail[-300:] or "no message"
        return f"k6 exited {code}: thresholds of the k6 script were crossed ({what})"
    raise LoadTestError(f"k6 exited with code {code}, the run is not usable: {tail or 'no output'}")


def _ts(text: str) -> float:
    # k6 writes RFC 3339 with up to nanoseconds; Python 3.9 parses at most microseconds
    match = re.fullmatch(r"([^.Zz+]+?(?:[+-]\d\d:\d\d)?)(?:\.(\d+))?([Zz]|[+-]\d\d:\d\d)?", text.strip())
    if not match:
        raise ValueError(f"not an RFC 3339 timestamp: {text!r}")
    head, frac, zone = match.group(1), (match.group(2) or "")[:6], match.group(3) or ""
    zone = "+00:00" if zone in ("Z", "z") else zone
    return datetime.fromisoformat(f"{head}.{frac.ljust(6, '0')}{zone}").timestamp()


def _load_samples(path: str, plan: Plan, recorder: Recorder) -> int:
    try:
        handle = open(path)
    except OSError:
        raise LoadTestError("k6 wrote no sample output (samples.json missing)") from None
    points, start = [], None
    with handle:
        for line in handle:
            try:
                doc = json.loads(line)
            except ValueError:
                continue   # a line cut when k6 was stopped
            if doc.get("type") != "Point":
                continue
            if doc["metric"] == "deploysafe_start":
                start = _ts(doc["data"]["time"])
            elif doc["metric"] == "http_req_duration":
                points.append(doc["data"])
    if not points:
        return 0
    ends, names, t = [], [], 0.0
    for s in plan.stages:
        t += s.duration
        ends.append(t)
        names.append(s.name)
    stamps = [_ts(p["time"]) for p in points]
    if start is None:
        start = min(st - p["value"] / 1000.0 for st, p in zip(stamps, points))
    for stamp, p in zip(stamps, points):
        tags = p.get("tags") or {}
        at = stamp - p["value"] / 1000.0 - start
        ok = tags.get("expected_response") == "true"
        kind = "" if ok else (f"http_{tags.get('status')}" if tags.get("status") not in (None, "0") else "connect")
        stage = next((n for n, e in zip(names, ends) if at < e), names[-1])
        recorder.record(stage, tags.get("name", "?"), max(at, 0.0), p["value"] / 1000.0, ok, kind)
    return len(points)


def _cross_check(summary: str, samples: int) -> None:
    try:
        with open(summary) as fh:
            doc = json.load(fh)
    except OSError:
        raise LoadTestError("k6 summary export is missing") from None
    except ValueError:
        raise LoadTestError("k6 summary export is truncated (not valid JSON)") from None
    reported = int(doc.get("metrics", {}).get("http_reqs", {}).get("count", 0))
    if samples < reported - max(5, reported // 100):
        raise LoadTestError(f"k6 counted {reported} requests but its output has {samples} samples: output truncated")
