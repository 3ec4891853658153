"""Workloads and polling helpers for the Kubernetes integration tests (no traffic to pod IPs)."""

from __future__ import annotations

import time
from typing import Optional

import pytest

SIMULATE = "deploysafe.io/simulate"


def wait_for(what: str, probe, timeout: float = 60.0, interval: float = 0.25):
    """Poll probe() until it returns something truthy and return that. Fails the test on timeout."""
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(interval)


def sample_deployment(name: str = "sample-app", image: str = "registry.local/deploysafe/sample-app:1.0.0",
                      replicas: int = 3, pod_annotations: Optional[dict] = None) -> dict:
    """A Deployment shaped like the sample service's: HTTP port, probes, resources, rolling update."""
    labels = {"app.kubernetes.io/name": name}
    return {
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": name, "labels": labels},
        "spec": {
            "replicas": replicas,
            "revisionHistoryLimit": 5,
            "progressDeadlineSeconds": 120,
            "selector": {"matchLabels": labels},
            "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0}},
            "template": {
                "metadata": {"labels": labels, "annotations": pod_annotations or {}},
                "spec": {"containers": [{
                    "name": "app", "image": image,
                    "ports": [{"name": "http", "containerPort": 8080}],
                    "env": [{"name": "APP_PORT", "value": "8080"}],
                    "readinessProbe": {"httpGet": {"path": "/healthz", "port": "http"}, "periodSeconds": 5},
                    "livenessProbe": {"httpGet": {"path": "/healthz", "port": "http"}, "periodSeconds": 10},
                    "resources": {"requests": {"cpu": "100m", "memory": "64Mi"},
                                  "limits": {"cpu": "500m", "memory": "128Mi"}},
                }]},
            },
        },
    }


def rollout_complete(apps, namespace: str, name: str):
    """`kubectl rollout status` logic: the controller saw the latest spec, every replica is updated
    and available, no old replicas remain. Returns the Deployment when complete, else None."""
    dep = apps.read_namespaced_deployment(name, namespace)
    st, want = dep.status, dep.spec.replicas
    if (st.observed_generation or 0) < dep.metadata.generation:
        return None
    if (st.updated_replicas or 0) < want or (st.replicas or 0) > (st.updated_replicas or 0):
        return None
    if (st.available_replicas or 0) < want:
        return None
    return dep


def revision(obj) -> str:
    return (obj.metadata.annotations or {}).get("deployment.kubernetes.io/revision", "")


def pod_ready(pod) -> bool:
    return any(c.type == "Ready" and c.status == "True" for c in (pod.status.conditions or []))
