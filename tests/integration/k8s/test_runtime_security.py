"""Runtime security snapshot against the harness API server (kwok nodes run the pods): a clean namespace
passes, every check fires on its planted defect, the diff against the last release's snapshot fails on
a newly privileged container only and reports the fixed one, an empty namespace is pending, restricted
credentials are told what is forbidden, and the role authenticates from K8S_AUTH_* through a playbook."""

from __future__ import annotations

import json
import os

import pytest
from kubernetes import client

from k8s_workloads import wait_for
from rehearsal_helpers import ROLE_PLAY, admin_connection

from ansible_collections.deploysafe.preflight.plugins.module_utils.k8s import K8sError
from ansible_collections.deploysafe.preflight.plugins.module_utils.k8s.connection import connect
from ansible_collections.deploysafe.preflight.plugins.module_utils.k8s.runtime_security import (
    SnapshotOptions, take_snapshot,
)

NON_ROOT = {"runAsNonRoot": True, "runAsUser": 10001}


def deployment(name, containers=None, replicas=1, netpol="on", **pod_spec):
    """A Deployment whose pods are clean unless told otherwise (non-root, no token, labelled for the
    namespace's NetworkPolicy)."""
    labels = {"app": name, "netpol": netpol}
    spec = {"automountServiceAccountToken": False, "securityContext": dict(NON_ROOT),
            "containers": containers or [{"name": "app", "image": "registry.local/app:1"}]}
    spec.update(pod_spec)
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name},
            "spec": {"replicas": replicas, "selector": {"matchLabels": labels},
                     "template": {"metadata": {"labels": labels}, "spec": spec}}}


def network_policy(name="covered"):
    """Selects the pods labelled netpol=on through matchExpressions."""
    return {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy", "metadata": {"name": name},
            "spec": {"podSelector": {"matchExpressions": [{"key": "netpol", "operator": "In", "values": ["on"]}]},
                     "policyTypes": ["Ingress"]}}


def create(admin_api, namespace, *objects):
    apps, net = client.AppsV1Api(admin_api), client.NetworkingV1Api(admin_api)
    core, rbac, batch = client.CoreV1Api(admin_api), client.RbacAuthorizationV1Api(admin_api), client.BatchV1Api(admin_api)
    calls = {"Deployment": apps.create_namespaced_deployment, "NetworkPolicy": net.create_namespaced_network_policy,
             "ServiceAccount": core.create_namespaced_service_account, "Role": rbac.create_namespaced_role,
             "RoleBinding": rbac.create_namespaced_role_binding, "CronJob": batch.create_namespaced_cron_job}
    for obj in objects:
        calls[obj["kind"]](namespace, obj)


def pods_of(admin_api, namespace, count):
    """Wait until `count` pods exist (and none is being deleted) in the namespace."""
    core = client.CoreV1Api(admin_api)

    def settled():
        pods = core.list_namespaced_pod(namespace).items
        return len(pods) == count and not any(p.metadata.deletion_timestamp for p in pods)
    wait_for(f"{count} pod(s) in {namespace}", settled, timeout=90)


def snapshot(cluster, namespace, tmp_path, name="snapshot.json", **options):
    opts = SnapshotOptions(namespace=namespace, snapshot_path=str(tmp_path / name), **options)
    return take_snapshot(admin_connection(cluster), opts)


def by_check(result):
    return {(f["check_id"], f["location"]["file"]) for f in result["findings"]}


def test_clean_namespace_passes_and_check_mode_writes_nothing(cluster, admin_api, namespace, tmp_path):
    create(admin_api, namespace, deployment("web", replicas=2), network_policy())
    pods_of(admin_api, namespace, 2)
    planned = take_snapshot(admin_connection(cluster), SnapshotOptions(
        namespace=namespace, snapshot_path=str(tmp_path / "plan.json"), report_dir=str(tmp_path / "plan")), True)
    assert planned["snapshot"]["written"] is False and not (tmp_path / "plan.json").exists()
    assert not (tmp_path / "plan").exists() and planned["verdict"]["status"] == "pass"

    result = snapshot(cluster, namespace, tmp_path, report_dir=str(tmp_path / "reports"))
    assert result["verdict"]["status"] == "pass", result["verdict"]["summary"]
    assert result["findings"] == [] and result["inspected"]["pods"] == 2
    measured = {m["name"]: m["value"] for m in result["verdict"]["evidence"]["measurements"]}
    assert measured["pods_inspected"] == 2 and measured["new_findings"] == 0
    kinds = {a["kind"]: a for a in result["verdict"]["evidence"]["artifacts"]}
    saved = json.loads((tmp_path / "snapshot.json").read_text())
    assert kinds["runtime-snapshot"]["path"] == str(tmp_path / "snapshot.json") and len(kinds["runtime-snapshot"]["sha256"]) == 64
    assert saved["namespace"] == namespace and saved["findings"] == [] and saved["inspected"]["pods"] == 2
    assert sorted(os.listdir(tmp_path / "reports")) == ["runtime_security.json", "runtime_security.junit.xml",
                                                      "runtime_security.md", "runtime_security.sarif"]


