"""A small HTTPS JSON client for bootstrapping the cluster (health checks, nodes, RBAC).

The harness avoids the `kubernetes` package here so that `testenv up` stays light; tests use the
real client against the same server.
"""

from __future__ import annotations

import json
import ssl
import urllib.error
import urllib.request
from typing import Optional

from deploysafe_testenv.k8s.pki import CertFiles


class ApiClient:
    def __init__(self, server: str, ca_file, client: Optional[CertFiles] = None, timeout: float = 5.0):
        self.server = server.rstrip("/")
        self.timeout = timeout
        self.ctx = ssl.create_default_context(cafile=str(ca_file))
        if client:
            self.ctx.load_cert_chain(str(client.cert), str(client.key))

    def request(self, method: str, path: str, body: Optional[dict] = None) -> dict:
        """Send a request; return the decoded JSON body. HTTP errors raise urllib.error.HTTPError."""
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.server + path, data=data, method=method,
                                     headers={"Content-Type": "application/json", "Accept": "application/json"})
        with urllib.request.urlopen(req, context=self.ctx, timeout=self.timeout) as resp:
            raw = resp.read()
        return json.loads(raw) if raw.strip().startswith(b"{") else {"text": raw.decode(errors="replace")}

    def get(self, path: str) -> dict:
        return self.request("GET", path)

    def create(self, path: str, body: dict) -> dict:
        """POST, treating 409 AlreadyExists as success (bootstrap steps may be retried)."""
        try:
            return self.request("POST", path, body)
        except urllib.error.HTTPError as exc:
            if exc.code == 409:
                return {}
            raise

    def text_ok(self, path: str) -> bool:
        """True when GET path answers 200 with body `ok` (/readyz, /healthz)."""
        return self.get(path).get("text", "").strip() == "ok"


def http_ok(url: str, ctx: Optional[ssl.SSLContext] = None, timeout: float = 2.0) -> bool:
    """True when url answers 200 (component health endpoints)."""
    with urllib.request.urlopen(url, context=ctx, timeout=timeout) as resp:
        return resp.status == 200


def insecure_loopback_context() -> ssl.SSLContext:
    """For /healthz of controller-manager and scheduler, which serve self-signed in-memory certs on
    127.0.0.1 only; nothing secret is sent."""
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx
