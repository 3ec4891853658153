# Copyright: (c) 2026, deploysafe.preflight contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""HTTP(S) health checks: retries with backoff, expected status, latency budget, per-dependency JSON checks.

Understands the application/health+json draft (top-level `status`, `checks` of lists of component
objects) and the Spring Boot shape (`status`, `components`). `warn`/degraded is reported, never a pass.
A healthy body that reports no dependency says nothing about them: pending, unless the caller says
none are expected.
"""

from __future__ import annotations

import ipaddress
import json
import socket
import ssl
import time
import urllib.error
import urllib.parse
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Optional

from ansible.module_utils.urls import SSLValidationError, open_url

from ..errors import PreflightError
from ..verdict import FAIL, PASS, PENDING, make_verdict, measurement

GOOD = {"pass", "ok", "up", "healthy"}
DEGRADED = {"warn", "degraded", "warning"}


class HealthCheckError(PreflightError, ValueError):
    """Bad check parameters."""


def auth_headers(headers: Optional[Dict[str, str]], auth_token: Optional[str]) -> Dict[str, str]:
    """Request headers with `Authorization: Bearer <auth_token>` added when a token is given. Giving a
    token and an Authorization header both is ambiguous: ValueError (never naming either value)."""
    out = {str(k): str(v) for k, v in (headers or {}).items()}
    if auth_token:
        if any(k.lower() == "authorization" for k in out):
            raise ValueError("give either auth_token or an Authorization header in headers, not both")
        out["Authorization"] = f"Bearer {auth_token}"
    return out


@dataclass
class HealthOptions:
    url: str
    method: str = "GET"
    headers: Dict[str, str] = field(default_factory=dict)
    expected_status: List[int] = field(default_factory=lambda: [200])
    timeout: float = 5.0
    retries: int = 3                       # extra attempts after the first
    backoff: float = 1.0                   # first pause; doubles each retry
    max_backoff: float = 30.0
    latency_budget_ms: Optional[float] = None
    check_body: bool = True                # parse JSON and judge status + dependencies
    required_dependencies: List[str] = field(default_factory=list)
    ignore_dependencies: List[str] = field(default_factory=list)
    allow_degraded: bool = False
    validate_certs: bool = True
    ca_path: Optional[str] = None
    auth_token: Optional[str] = None       # sent as Authorization: Bearer
    expect_dependencies: bool = True       # a body that reports none is pending


@dataclass
class Attempt:
    status: Optional[int]
    latency_ms: float
    body: bytes = b""
    content_type: str = ""
    error: str = ""


def send(url: str, *, method: str = "GET", headers: Optional[Dict[str, str]] = None, data: Optional[bytes] = None,
         timeout: float = 5.0, validate_certs: bool = True, ca_path: Optional[str] = None,
         max_bytes: int = 1 << 20) -> Attempt:
    """One HTTP(S) request, timed from send to the last body byte read (at most max_bytes of it).

    The one HTTP client of the health and smoke checks: an HTTP error status is an answer, not an
    exception; a request that got no answer (refused, DNS, TLS, timeout) is an Attempt with status None
    and the reason. Redirects are followed only when safe (GET/HEAD). Loopback targets never go through
    a proxy from the environment, which would answer for a service it cannot reach."""
    started = time.perf_counter()
    try:
        with open_url(url, method=method, headers=headers or {}, data=data, timeout=timeout,
                      validate_certs=validate_certs, ca_path=ca_path, follow_redirects="safe",
                      use_proxy=not is_loopback_url(url)) as resp:
            body = resp.read(max_bytes)
            return Attempt(resp.status, (time.perf_counter() - started) * 1000, body,
                           resp.headers.get("Content-Type", ""))
    except urllib.error.HTTPError as exc:
        return Attempt(exc.code, (time.perf_counter() - started) * 1000, exc.read(max_bytes),
                       exc.headers.get("Content-Type", ""))
    except (urllib.error.URLError, socket.timeout, ssl.SSLError, SSLValidationError, ConnectionError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        kind = "TLS error" if isinstance(reason, (ssl.SSLError, SSLValidationError)) else \
            "DNS failure" if isinstance(reason, socket.gaierror) else \
            "timeout" if isinstance(reason, (socket.timeout, TimeoutError)) else "connection failed"
        return Attempt(None, (time.perf_counter() - started) * 1000, error=f"{kind}: {reason}")


def is_loopback_url(url: str) -> bool:
    """True when the URL's host is localhost or a loopback IP literal (no DNS lookup)."""
    host = (urllib.parse.urlsplit(url).hostname or "").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def fetch(opts: HealthOptions) -> Attempt:
    return send(opts.url, method=opts.method, headers=auth_headers(opts.headers, opts.auth_token), timeout=opts.timeout,
                validate_certs=opts.validate_certs, ca_path=opts.ca_path)


