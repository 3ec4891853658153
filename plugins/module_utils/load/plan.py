# Copyright: (c) 2026, deploysafe.preflight contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a load test does: request mix, stages/profiles, model, bounds. Parsed from plain dicts."""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass, field
from typing import Any, Dict, Iterable, List, Optional
from urllib.parse import urlsplit

from ..errors import PreflightError


class LoadTestError(PreflightError, ValueError):
    """Bad plan, unsafe target or unusable result; the message says which and where."""


# Shapes from the issue; durations in seconds, `target` is users (closed) or requests/s (open).
PROFILES: Dict[str, List[Dict[str, Any]]] = {
    "smoke": [{"name": "smoke", "duration": 120, "target": 5, "start": 5}],
    "load": [{"name": "ramp-up-50", "duration": 120, "target": 50},
             {"name": "ramp-up-100", "duration": 300, "target": 100},
             {"name": "sustain", "duration": 600, "target": 100},
             {"name": "ramp-down", "duration": 180, "target": 0}],
    "stress": [{"name": "stress", "duration": 600, "target": 500, "start": 500}],
    "spike": [{"name": "baseline", "duration": 60, "target": 20, "start": 20},
              {"name": "spike", "duration": 60, "target": 200, "start": 200},
              {"name": "recovery", "duration": 60, "target": 20, "start": 20}],
    "endurance": [{"name": "endurance", "duration": 7200, "target": 100, "start": 100}],
}


@dataclass
class RequestSpec:
    name: str
    method: str
    url: str
    weight: float = 1.0
    headers: Dict[str, str] = field(default_factory=dict)
    json: Any = None
    expect_status: List[int] = field(default_factory=list)   # empty: any status < 400 is a success
    body: Optional[str] = None            # raw request body (json, when given, wins)
    expect_body: str = ""                 # built-in engine: the response body must contain this
    expect_json: Dict[str, Any] = field(default_factory=dict)  # built-in engine: JSON path -> value (None: present)


@dataclass
class Stage:
    """Load goes linearly from `start` to `target` over `duration` seconds (k6's ramping shape)."""
    name: str
    duration: float
    start: float
    target: float

    @property
    def flat(self) -> bool:
        return self.start == self.target

    def level_at(self, elapsed: float) -> float:
        if self.duration <= 0:
            return self.target
        frac = min(max(elapsed / self.duration, 0.0), 1.0)
        return self.start + (self.target - self.start) * frac


@dataclass
class Plan:
    requests: List[RequestSpec]
    stages: List[Stage]
    model: str = "closed"              # closed: virtual users; open: arrival rate
    think_time: float = 0.0            # seconds between requests of one virtual user (closed model)
    timeout: float = 10.0              # per request
    max_requests: int = 1_000_000
    max_duration: float = 3600.0       # hard bound on wall time, whatever the stages say
    max_in_flight: int = 1024          # open model: cap on outstanding requests
    sustain_stages: List[str] = field(default_factory=list)   # where memory growth is measured

    @property
    def duration(self) -> float:
        return sum(s.duration for s in self.stages)


def build_stages(profile: Optional[str], stages: Optional[Iterable[Dict[str, Any]]], time_scale: float = 1.0,
                 scale_target: float = 1.0) -> List[Stage]:
    """Stages from an explicit list or a named profile; durations multiplied by time_scale."""
    if time_scale <= 0:
        raise LoadTestError(f"time_scale must be > 0, got {time_scale}")
    raw = list(stages or [])
    if not raw:
        if not profile:
            raise LoadTestError("give either `stages` or a `profile`")
        if profile not in PROFILES:
            raise LoadTestError(f"unknown profile {profile!r}; known: {', '.join(PROFILES)}")
        raw = PROFILES[profile]
    out: List[Stage] = []
    previous = 0.0
    for i, item in enumerate(raw):
        if not isinstance(item, dict):
            raise LoadTestError(f"stage {i + 1} must be a mapping, got {type(item).__name__}")
        try:
            duration = float(item["duration"]) * time_scale
            target = float(item["target"]) * scale_target
            start = float(item["start"]) * scale_target if item.get("start") is not None else previous
        except KeyError as exc:
            raise LoadTestError(f"stage {i + 1} lacks {exc.args[0]!r} (needs duration and target)") from None
        except (TypeError, ValueError):
            raise LoadTestError(f"stage {i + 1}: duration, target and start must be numbers") from None
        if duration <= 0 or target < 0 or start < 0:
            raise LoadTestError(f"stage {i + 1}: duration must be > 0 and target/start >= 0")
        name = str(item.get("name") or f"stage-{i + 1}")
        if name in (s.name for s in out):
            raise LoadTestError(f"stage name {name!r} is used twice")
        out.append(Stage(name=name, duration=duration, start=start, target=target))
        previous = target
    return out


