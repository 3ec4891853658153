# Copyright: (c) 2026, deploysafe.preflight contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Throwaway namespaces: random name, run-id labels, a TTL annotation a janitor can act on, and
deletion that survives Ctrl-C and SIGTERM (the signals become an exception, so `finally` runs)."""

from __future__ import annotations

import secrets
import time
from datetime import datetime, timedelta, timezone
from typing import Any, Dict, Optional

from ..signals import signals_deferred
from . import K8sError
from .connection import Connection, api_error

LABEL_REHEARSAL = "deploysafe.io/rehearsal"
LABEL_RUN_ID = "deploysafe.io/run-id"
ANNOTATION_TTL = "deploysafe.io/ttl-seconds"
ANNOTATION_EXPIRES = "deploysafe.io/expires-at"


def new_run_id() -> str:
    return time.strftime("%Y%m%dT%H%M%SZ", time.gmtime()) + "-" + secrets.token_hex(3)


def namespace_name(prefix: str) -> str:
    """prefix-<6 random hex>; the prefix is cut so the name stays a valid DNS label."""
    return f"{prefix.strip('-')[:50]}-{secrets.token_hex(3)}"


def label_value(text: str) -> str:
    """A label value (63 characters of [-A-Za-z0-9_.], alphanumeric at both ends)."""
    cleaned = "".join(ch if ch.isalnum() or ch in "-_." else "-" for ch in text)[:63]
    return cleaned.strip("-_.")


def namespace_manifest(name: str, run_id: str, kind: str, ttl_seconds: int,
                       now: Optional[datetime] = None) -> Dict[str, Any]:
    """The Namespace object of a rehearsal: labels say what created it, annotations when it may go."""
    now = now or datetime.now(timezone.utc)
    expires = (now + timedelta(seconds=ttl_seconds)).strftime("%Y-%m-%dT%H:%M:%SZ")
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": {
        "name": name,
        "labels": {LABEL_REHEARSAL: label_value(kind), LABEL_RUN_ID: label_value(run_id),
                   "app.kubernetes.io/managed-by": "deploysafe.preflight"},
        "annotations": {ANNOTATION_TTL: str(ttl_seconds), ANNOTATION_EXPIRES: expires},
    }}


class ThrowawayNamespace:
    """Create with create(), remove with delete(); delete() is safe to call twice."""

    def __init__(self, conn: Connection, prefix: str, run_id: str, kind: str, ttl_seconds: int):
        self.conn = conn
        self.name = namespace_name(prefix)
        self.manifest = namespace_manifest(self.name, run_id, kind, ttl_seconds)
        self.created = False
        self.deleted = False

    def _core(self):
        from kubernetes import client
        return client.CoreV1Api(self.conn.api)

    def create(self, ready_timeout: float = 60.0) -> None:
        """Create the namespace and wait for its default ServiceAccount (pods are refused before it)."""
        from kubernetes.client.rest import ApiException
        core, timeout = self._core(), self.conn.request_timeout
        try:
            core.create_namespace(self.manifest, _request_timeout=timeout)
        except Exception as exc:
            raise K8sError(api_error(exc, "create", "namespaces")) from None
        self.created = True
        deadline = time.monotonic() + ready_timeout
        while True:
            try:
                core.read_namespaced_service_account("default", self.name, _request_timeout=timeout)
                return
            except ApiException as exc:
                if exc.status != 404:
                    raise K8sError(api_error(exc, "get", "serviceaccounts", self.name)) from None
            if time.monotonic() > deadline:
                raise K8sError(f"namespace {self.name}: no default ServiceAccount after {ready_timeout:.0f}s "
                               "(is the controller-manager running?)")
            time.sleep(0.25)

    def delete(self, wait_timeout: float = 120.0) -> Dict[str, Any]:
        """Delete and wait until the namespace is gone. Returns {deleted, gone, seconds, error}."""
        from kubernetes.client.rest import ApiException
        if not self.created or self.deleted:
            return {"deleted": self.deleted, "gone": self.deleted, "seconds": 0.0, "error": ""}
        core, timeout = self._core(), self.conn.request_timeout
        started = time.monotonic()
        with signals_deferred():
            try:
                core.delete_namespace(self.name, propagation_policy="Background", _request_timeout=timeout)
            except ApiException as exc:
                if exc.status != 404:
                    return {"deleted": False, "gone": False, "seconds": 0.0,
                            "error": api_error(exc, "delete", f"namespace {self.name}")}
            except Exception as exc:
                return {"deleted": False, "gone": False, "seconds": 0.0,
                        "error": api_error(exc, "delete", f"namespace {self.name}")}
            self.deleted = True
            deadline = started + wait_timeout
            while time.monotonic() < deadline:
                try:
                    core.read_namespace(self.name, _request_timeout=timeout)
                except ApiException as exc:
                    if exc.status == 404:
                        return {"deleted": True, "gone": True, "seconds": round(time.monotonic() - started, 2),
                                "error": ""}
                except Exception:
                    pass  # transient; the delete was accepted, keep polling until the deadline
                time.sleep(0.5)
        return {"deleted": True, "gone": False, "seconds": round(time.monotonic() - started, 2),
                "error": f"namespace {self.name} still terminating after {wait_timeout:.0f}s"}
