"""Fixtures for tests against the harness Kubernetes control plane (service `k8s`)."""

from __future__ import annotations

import uuid

import pytest

from k8s_workloads import wait_for


@pytest.fixture(scope="session")
def cluster(k8s):
    """The running control plane's data (the `k8s` fixture, which skips only without Go)."""
    return k8s


@pytest.fixture(scope="session")
def admin_api(cluster):
    from kubernetes import config
    return config.new_client_from_config(config_file=cluster["kubeconfig"])


@pytest.fixture(scope="session")
def restricted_api(cluster):
    from kubernetes import config
    return config.new_client_from_config(config_file=cluster["kubeconfig_restricted"])


@pytest.fixture
def namespace(admin_api):
    """A fresh namespace (with its default ServiceAccount, so bare pods are admitted); deleted after."""
    from kubernetes import client
    from kubernetes.client.rest import ApiException

    core = client.CoreV1Api(admin_api)
    name = f"t-{uuid.uuid4().hex[:8]}"
    core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=name)))

    def sa_exists():
        try:
            return core.read_namespaced_service_account("default", name)
        except ApiException as exc:
            if exc.status == 404:
                return None
            raise
    wait_for(f"service account default in {name}", sa_exists)
    yield name
    core.delete_namespace(name)