def build_requests(items: Iterable[Dict[str, Any]], base_url: str = "", headers: Optional[Dict[str, Any]] = None,
                   request_headers: Optional[Dict[str, Any]] = None, auth_token: str = "") -> List[RequestSpec]:
    """The weighted request mix. Headers come only from the options Ansible hides from logs (`headers` for
    every request, `request_headers` by request name, `auth_token` as a bearer token), never from the
    `requests` list itself, whose values are logged and masked nowhere."""
    common = _header_map(headers, "headers")
    if auth_token:
        common["Authorization"] = f"Bearer {auth_token}"
    by_name = dict(request_headers or {})
    out: List[RequestSpec] = []
    for i, item in enumerate(items or []):
        if isinstance(item, str):
            item = {"url": item}
        if not isinstance(item, dict) or not item.get("url"):
            raise LoadTestError(f"request {i + 1} needs a url")
        if "headers" in item:
            raise LoadTestError(f"request {i + 1} ({item.get('name') or item['url']}): headers inside `requests` would "
                                "be logged in clear; give them in `request_headers` (by request name) or `headers`")
        url = str(item["url"])
        if url.startswith("/"):
            if not base_url:
                raise LoadTestError(f"request {i + 1}: relative url {url!r} needs base_url")
            url = base_url.rstrip("/") + url
        weight = float(item.get("weight", 1))
        if weight <= 0:
            raise LoadTestError(f"request {i + 1}: weight must be > 0")
        name = str(item.get("name") or urlsplit(url).path or "/")
        own = _header_map(by_name.get(name), f"request_headers[{name}]")
        where = f"request {i + 1} ({name})"
        body, expect_body, expect_json = item.get("body"), item.get("expect_body") or "", item.get("expect_json") or {}
        if body is not None and not isinstance(body, str):
            raise LoadTestError(f"{where}: body must be a string (use json for structured data)")
        if not isinstance(expect_body, str):
            raise LoadTestError(f"{where}: expect_body must be a string")
        if not isinstance(expect_json, dict):
            raise LoadTestError(f"{where}: expect_json must be a mapping of JSON path to expected value")
        out.append(RequestSpec(name=name, method=str(item.get("method", "GET")).upper(), url=url, weight=weight,
                               headers={**common, **own}, json=item.get("json"),
                               expect_status=[int(s) for s in item.get("expect_status") or []],
                               body=body, expect_body=expect_body, expect_json=dict(expect_json)))
    if not out:
        raise LoadTestError("the request mix is empty: give at least one request")
    unknown = sorted(set(by_name) - {r.name for r in out})
    if unknown:
        raise LoadTestError(f"request_headers names requests that are not in the mix: {', '.join(unknown)}")
    return out


def _header_map(value: Any, where: str) -> Dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise LoadTestError(f"{where} must be a mapping of header name to value")
    # Names only in the message: the values may be secrets.
    bad = [str(k) for k, v in value.items() if not isinstance(v, (str, int, float)) or isinstance(v, bool)]
    if bad:
        raise LoadTestError(f"{where}: the value of header(s) {', '.join(bad)} must be a string")
    return {str(k): str(v) for k, v in value.items()}


def check_targets(requests: List[RequestSpec], allowed_hosts: Iterable[str], allow_loopback: bool = True) -> None:
    """Refuse targets that are neither loopback (when allowed) nor in the allowlist (e.g. inventory hosts)."""
    allowed = {h.lower() for h in allowed_hosts}
    for req in requests:
        parts = urlsplit(req.url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise LoadTestError(f"request {req.name!r}: {req.url!r} is not an http(s) URL")
        host = parts.hostname.lower()
        if host in allowed:
            continue
        if allow_loopback and _is_loopback(host):
            continue
        raise LoadTestError(f"target {host!r} of request {req.name!r} is not allowlisted "
                            f"(loopback{' and ' + ', '.join(sorted(allowed)) if allowed else ' only'}); "
                            "add it to allowed_hosts or the inventory")


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        pass
    try:
        addrs = {info[4][0] for info in socket.getaddrinfo(host, None)}
    except socket.gaierror:
        return False   # unresolvable: not loopback; the run reports the DNS failure if it is allowlisted
    return bool(addrs) and all(ipaddress.ip_address(a.split("%")[0]).is_loopback for a in addrs)