def dependencies(doc: Dict[str, Any]) -> Dict[str, str]:
    """name -> normalised status, from health+json `checks` or Spring `components`."""
    out: Dict[str, str] = {}
    checks = doc.get("checks")
    if isinstance(checks, dict):
        for name, entries in checks.items():
            items = entries if isinstance(entries, list) else [entries]
            statuses = [str(e.get("status", "")).lower() for e in items if isinstance(e, dict)]
            if statuses:
                out[name] = "fail" if any(s not in GOOD | DEGRADED for s in statuses) else \
                    "warn" if any(s in DEGRADED for s in statuses) else "pass"
    comps = doc.get("components")
    if isinstance(comps, dict):
        for name, comp in comps.items():
            if isinstance(comp, dict) and "status" in comp:
                s = str(comp["status"]).lower()
                out[name] = "pass" if s in GOOD else "warn" if s in DEGRADED else "fail"
    return out


def judge(opts: HealthOptions, att: Attempt) -> List[str]:
    """Problems with one attempt; empty means healthy."""
    if att.status is None:
        return [att.error]
    problems = []
    if att.status not in opts.expected_status:
        problems.append(f"HTTP {att.status}, expected {', '.join(map(str, opts.expected_status))}")
    if opts.latency_budget_ms is not None and att.latency_ms > opts.latency_budget_ms:
        problems.append(f"latency {att.latency_ms:.0f} ms over budget {opts.latency_budget_ms:.0f} ms")
    if not opts.check_body:
        return problems
    try:
        doc = json.loads(att.body or b"null")
    except ValueError:
        return problems + ["body is not JSON"]
    if not isinstance(doc, dict):
        return problems + ["body is not a JSON object"]
    top = str(doc.get("status", "")).lower()
    if not top:
        problems.append("body has no top-level status")
    elif top in DEGRADED and not opts.allow_degraded:
        problems.append(f"service is degraded (status {top})")
    elif top not in GOOD | DEGRADED:
        problems.append(f"service status is {top}")
    deps = dependencies(doc)
    for name, state in deps.items():
        if name in opts.ignore_dependencies:
            continue
        if state == "fail":
            out = _dep_output(doc, name)
            problems.append(f"dependency {name} is failing{': ' + out if out else ''}")
        elif state == "warn" and not opts.allow_degraded:
            problems.append(f"dependency {name} is degraded")
    for name in opts.required_dependencies:
        if name not in deps:
            problems.append(f"required dependency {name} is not reported")
    return problems


def _dep_output(doc: Dict[str, Any], name: str) -> str:
    entries = (doc.get("checks") or {}).get(name)
    for e in entries if isinstance(entries, list) else [entries]:
        if isinstance(e, dict) and e.get("output"):
            return str(e["output"])[:200]
    return ""


def check_health(opts: HealthOptions, sleep: Callable[[float], None] = time.sleep) -> Dict[str, Any]:
    """Retry until healthy or attempts run out; the verdict describes the last attempt."""
    if not opts.url.startswith(("http://", "https://")):
        raise HealthCheckError(f"url {opts.url!r} must start with http:// or https://")
    if opts.retries < 0 or opts.timeout <= 0:
        raise HealthCheckError("retries must be >= 0 and timeout > 0")
    try:
        auth_headers(opts.headers, opts.auth_token)
    except ValueError as exc:
        raise HealthCheckError(str(exc)) from None
    attempts: List[Dict[str, Any]] = []
    pause = opts.backoff
    for i in range(opts.retries + 1):
        att = fetch(opts)
        problems = judge(opts, att)
        attempts.append({"status": att.status, "latency_ms": round(att.latency_ms, 2), "problems": problems})
        if not problems:
            break
        if i < opts.retries:
            sleep(min(pause, opts.max_backoff))
            pause *= 2
    doc = None
    try:
        doc = json.loads(att.body) if att.body else None
    except ValueError:
        pass
    deps = dependencies(doc) if isinstance(doc, dict) else {}
    judged = [name for name in deps if name not in opts.ignore_dependencies]
    ms = [measurement("http_status", att.status, "code"),
          measurement("latency_ms", round(att.latency_ms, 2), "ms", opts.latency_budget_ms,
                      "<=" if opts.latency_budget_ms is not None else None),
          measurement("attempts", len(attempts), "count"),
          measurement("dependencies_reported", len(judged), "count"),
          measurement("dependencies_failing", sum(1 for s in deps.values() if s == "fail"), "count", 0, "==")]
    if problems:
        status = FAIL
        summary = f"{opts.url} unhealthy after {len(attempts)} attempt(s): " + "; ".join(problems)
    elif opts.check_body and opts.expect_dependencies and not judged:
        status = PENDING
        summary = (f"{opts.url} answered healthy but its body reports no dependency"
                   f"{' that counts' if deps else ''}: nothing shows its dependencies work "
                   f"(set expect_dependencies to false if it has none)")
    else:
        status = PASS
        summary = f"{opts.url} healthy after {len(attempts)} attempt(s) ({att.latency_ms:.0f} ms)"
    verdict = make_verdict(status, summary, findings={"problems": len(problems)}, measurements=ms)
    return {"verdict": verdict, "status_code": att.status, "health": doc, "dependencies": deps,
            "attempts": attempts}
