"""rollback_rehearsal against the real control plane: N -> N+1 -> back to N for Deployments and
StatefulSets, a pruned history, an SLA below the measured time, a candidate that never gets Ready,
version N read from a live namespace."""

from __future__ import annotations

import uuid

from kubernetes import client

from k8s_workloads import rollout_complete, wait_for
from rehearsal_helpers import admin_connection, app_deployment, manifests, measured, namespace_gone, statefulset

from ansible_collections.deploysafe.preflight.plugins.module_utils.k8s.rollback import RollbackOptions, rehearse_rollback

V1, V2 = "registry.local/sample-app:1.0.0", "registry.local/sample-app:1.1.0"


def options(current, candidate, **kw):
    kw.setdefault("timeout", 60)
    return RollbackOptions(current_content=current, content=candidate, run_id=f"t-{uuid.uuid4().hex[:8]}", **kw)


def test_deployment_rolls_back_to_version_n_within_the_sla(cluster, admin_api):
    opts = options(manifests(app_deployment(V1)), manifests(app_deployment(V2)), max_rollback_seconds=300,
                   production_replicas={"Deployment/sample-app": 20})
    result = rehearse_rollback(admin_connection(cluster), opts)
    verdict = result["verdict"]
    assert verdict["status"] == "pass", verdict["summary"]
    assert set(result["phases"]) == {"deploy_current", "deploy_candidate", "rollback"}
    assert all(seconds > 0 for seconds in result["phases"].values())
    assert result["revisions"]["current"]["Deployment/sample-app"]["images"] == [V1]
    assert measured(verdict, "previous_version_available")["value"] is True
    assert measured(verdict, "images_restored")["value"] is True
    # 2 replicas rehearsed, 20 in production: the estimate scales the observed time per replica
    per_workload = measured(verdict, "rollback_seconds[Deployment/sample-app]")["value"]
    assert result["rollback_estimate_seconds"] == round(per_workload / 2 * 20, 2)
    assert measured(verdict, "rollback_estimate_seconds")["ok"] is True
    assert namespace_gone(admin_api, result["namespace"])


def test_statefulset_rolls_back_from_its_controller_revision(cluster, admin_api):
    opts = options(manifests(statefulset("registry.local/db:1.0")), manifests(statefulset("registry.local/db:1.1")))
    result = rehearse_rollback(admin_connection(cluster), opts)
    assert result["verdict"]["status"] == "pass", result["verdict"]["summary"]
    assert result["revisions"]["current"]["StatefulSet/db"]["kind"] == "ControllerRevision"
    assert namespace_gone(admin_api, result["namespace"])


def test_pruned_history_means_previous_version_unavailable(cluster, admin_api):
    opts = options(manifests(app_deployment(V1, history_limit=0)), manifests(app_deployment(V2, history_limit=0)))
    result = rehearse_rollback(admin_connection(cluster), opts)
    verdict = result["verdict"]
    assert verdict["status"] == "fail"
    assert "Deployment/sample-app: previous version unavailable" in verdict["summary"]
    assert "revisionHistoryLimit 0" in verdict["summary"]
    assert measured(verdict, "previous_version_available")["ok"] is False
    assert "rollback" not in result["phases"] and namespace_gone(admin_api, result["namespace"])


def test_sla_below_the_measured_time_fails_with_the_measured_time(cluster, admin_api):
    opts = options(manifests(app_deployment(V1)), manifests(app_deployment(V2)), max_rollback_seconds=0.01)
    result = rehearse_rollback(admin_connection(cluster), opts)
    verdict = result["verdict"]
    assert verdict["status"] == "fail"
    took = result["phases"]["rollback"]
    assert f"rollback took {took:.1f}s, over the SLA of 0s" in verdict["summary"]
    assert measured(verdict, "rollback_seconds") == {"name": "rollback_seconds", "value": took, "unit": "s",
                                                     "threshold": 0.01, "comparison": "<=", "ok": False}


def test_a_never_ready_candidate_is_rolled_back(cluster, admin_api):
    candidate = app_deployment(V2)
    candidate["spec"]["template"]["metadata"]["annotations"] = {"deploysafe.io/simulate": "never-ready"}
    opts = options(manifests(app_deployment(V1)), manifests(candidate), timeout=10)
    result = rehearse_rollback(admin_connection(cluster), opts)
    assert result["verdict"]["status"] == "pass", result["verdict"]["summary"]
    assert measured(result["verdict"], "candidate_rolled_out")["value"] is False
    assert "not complete after 10s" in result["candidate_problems"][0]


def test_version_n_is_read_from_the_live_namespace(cluster, admin_api, namespace):
    apps = client.AppsV1Api(admin_api)
    apps.create_namespaced_deployment(namespace, app_deployment(V1, replicas=3))
    wait_for("production rollout", lambda: rollout_complete(apps, namespace, "sample-app"))
    opts = RollbackOptions(current_namespace=namespace, content=manifests(app_deployment(V2, replicas=3)), timeout=60)
    result = rehearse_rollback(admin_connection(cluster), opts)
    assert result["verdict"]["status"] == "pass", result["verdict"]["summary"]
    assert result["revisions"]["current"]["Deployment/sample-app"]["images"] == [V1]
    # the production namespace is untouched
    assert apps.read_namespaced_deployment("sample-app", namespace).spec.template.spec.containers[0].image == V1
