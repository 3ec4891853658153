# Copyright: (c) 2026, deploysafe.preflight contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Run smoke checks against a deployed service and judge them into one verdict.

Each check is sent with the health checks' HTTP client (health.http.send), retried when it fails, and
judged on its last attempt: status, JSON-path assertions, body text, latency budget. A check that gets no
answer fails with the reason: after a deploy the service is supposed to answer. No check at all is
pending. In check mode only read-only checks (GET, HEAD, OPTIONS) run; the others are skipped, which
leaves the verdict pending (not decided) unless a check that ran failed.
"""

from __future__ import annotations

import json
import re
import time
import urllib.parse
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Optional

from ..health.http import Attempt, auth_headers, send
from ..verdict import FAIL, PASS, PENDING, artifact, make_verdict, measurement
from .checks import SmokeCheck, SmokeError, check_assertion, parse_checks, shown
from .report import write_reports

PASSED, FAILED, SKIPPED = "passed", "failed", "skipped"
_SECRET_PARAM = re.compile(r"(?i)token|secret|passw|key|auth|sig|session|credential")


@dataclass
class SmokeOptions:
    checks: List[Dict[str, Any]]
    base_url: str = ""
    headers: Dict[str, str] = field(default_factory=dict)   # sent with every check; never reported
    auth_token: Optional[str] = None                        # Authorization: Bearer, never reported
    timeout: float = 10.0
    retries: int = 0
    retry_delay: float = 1.0
    validate_certs: bool = True
    ca_path: Optional[str] = None
    report_dir: str = ""
    report_name: str = "smoke_check"


def display_url(url: str) -> str:
    """The URL as reports show it: no user:password, and the values of secret-looking query
    parameters (token, api_key, sig...) replaced by ***."""
    parts = urllib.parse.urlsplit(url)
    netloc = parts.hostname or ""
    if ":" in netloc:
        netloc = f"[{netloc}]"
    if parts.port:
        netloc += f":{parts.port}"
    params = [param.partition("=") for param in parts.query.split("&") if param]
    query = "&".join(f"{key}=***" if _SECRET_PARAM.search(key) else key + sep + value for key, sep, value in params)
    return urllib.parse.urlunsplit((parts.scheme, netloc, parts.path, query, ""))


def judge(check: SmokeCheck, att: Attempt) -> Dict[str, Any]:
    """The reasons a response fails the check (empty: it passes) and each JSON assertion's outcome."""
    outcome: Dict[str, Any] = {"reasons": [], "assertions": []}
    if att.status is None:
        outcome["reasons"].append(f"no answer: {att.error}")
        return outcome
    reasons = outcome["reasons"]
    text = att.body.decode("utf-8", errors="replace")
    if att.status not in check.status:
        reasons.append(f"HTTP {att.status}, expected {', '.join(map(str, check.status))} (body: {shown(text, 80)})")
    if check.max_ms is not None and att.latency_ms > check.max_ms:
        reasons.append(f"latency {att.latency_ms:.0f} ms over budget {check.max_ms:g} ms")
    for needle in check.body_contains:
        if needle not in text:
            reasons.append(f"body does not contain {shown(needle)} ({len(att.body)} bytes: {shown(text, 80)})")
    if check.json:
        try:
            doc = json.loads(text)
        except ValueError:
            reasons.append(f"body is not JSON ({att.content_type or 'no content type'}): {shown(text, 80)}")
            return outcome
        for assertion in check.json:
            ok, message, actual = check_assertion(doc, assertion)
            outcome["assertions"].append({"path": assertion.path, "operator": assertion.operator,
                                          "expected": shown(assertion.expected), "actual": shown(actual), "ok": ok})
            if not ok:
                reasons.append(message)
    return outcome


