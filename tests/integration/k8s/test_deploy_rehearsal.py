"""deploy_rehearsal against the real control plane: clean rollout, never-ready and crash-looping pods,
a missing reference reported before anything is applied, the namespace always gone afterwards."""

from __future__ import annotations

import secrets
import uuid

import pytest
from kubernetes import client

from rehearsal_helpers import (
    admin_connection, app_deployment, config_map, job, manifests, measured, namespace_gone, namespaces_of_run)

from ansible_collections.deploysafe.preflight.plugins.module_utils.k8s import K8sError
from ansible_collections.deploysafe.preflight.plugins.module_utils.k8s.connection import connect
from ansible_collections.deploysafe.preflight.plugins.module_utils.k8s.rehearsal import (
    HealthCheck, RehearsalOptions, dry_run, rehearse)


def options(content, **kw):
    kw.setdefault("timeout", 60)
    kw.setdefault("run_id", f"t-{uuid.uuid4().hex[:8]}")
    return RehearsalOptions(content=content, **kw)


def test_clean_app_rolls_out_passes_and_the_namespace_is_gone(cluster, admin_api, app):
    token = secrets.token_hex(12)
    opts = options(manifests(config_map("app-config", LOG_LEVEL="info"),
                             app_deployment(config_map="app-config", secret="api"), job()),
                   secrets={"api": {"token": token}}, health=HealthCheck(url=app["url"] + "/healthz"))
    result = rehearse(admin_connection(cluster), opts)
    verdict = result["verdict"]
    assert verdict["status"] == "pass", verdict["summary"]
    assert measured(verdict, "rollout_seconds[Deployment/sample-app]")["ok"] is True
    assert measured(verdict, "rollout_seconds[Job/migrate]")["value"] > 0
    assert measured(verdict, "pods_ready")["value"] == 2 and measured(verdict, "restarts")["value"] == 0
    assert measured(verdict, "health_http_status")["value"] == 200
    assert result["copied"] == ["Secret/api"] and result["references"]["in_manifests"] == 1
    assert token not in repr(result)
    assert result["namespace"].startswith("rehearsal-") and result["namespace_deleted"] is True
    assert namespace_gone(admin_api, result["namespace"]) and not namespaces_of_run(admin_api, opts.run_id)


def test_never_ready_pods_fail_with_the_reason_and_the_namespace_is_still_deleted(cluster, admin_api):
    opts = options(manifests(app_deployment(simulate="never-ready")), timeout=8)
    result = rehearse(admin_connection(cluster), opts)
    verdict = result["verdict"]
    assert verdict["status"] == "fail"
    assert "Deployment/sample-app: not complete after 8s" in verdict["summary"]
    assert "ContainersNotReady" in verdict["summary"] or "Ready=False" in verdict["summary"]
    assert measured(verdict, "rollout_seconds[Deployment/sample-app]")["ok"] is False
    pods = result["diagnostics"]["pods"]
    assert pods and all(not p["ready"] and p["phase"] == "Running" for p in pods)
    assert all(v == "(no logs: simulated node)" for v in result["diagnostics"]["logs"].values())
    assert namespace_gone(admin_api, result["namespace"])


def test_crash_loop_ends_the_wait_early(cluster, admin_api):
    opts = options(manifests(app_deployment(simulate="crash-loop", replicas=1)), timeout=90)
    result = rehearse(admin_connection(cluster), opts)
    assert result["verdict"]["status"] == "fail"
    assert "crash-looping" in result["verdict"]["summary"]
    assert measured(result["verdict"], "rollout_seconds[Deployment/sample-app]")["value"] is None
    assert namespace_gone(admin_api, result["namespace"])


def test_missing_config_map_is_reported_before_anything_is_applied(cluster, admin_api):
    opts = options(manifests(app_deployment(config_map="app-config")))
    result = rehearse(admin_connection(cluster), opts)
    assert result["verdict"]["status"] == "fail"
    assert result["verdict"]["summary"] == ("missing reference(s), nothing applied: ConfigMap/app-config "
                                            "(used by Deployment/sample-app)")
    assert result["namespace"] is None and result["applied"] == []
    assert not namespaces_of_run(admin_api, opts.run_id)


def test_references_are_copied_from_the_source_namespace(cluster, admin_api, namespace):
    core = client.CoreV1Api(admin_api)
    core.create_namespaced_config_map(namespace, config_map("app-config", LOG_LEVEL="debug"))
    core.create_namespaced_secret(namespace, {"metadata": {"name": "api"}, "stringData": {"token": secrets.token_hex(8)}})
    opts = options(manifests(app_deployment(config_map="app-config", secret="api")), source_namespace=namespace)
    result = rehearse(admin_connection(cluster), opts)
    assert result["verdict"]["status"] == "pass", result["verdict"]["summary"]
    assert sorted(result["copied"]) == ["ConfigMap/app-config", "Secret/api"]


def test_keep_on_failure_keeps_a_labelled_namespace(cluster, admin_api):
    opts = options(manifests(app_deployment(simulate="never-ready", replicas=1)), timeout=3, keep_on_failure=True,
                   ttl_seconds=900)
    result = rehearse(admin_connection(cluster), opts)
    try:
        assert result["verdict"]["status"] == "fail" and result["kept"] is True
        ns = client.CoreV1Api(admin_api).read_namespace(result["namespace"])
        assert ns.metadata.labels["deploysafe.io/run-id"] == opts.run_id
        assert ns.metadata.labels["deploysafe.io/rehearsal"] == "deploy"
        assert ns.metadata.annotations["deploysafe.io/ttl-seconds"] == "900"
    finally:
        client.CoreV1Api(admin_api).delete_namespace(result["namespace"])


def test_check_mode_is_a_server_side_dry_run(cluster, admin_api):
    opts = options(manifests(app_deployment()))
    result = dry_run(admin_connection(cluster), opts)
    assert result["verdict"]["status"] == "pending" and result["changed"] is False
    assert not namespaces_of_run(admin_api, opts.run_id)
    assert client.AppsV1Api(admin_api).list_namespaced_deployment("default").items == []
    bad = app_deployment()
    bad["spec"]["replicas"] = -1
    result = dry_run(admin_connection(cluster), options(manifests(bad)))
    assert result["verdict"]["status"] == "fail" and "spec.replicas" in result["verdict"]["summary"]


def test_restricted_user_is_told_what_is_forbidden(cluster):
    conn = connect({"kubeconfig": cluster["kubeconfig_restricted"]})
    with pytest.raises(K8sError, match=r"^forbidden: create namespaces \(.*; no namespace was created"):
        rehearse(conn, options(manifests(app_deployment())))
