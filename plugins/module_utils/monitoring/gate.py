# Copyright: (c) 2026, deploysafe.preflight contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""prometheus_gate: run the configured checks and fold them into one verdict."""

from __future__ import annotations

from typing import Any, Dict, List

from ..verdict import FAIL, PASS, PENDING, make_verdict, measurement
from .prometheus import Api, MonitoringError, check_alerts, check_query, check_required_series, check_rules, \
    check_targets


def run_gate(api: Api, *, queries: List[Dict[str, Any]] = (), required_series: List[str] = (),
             required_rules: List[str] = (), no_firing_alerts: bool = True, alert_source: str = "prometheus",
             alert_label_filters: Dict[str, str] = None, ignore_alerts: List[str] = (),
             include_pending: bool = False, targets_up: bool = False, target_jobs: List[str] = ()) -> Dict[str, Any]:
    """Run the configured checks: fail when one fails, pending when one could not decide (no data) or
    none is configured, else pass."""
    checks: List[Dict[str, Any]] = []
    for q in queries:
        if not q.get("query"):
            raise MonitoringError("every entry of queries needs a query")
        checks.append(check_query(api, q))
    checks += [check_required_series(api, s) for s in required_series]
    if required_rules:
        checks += check_rules(api, list(required_rules))
    if no_firing_alerts:
        checks.append(check_alerts(api, alert_source, dict(alert_label_filters or {}), list(ignore_alerts),
                                   include_pending))
    if targets_up:
        checks += check_targets(api, list(target_jobs))
    failed = [c for c in checks if c["ok"] is False]
    undecided = [c for c in checks if c["ok"] is None]
    if not checks:
        status, summary = PENDING, "no checks configured"
    elif failed or undecided:
        status = FAIL if failed else PENDING
        summary = "; ".join(c["message"] for c in failed + undecided)
    else:
        status, summary = PASS, f"{len(checks)} monitoring checks passed"
    # Every check measured something (a value, a count of series, targets or rules): that is the evidence.
    measurements = [measurement(c["name"], c["value"], c["unit"]) for c in checks]
    verdict = make_verdict(status, summary, findings={"checks_failed": len(failed), "checks_undecided": len(undecided),
                                                      "checks": len(checks)},
                           measurements=measurements)
    firing = next((c["alerts"] for c in checks if "alerts" in c), [])
    return {"verdict": verdict, "checks": checks, "firing_alerts": firing}
