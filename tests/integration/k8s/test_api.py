"""Server-side validation, dry-run and RBAC come from the real API server and authorizer."""

from __future__ import annotations

import json

import pytest
from kubernetes import client
from kubernetes.client.rest import ApiException

from k8s_workloads import sample_deployment


def test_dry_run_of_invalid_manifest_is_rejected_with_the_servers_message(admin_api, namespace):
    bad = sample_deployment()
    bad["spec"]["selector"]["matchLabels"] = {"app.kubernetes.io/name": "something-else"}
    with pytest.raises(ApiException) as err:
        client.AppsV1Api(admin_api).create_namespaced_deployment(namespace, bad, dry_run="All")
    assert err.value.status == 422
    status = json.loads(err.value.body)
    assert status["reason"] == "Invalid"
    assert status["message"].startswith('Deployment.apps "sample-app" is invalid: spec.template.metadata.labels')
    assert "`selector` does not match template `labels`" in status["message"]


def test_dry_run_of_valid_manifest_creates_nothing(admin_api, namespace):
    apps = client.AppsV1Api(admin_api)
    answer = apps.create_namespaced_deployment(namespace, sample_deployment(), dry_run="All")
    assert answer.metadata.name == "sample-app" and answer.metadata.generation == 1
    assert apps.list_namespaced_deployment(namespace).items == []
    with pytest.raises(ApiException) as err:
        apps.read_namespaced_deployment("sample-app", namespace)
    assert err.value.status == 404


def test_restricted_user_works_in_its_namespace_and_is_forbidden_elsewhere(restricted_api, cluster):
    apps, core = client.AppsV1Api(restricted_api), client.CoreV1Api(restricted_api)
    own = cluster["restricted_namespace"]
    created = apps.create_namespaced_deployment(own, sample_deployment(name="rbac-probe", replicas=1),
                                                dry_run="All")
    assert created.metadata.namespace == own
    core.list_namespaced_pod(own)

    for call in (lambda: core.list_namespaced_pod("default"),
                 lambda: apps.create_namespaced_deployment("default", sample_deployment(), dry_run="All"),
                 lambda: core.list_node(),
                 lambda: core.list_namespaced_secret(own)):
        with pytest.raises(ApiException) as err:
            call()
        assert err.value.status == 403
        status = json.loads(err.value.body)
        assert status["reason"] == "Forbidden"
        assert f'User "{cluster["restricted_user"]}" cannot' in status["message"]
