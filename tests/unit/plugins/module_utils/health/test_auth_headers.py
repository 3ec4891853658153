"""auth_token becomes `Authorization: Bearer ...` on the wire, for health_check and prometheus_gate."""

from __future__ import annotations

import secrets
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from ansible_collections.deploysafe.preflight.plugins.module_utils.health.http import (
    HealthCheckError, HealthOptions, auth_headers, check_health, fetch)
from ansible_collections.deploysafe.preflight.plugins.module_utils.monitoring.prometheus import Api


def test_auth_headers_adds_bearer_and_keeps_others():
    token = secrets.token_hex(8)
    assert auth_headers({"X-Tenant": "a"}, token) == {"X-Tenant": "a", "Authorization": f"Bearer {token}"}
    assert auth_headers({"X-Tenant": "a"}, None) == {"X-Tenant": "a"}
    assert auth_headers(None, "") == {}


def test_token_and_authorization_header_are_ambiguous():
    header, token = secrets.token_hex(8), secrets.token_hex(8)
    with pytest.raises(ValueError, match="not both") as err:
        auth_headers({"AUTHORIZATION": f"Basic {header}"}, token)
    assert header not in str(err.value) and token not in str(err.value)
    with pytest.raises(HealthCheckError, match="not both"):
        check_health(HealthOptions(url="http://127.0.0.1:1/", headers={"authorization": "x"}, auth_token="y"))


@pytest.fixture
def recorder():
    """A loopback HTTP server that records the Authorization header of each request it answers."""
    seen = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 (http.server's name)
            seen.append(self.headers.get("Authorization"))
            body = b'{"status": "success", "data": {"groups": []}}'
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", seen
    server.shutdown()
    server.server_close()


def test_token_reaches_the_server(recorder):
    url, seen = recorder
    token = secrets.token_hex(8)
    assert fetch(HealthOptions(url=url + "/healthz", auth_token=token)).status == 200
    Api(url=url, auth_token=token).prom("/api/v1/rules")
    assert seen == [f"Bearer {token}", f"Bearer {token}"]