def test_each_check_fires_on_its_planted_defect(cluster, admin_api, namespace, tmp_path):
    secret_env = [{"name": "DB_PASSWORD", "valueFrom": {"secretKeyRef": {"name": "db", "key": "password"}}}]
    create(
        admin_api, namespace, network_policy(),
        {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "ops"}},
        {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "reader"}},
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role", "metadata": {"name": "pod-reader"},
         "rules": [{"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "list"]}]},
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role", "metadata": {"name": "anything-on-pods"},
         "rules": [{"apiGroups": [""], "resources": ["pods"], "verbs": ["*"]}]},
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding", "metadata": {"name": "reader"},
         "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "pod-reader"},
         "subjects": [{"kind": "ServiceAccount", "name": "reader"}]},
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding", "metadata": {"name": "ops-admin"},
         "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "cluster-admin"},
         "subjects": [{"kind": "ServiceAccount", "name": "ops"}]},
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding", "metadata": {"name": "pods-any-verb"},
         "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "anything-on-pods"},
         "subjects": [{"kind": "User", "name": "someone"}]},
        deployment("priv", [{"name": "app", "image": "registry.local/app:1", "securityContext": {"privileged": True}},
                            {"name": "sidecar", "image": "registry.local/sc:1",
                             "securityContext": {"capabilities": {"add": ["SYS_ADMIN"]}}}]),
        deployment("hosty", hostNetwork=True, volumes=[{"name": "docker", "hostPath": {"path": "/var/run/docker.sock"}}]),
        deployment("rooty", [{"name": "app", "image": "registry.local/app:1", "securityContext": {"runAsUser": 0}}]),
        deployment("maybe", securityContext={}),
        deployment("tokens", automountServiceAccountToken=None),                  # default SA, bound to nothing
        deployment("reader", automountServiceAccountToken=None, serviceAccountName="reader"),  # used token: fine
        deployment("loose", netpol="off"),                                         # the NetworkPolicy misses it
        deployment("secrets", [{"name": "app", "image": "registry.local/app:1", "env": secret_env,
                                "envFrom": [{"secretRef": {"name": "api-keys"}}]}]),
        {"apiVersion": "batch/v1", "kind": "CronJob", "metadata": {"name": "nightly"},
         "spec": {"schedule": "0 3 1 1 *", "jobTemplate": {"spec": {"template": {
             "metadata": {"labels": {"netpol": "on"}},
             "spec": {"restartPolicy": "Never", "automountServiceAccountToken": False, "securityContext": NON_ROOT,
                      "containers": [{"name": "job", "image": "registry.local/job:1"}],
                      "volumes": [{"name": "host", "hostPath": {"path": "/etc"}}]}}}}}},
    )
    pods_of(admin_api, namespace, 8)
    result = snapshot(cluster, namespace, tmp_path)
    found = by_check(result)
    expected = {
        ("runtime.privileged", "Deployment/priv"), ("runtime.capabilities", "Deployment/priv"),
        ("runtime.host-namespaces", "Deployment/hosty"), ("runtime.host-path", "Deployment/hosty"),
        ("runtime.host-path", "CronJob/nightly"),
        ("runtime.run-as-root", "Deployment/rooty"), ("runtime.may-run-as-root", "Deployment/maybe"),
        ("runtime.unused-token-automount", "Deployment/tokens"),
        ("runtime.rbac-wildcard", "RoleBinding/ops-admin"), ("runtime.rbac-wildcard", "RoleBinding/pods-any-verb"),
        ("runtime.no-network-policy", "Deployment/loose"),
        ("runtime.secret-env", "Deployment/secrets"),
    }
    assert expected <= found, sorted(found)
    assert not {f for f in found if f[1] in ("Deployment/reader",)}, "a token its service account uses is no finding"
    assert sum(1 for f in result["findings"] if f["check_id"] == "runtime.secret-env") == 2   # env and envFrom
    assert {f["location"]["file"].split("/")[0] for f in result["findings"]} == {"Deployment", "CronJob", "RoleBinding"}
    severities = {(f["check_id"], f["location"]["file"]): f["severity"] for f in result["findings"]}
    assert severities[("runtime.rbac-wildcard", "RoleBinding/ops-admin")] == "critical"
    assert severities[("runtime.rbac-wildcard", "RoleBinding/pods-any-verb")] == "high"
    assert result["inspected"] == {"pods": 8, "templates": 1, "workloads": 9, "bindings": 3}
    assert result["verdict"]["status"] == "fail"
    assert "new: [critical] runtime" in result["verdict"]["summary"]
    assert "db" not in json.dumps([f["evidence_redacted"] for f in result["findings"]])


