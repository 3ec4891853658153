"""auth_token becomes `Authorization: Bearer ...` on the wire, for health_check and prometheus_gate."""

from __future__ import annotations

import secrets

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
def recorder(loopback_http):
    """A loopback HTTP server that records the Authorization header of each request it answers."""
    seen = []

    def respond(request):
        seen.append(request.headers.get("Authorization"))
        return 200, "application/json", b'{"status": "success", "data": {"groups": []}}'

    return loopback_http(respond), seen


def test_token_reaches_the_server(recorder):
    url, seen = recorder
    token = secrets.token_hex(8)
    assert fetch(HealthOptions(url=url + "/healthz", auth_token=token)).status == 200
    Api(url=url, auth_token=token).prom("/api/v1/rules")
    assert seen == [f"Bearer {token}", f"Bearer {token}"]
