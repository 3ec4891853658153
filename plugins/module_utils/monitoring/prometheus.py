# Copyright: (c) 2026, deploysafe.preflight contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Prometheus/Alertmanager HTTP API client and the gate's checks.

"No data" is a failure unless a query says it may be empty: a gate that cannot see the metric has not
shown that the metric is fine. A check that proves nothing because there is nothing to look at (no
active scrape target, no alert rule loaded so nothing could fire) is undecided: ok None, the gate's
verdict pending. Every check carries a numeric value and unit, the evidence of its verdict.
"""

from __future__ import annotations

import json
import math
import time
import urllib.error
import urllib.parse
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional

from ansible.module_utils.urls import open_url

from ..errors import PreflightError
from ..health.http import auth_headers

COMPARISONS = ("<", "<=", ">", ">=", "==", "!=")
AGGREGATES = ("max", "min", "avg", "last")


class MonitoringError(PreflightError, RuntimeError):
    """Prometheus or Alertmanager could not be asked (unreachable, rejected query...)."""


@dataclass
class Api:
    url: str
    alertmanager_url: str = ""
    timeout: float = 10.0
    headers: Dict[str, str] = field(default_factory=dict)
    validate_certs: bool = True
    ca_path: Optional[str] = None
    auth_token: Optional[str] = None   # sent as Authorization: Bearer, to Prometheus and Alertmanager

    def request_headers(self) -> Dict[str, str]:
        try:
            return auth_headers(self.headers, self.auth_token)
        except ValueError as exc:
            raise MonitoringError(str(exc)) from None

    def _get(self, base: str, path: str, params: Optional[Dict[str, Any]] = None) -> Any:
        url = base.rstrip("/") + path + ("?" + urllib.parse.urlencode(params, doseq=True) if params else "")
        try:
            with open_url(url, headers=self.request_headers(), timeout=self.timeout, validate_certs=self.validate_certs,
                          ca_path=self.ca_path) as resp:
                return json.loads(resp.read())
        except urllib.error.HTTPError as exc:
            try:
                detail = json.loads(exc.read()).get("error", "")
            except ValueError:
                detail = ""
            raise MonitoringError(f"{url.split('?')[0]} answered HTTP {exc.code}{': ' + detail if detail else ''}") from None
        except (urllib.error.URLError, OSError) as exc:
            raise MonitoringError(f"cannot reach {base}: {getattr(exc, 'reason', exc)}") from None
        except ValueError:
            raise MonitoringError(f"{url.split('?')[0]} did not answer JSON") from None

    def prom(self, path: str, params: Optional[Dict[str, Any]] = None) -> Any:
        doc = self._get(self.url, path, params)
        if doc.get("status") != "success":
            raise MonitoringError(f"Prometheus {path}: {doc.get('error', 'status ' + str(doc.get('status')))}")
        return doc["data"]

    def alertmanager(self, path: str, params: Optional[Dict[str, Any]] = None) -> Any:
        if not self.alertmanager_url:
            raise MonitoringError("alertmanager_url is needed for alert_source=alertmanager")
        return self._get(self.alertmanager_url, path, params)


def _ok(value: float, cmp: str, limit: float) -> bool:
    return {"<": value < limit, "<=": value <= limit, ">": value > limit, ">=": value >= limit,
            "==": value == limit, "!=": value != limit}[cmp]


def _labels(metric: Dict[str, str]) -> str:
    name = metric.get("__name__", "")
    rest = ",".join(f'{k}="{v}"' for k, v in sorted(metric.items()) if k != "__name__")
    return f"{name}{{{rest}}}" if rest or not name else name


def check_query(api: Api, q: Dict[str, Any], now: Optional[float] = None) -> Dict[str, Any]:
    """One PromQL check. Instant: every series must satisfy the comparison. Range: each series'
    aggregate (max/min/avg/last) over `range_seconds` must."""
    name, query = q.get("name") or q["query"], q["query"]
    cmp, limit = q.get("comparison", "<"), q.get("threshold")
    if cmp not in COMPARISONS:
        raise MonitoringError(f"query {name!r}: comparison must be one of {' '.join(COMPARISONS)}")
    now = time.time() if now is None else now
    if q.get("range_seconds"):
        agg = q.get("aggregate", "max")
        if agg not in AGGREGATES:
            raise MonitoringError(f"query {name!r}: aggregate must be one of {', '.join(AGGREGATES)}")
        params = {"query": query, "start": now - float(q["range_seconds"]), "end": now,
                  "step": q.get("step_seconds") or 1}
        data = api.prom("/api/v1/query_range", params)
        series = []
        for s in data["result"]:
            vals = [float(pair[1]) for pair in s["values"] if not math.isnan(float(pair[1]))]
            if vals:
                series.append((s["metric"], {"max": max(vals), "min": min(vals), "avg": sum(vals) / len(vals),
                                             "last": vals[-1]}[agg]))
    else:
        data = api.prom("/api/v1/query", {"query": query, "time": now})
        if data["resultType"] == "scalar":
            series = [({}, float(data["result"][1]))]
        else:
            series = [(s["metric"], float(s["value"][1])) for s in data["result"]]
        series = [(m, v) for m, v in series if not math.isnan(v)]
    if not series:
        ok = bool(q.get("allow_empty"))
        return {"name": name, "ok": ok, "value": 0, "unit": "series",
                "message": f"{name}: no data{' (allowed)' if ok else ''} for {query}"}
    if limit is None:
        return {"name": name, "ok": True, "value": len(series), "unit": "series",
                "message": f"{name}: {len(series)} series present"}
    bad = [(m, v) for m, v in series if not _ok(v, cmp, float(limit))]
    worst = bad[0] if bad else series[0]
    msg = (f"{name}: {len(bad)} of {len(series)} series not {cmp} {limit}: " +
           ", ".join(f"{_labels(m)}={v:g}" for m, v in bad[:5])) if bad else \
        f"{name}: all {len(series)} series {cmp} {limit}"
    return {"name": name, "ok": not bad, "value": worst[1], "unit": "value", "message": msg}


def check_required_series(api: Api, selector: str) -> Dict[str, Any]:
    """absent()-style: fail when no series matches the selector."""
    data = api.prom("/api/v1/query", {"query": f"absent({selector})"})
    missing = bool(data["result"])
    return {"name": f"series {selector}", "ok": not missing, "value": 0 if missing else 1, "unit": "present",
            "message": f"series {selector} is {'missing (absent)' if missing else 'present'}"}


def alert_rules(api: Api) -> List[str]:
    """Names of the alerting rules Prometheus has loaded."""
    groups = api.prom("/api/v1/rules", {"type": "alert"})["groups"]
    return [r["name"] for g in groups for r in g.get("rules", []) if r.get("type", "alerting") == "alerting"]


def check_rules(api: Api, names: List[str]) -> List[Dict[str, Any]]:
    """Each named alert rule is loaded. With no alert rule loaded at all the rules did not load (or are
    not configured): undecided, not a finding about one rule."""
    present = set(alert_rules(api))
    if not present:
        return [{"name": f"rule {n}", "ok": None, "value": 0, "unit": "rules loaded",
                 "message": f"alert rule {n}: Prometheus has no alert rules loaded (no data)"} for n in names]
    return [{"name": f"rule {n}", "ok": n in present, "value": 1 if n in present else 0, "unit": "loaded",
             "message": f"alert rule {n} {'is loaded' if n in present else 'is missing'}"} for n in names]


def firing_alerts(api: Api, source: str, label_filters: Dict[str, str], ignore: List[str],
                  include_pending: bool = False) -> List[Dict[str, str]]:
    """Active alerts matching every label filter. From Alertmanager silenced and inhibited alerts are
    left out; Prometheus's own API does not know about silences."""
    if source == "alertmanager":
        params = {"active": "true", "silenced": "false", "inhibited": "false",
                  "filter": [f'{k}="{v}"' for k, v in label_filters.items()]}
        alerts = [a["labels"] for a in api.alertmanager("/api/v2/alerts", params)]
    else:
        states = {"firing", "pending"} if include_pending else {"firing"}
        alerts = [a["labels"] for a in api.prom("/api/v1/alerts")["alerts"] if a.get("state") in states]
        alerts = [a for a in alerts if all(a.get(k) == v for k, v in label_filters.items())]
    return [a for a in alerts if a.get("alertname") not in ignore]