def test_diff_fails_on_the_newly_privileged_container_and_reports_the_fixed_one(cluster, admin_api, namespace, tmp_path):
    privileged = [{"name": "app", "image": "registry.local/app:1", "securityContext": {"privileged": True}}]
    create(admin_api, namespace, network_policy(), deployment("legacy", privileged), deployment("web"))
    pods_of(admin_api, namespace, 2)
    first = snapshot(cluster, namespace, tmp_path, "release-1.json")
    assert first["verdict"]["status"] == "fail" and first["baseline"] is None   # no baseline: everything is new

    # nothing changed since the release: the known privileged container does not fail the next one
    same = snapshot(cluster, namespace, tmp_path, "release-1b.json", baseline=str(tmp_path / "release-1.json"))
    assert same["verdict"]["status"] == "pass", same["verdict"]["summary"]
    assert same["diff"] == {"new": [], "fixed": [], "unchanged": 1} and same["counts"]["critical"] == 1

    # the release adds a privileged container and drops the old one
    create(admin_api, namespace, deployment("agent", privileged))
    client.AppsV1Api(admin_api).delete_namespaced_deployment("legacy", namespace)
    pods_of(admin_api, namespace, 2)
    wait_for("legacy pods gone", lambda: not client.CoreV1Api(admin_api).list_namespaced_pod(
        namespace, label_selector="app=legacy").items)
    second = snapshot(cluster, namespace, tmp_path, "release-2.json", baseline=str(tmp_path / "release-1.json"))
    verdict = second["verdict"]
    assert verdict["status"] == "fail"
    assert "new: [critical] runtime.privileged Deployment/agent: container app is privileged" in verdict["summary"]
    assert "legacy" not in verdict["summary"].split("new:")[1]
    assert [d["message"] for d in second["diff"]["new"]] == ["Deployment/agent: container app is privileged"]
    assert [d["message"] for d in second["diff"]["fixed"]] == ["Deployment/legacy: container app is privileged"]
    measured = {m["name"]: m for m in verdict["evidence"]["measurements"]}
    assert measured["new_findings"]["value"] == 1 and measured["fixed_findings"]["value"] == 1
    assert measured["findings_at_or_above_threshold"]["ok"] is False
    saved = json.loads((tmp_path / "release-2.json").read_text())
    assert saved["baseline"]["new"] == 1 and saved["baseline"]["fixed"] == 1


def test_empty_namespace_is_pending(cluster, namespace, tmp_path):
    result = snapshot(cluster, namespace, tmp_path)
    assert result["verdict"]["status"] == "pending"
    assert "nothing to inspect" in result["verdict"]["summary"]


def test_restricted_credentials_are_told_what_is_forbidden(cluster, namespace, tmp_path):
    conn = connect({"kubeconfig": cluster["kubeconfig_restricted"], "request_timeout": 15})
    path = tmp_path / "snapshot.json"
    with pytest.raises(K8sError, match=rf"^forbidden: list pods in namespace {namespace} \("):
        take_snapshot(conn, SnapshotOptions(namespace=namespace, snapshot_path=str(path)))
    # in its own namespace it may list pods, not CronJobs: a partial read is never judged
    with pytest.raises(K8sError, match=rf"^forbidden: list cronjobs in namespace {cluster['restricted_namespace']}"):
        take_snapshot(conn, SnapshotOptions(namespace=cluster["restricted_namespace"], snapshot_path=str(path)))
    assert not path.exists()


def test_role_authenticates_from_k8s_auth_environment_and_gates(cluster, admin_api, namespace, ansible_playbook, tmp_path):
    create(admin_api, namespace, network_policy(), deployment("web"))
    pods_of(admin_api, namespace, 1)
    env = {"K8S_AUTH_KUBECONFIG": cluster["kubeconfig"], "KUBECONFIG": str(tmp_path / "absent")}
    run_dir = tmp_path / "run"
    play = ROLE_PLAY.format(run_dir=run_dir, role="runtime_security",
                            vars=json.dumps({"runtime_security_namespace": namespace}))
    proc = ansible_playbook(play, extra_env=env)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    record = json.loads((run_dir / "runtime_security.json").read_text())
    assert record["verdict"]["status"] == "pass", record["verdict"]["summary"]
    assert record["producer"]["modules"] == ["runtime_security_snapshot"]
    assert (run_dir / "runtime_security" / "snapshot.json").exists()

    # the next release adds a privileged container; the saved snapshot is the baseline
    create(admin_api, namespace, deployment("agent", [{"name": "app", "image": "registry.local/app:1",
                                                       "securityContext": {"privileged": True}}]))
    pods_of(admin_api, namespace, 2)
    role_vars = {"runtime_security_namespace": namespace,
                 "runtime_security_baseline": str(run_dir / "runtime_security" / "snapshot.json")}
    play = ROLE_PLAY.format(run_dir=tmp_path / "run2", role="runtime_security", vars=json.dumps(role_vars))
    proc = ansible_playbook(play, extra_env=env)
    assert proc.returncode != 0
    assert "runtime_security is fail (fail_on pending)" in proc.stdout and "Deployment/agent" in proc.stdout
    record = json.loads((tmp_path / "run2" / "runtime_security.json").read_text())
    assert record["details"]["diff"]["new"][0]["check_id"] == "runtime.privileged"
