# Copyright: (c) 2026, deploysafe.preflight contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Health check through the API server's service proxy, for rehearsals on a real cluster where the
rehearsal's Service has no route from the controller. The API server dials a ready endpoint of the
Service. Not usable on simulated (kwok) nodes: their pod IPs have nothing behind them."""

from __future__ import annotations

import time
from typing import Any, Dict, List, Tuple
from urllib.parse import quote

from ..verdict import measurement
from . import K8sError
from .connection import Connection


def proxy_path(namespace: str, service: str, path: str = "/healthz") -> str:
    """/api/v1/namespaces/<ns>/services/<[scheme:]name[:port]>/proxy/<path> (path keeps its slashes and query)."""
    if not service or service.count(":") > 2:
        raise K8sError(f"health_check_service {service!r} must be name, name:port or scheme:name:port")
    target = quote(service, safe=":")
    return f"/api/v1/namespaces/{quote(namespace, safe='')}/services/{target}/proxy/{quote(path.lstrip('/'), safe='/?=&')}"


def proxy_request(conn: Connection, namespace: str, service: str, path: str) -> Tuple[str, str, Dict[str, str]]:
    """(method, url, headers) with the connection's authentication, ready for the REST client."""
    method, url, headers, _body, _post = conn.api.param_serialize(
        "GET", proxy_path(namespace, service, path), header_params={"Accept": "*/*"}, auth_settings=["BearerToken"])
    return method, url, headers


def check_through_proxy(conn: Connection, namespace: str, service: str, path: str, expected: List[int],
                        retries: int = 3) -> Dict[str, Any]:
    """GET the service's path through the API server with retries; {summary, measurements, ok}."""
    method, url, headers = proxy_request(conn, namespace, service, path)
    status, latency, error = None, 0.0, ""
    for attempt in range(retries + 1):
        started = time.perf_counter()
        try:
            response = conn.api.rest_client.request(method, url, headers=headers,
                                                    _request_timeout=conn.request_timeout)
            status, error = response.status, ""
        except Exception as exc:  # the REST client raises for transport errors only
            status, error = None, f"{type(exc).__name__}: {str(exc)[:200]}"
        latency = (time.perf_counter() - started) * 1000
        if status in expected:
            break
        if attempt < retries:
            time.sleep(min(2 ** attempt, 10))
    ok = status in expected
    summary = (f"service {service}{path} answered {status} through the API server proxy" if ok else
               f"service {service}{path} through the API server proxy: {error or f'HTTP {status}'}, "
               f"expected {', '.join(map(str, expected))}")
    ms = [measurement("health_http_status", status, "code"), measurement("health_latency_ms", round(latency, 2), "ms"),
          measurement("health_attempts", attempt + 1, "count"), measurement("health_ok", ok, "bool", True, "==")]
    return {"summary": summary, "measurements": ms, "ok": ok}