def check_alerts(api: Api, source: str, label_filters: Dict[str, str], ignore: List[str],
                 include_pending: bool = False) -> Dict[str, Any]:
    """No matching alert is firing. With no alert rule loaded in Prometheus nothing could fire, so
    "none firing" proves nothing: undecided (firing alerts from elsewhere still fail)."""
    alerts = firing_alerts(api, source, label_filters, ignore, include_pending)
    if not alerts and not alert_rules(api):
        return {"name": "no firing alerts", "ok": None, "value": 0, "unit": "alert rules", "alerts": [],
                "message": "no firing alerts, but Prometheus has no alert rules loaded: nothing could fire (no data)"}
    return {"name": "no firing alerts", "ok": not alerts, "value": len(alerts), "unit": "alerts", "alerts": alerts,
            "message": "no firing alerts" if not alerts else
            f"{len(alerts)} firing alert(s): " + "; ".join(_labels({"__name__": a.get("alertname", "")} |
                                                                   {k: v for k, v in a.items() if k != "alertname"})
                                                           for a in alerts[:5])}


def check_targets(api: Api, jobs: List[str]) -> List[Dict[str, Any]]:
    """Every listed job (all jobs when empty) has targets and all are up. A job without any active
    target, or no active target at all, is no data: undecided."""
    active = api.prom("/api/v1/targets", {"state": "active"})["activeTargets"]
    by_job: Dict[str, List[Dict[str, Any]]] = {}
    for t in active:
        by_job.setdefault(t.get("labels", {}).get("job") or t.get("scrapePool", ""), []).append(t)
    if not active and not jobs:
        return [{"name": "targets", "ok": None, "value": 0, "unit": "targets up",
                 "message": "Prometheus has no active scrape targets (no data)"}]
    out = []
    for job in jobs or sorted(by_job):
        targets = by_job.get(job, [])
        down = [t for t in targets if t.get("health") != "up"]
        if not targets:
            out.append({"name": f"targets {job}", "ok": None, "value": 0, "unit": "targets up",
                        "message": f"job {job}: no scrape targets (no data)"})
        else:
            out.append({"name": f"targets {job}", "ok": not down, "value": len(targets) - len(down), "unit": "targets up",
                        "message": f"job {job}: {len(targets) - len(down)}/{len(targets)} targets up" +
                        ("; down: " + ", ".join(f"{t.get('scrapeUrl')} ({t.get('lastError', '')})" for t in down[:3])
                         if down else "")})
    return out