def run_check(check: SmokeCheck, base_headers: Dict[str, str], opts: SmokeOptions,
              sleep: Callable[[float], None] = time.sleep) -> Dict[str, Any]:
    """Send the check (retried while it fails) and judge its last attempt."""
    headers = dict(base_headers)
    if check.content_type and not any(k.lower() == "content-type" for k in {**headers, **check.headers}):
        headers["Content-Type"] = check.content_type
    headers.update(check.headers)
    attempts = 0
    while True:
        attempts += 1
        att = send(check.url, method=check.method, headers=headers, data=check.data, timeout=check.timeout,
                   validate_certs=opts.validate_certs, ca_path=opts.ca_path)
        outcome = judge(check, att)
        if not outcome["reasons"] or attempts > check.retries:
            break
        sleep(opts.retry_delay)
    return {"name": check.name, "method": check.method, "url": display_url(check.url),
            "outcome": FAILED if outcome["reasons"] else PASSED, "http_status": att.status,
            "latency_ms": round(att.latency_ms, 2) if att.status is not None else None, "max_ms": check.max_ms,
            "attempts": attempts, "reasons": outcome["reasons"], "assertions": outcome["assertions"]}


def _skipped(check: SmokeCheck) -> Dict[str, Any]:
    return {"name": check.name, "method": check.method, "url": display_url(check.url), "outcome": SKIPPED,
            "http_status": None, "latency_ms": None, "max_ms": check.max_ms, "attempts": 0,
            "reasons": [f"check mode: {check.method} is not read-only, not sent"], "assertions": []}


def verdict_of(results: List[Dict[str, Any]]) -> Dict[str, Any]:
    """fail when a check failed, pending when none ran or one was skipped, else pass."""
    failed = [r for r in results if r["outcome"] == FAILED]
    passed = [r for r in results if r["outcome"] == PASSED]
    skipped = [r for r in results if r["outcome"] == SKIPPED]
    ms = []
    for r in results:
        if r["outcome"] != SKIPPED:
            ms.append(measurement(f"{r['name']}.latency_ms", r["latency_ms"], "ms", r["max_ms"],
                                  "<=" if r["max_ms"] is not None else None))
    ms += [measurement("checks_passed", len(passed), "count"),
           measurement("checks_failed", len(failed), "count", 0, "=="),
           measurement("checks_skipped", len(skipped), "count")]
    if not results:
        return make_verdict(PENDING, "no smoke check configured: nothing shows the deployed service answers correctly",
                            findings={"checks_failed": 0})
    if failed:
        status = FAIL
        summary = f"{len(failed)} of {len(results)} smoke check(s) failed: " + "; ".join(
            f"{r['name']}: {', '.join(r['reasons'])}" for r in failed)
    elif skipped:
        status = PENDING
        summary = (f"check mode: {len(skipped)} smoke check(s) not read-only, skipped "
                   f"({', '.join(r['name'] for r in skipped)}); {len(passed)} ran and passed: not decided")
    else:
        status = PASS
        slowest = max(passed, key=lambda r: r["latency_ms"])
        summary = f"{len(passed)} smoke check(s) passed (slowest {slowest['name']}: {slowest['latency_ms']:.0f} ms)"
    if skipped and failed:
        summary += f"; {len(skipped)} skipped in check mode"
    findings = {"checks_failed": len(failed),
                "assertions_failed": sum(1 for r in results for a in r["assertions"] if not a["ok"])}
    return make_verdict(status, summary, findings=findings, measurements=ms)


def run_smoke(opts: SmokeOptions, check_mode: bool = False,
              sleep: Callable[[float], None] = time.sleep) -> Dict[str, Any]:
    """Validate every check, run them in order, judge, write the reports; SmokeError on bad input."""
    checks = parse_checks(opts.checks, opts.base_url, opts.timeout, opts.retries)
    if opts.retry_delay < 0:
        raise SmokeError("retry_delay must be >= 0")
    try:
        base_headers = auth_headers(opts.headers, opts.auth_token)
    except ValueError as exc:
        raise SmokeError(str(exc)) from None
    results = [_skipped(c) if check_mode and not c.read_only else run_check(c, base_headers, opts, sleep)
               for c in checks]
    verdict = verdict_of(results)
    result: Dict[str, Any] = {"verdict": verdict, "checks": results,
                              "counts": {o: sum(1 for r in results if r["outcome"] == o) for o in (PASSED, FAILED, SKIPPED)}}
    if opts.report_dir and not check_mode:
        result["reports"] = write_reports(result, opts.report_dir, opts.report_name)
        verdict["evidence"]["artifacts"] = [artifact(p, kind=k) for k, p in result["reports"].items()]
    return result
