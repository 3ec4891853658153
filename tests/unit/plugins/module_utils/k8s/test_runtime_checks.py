"""Runtime security rules on plain dicts: the effective user, label selectors (NetworkPolicy podSelector),
token automount, service-account bindings, RBAC wildcards, fingerprints and the baseline diff."""

from __future__ import annotations

import json

import pytest

from ansible_collections.deploysafe.preflight.plugins.module_utils.k8s import K8sError
from ansible_collections.deploysafe.preflight.plugins.module_utils.k8s.labels import selector_matches
from ansible_collections.deploysafe.preflight.plugins.module_utils.k8s.runtime_checks import (
    Binding, Inventory, Workload, binds_service_account, check_inventory, effective_root, selected_by_network_policy,
    token_automounted, wildcard_rules,
)
from ansible_collections.deploysafe.preflight.plugins.module_utils.k8s.runtime_snapshot import (
    diff_findings, load_baseline, snapshot_document, write_snapshot,
)


@pytest.mark.parametrize("pod_sc, container_sc, expected", [
    ({}, {}, "unknown"),                                            # the image's USER decides
    ({"runAsNonRoot": True}, {}, "non-root"),
    ({"runAsUser": 1000}, {}, "non-root"),
    ({}, {"runAsUser": 0}, "root"),
    ({"runAsUser": 1000}, {"runAsUser": 0}, "root"),               # the container overrides the pod
    ({"runAsUser": 0}, {"runAsUser": 1000}, "non-root"),
    ({"runAsNonRoot": True}, {"runAsNonRoot": False}, "unknown"),  # overridden back to "not enforced"
    ({"runAsNonRoot": False}, {"runAsNonRoot": True}, "non-root"),
    ({"runAsNonRoot": True}, {"runAsUser": 0}, "root"),            # asks for uid 0: the kubelet refuses, still root
    ({"runAsUser": 0, "runAsNonRoot": True}, {"runAsUser": 10}, "non-root"),
])
def test_effective_root_container_overrides_pod(pod_sc, container_sc, expected):
    pod = {"securityContext": pod_sc, "containers": []}
    assert effective_root(pod, {"name": "app", "securityContext": container_sc}) == expected


@pytest.mark.parametrize("selector, labels, expected", [
    ({}, {"app": "web"}, True),                                     # {} selects every pod
    ({}, {}, True),
    (None, {"app": "web"}, False),                                  # no selector selects nothing
    ({"matchLabels": {"app": "web"}}, {"app": "web", "tier": "fe"}, True),
    ({"matchLabels": {"app": "web"}}, {"app": "api"}, False),
    ({"matchExpressions": [{"key": "app", "operator": "In", "values": ["web", "api"]}]}, {"app": "api"}, True),
    ({"matchExpressions": [{"key": "app", "operator": "In", "values": ["web"]}]}, {}, False),
    ({"matchExpressions": [{"key": "app", "operator": "NotIn", "values": ["web"]}]}, {}, True),
    ({"matchExpressions": [{"key": "app", "operator": "NotIn", "values": ["web"]}]}, {"app": "web"}, False),
    ({"matchExpressions": [{"key": "canary", "operator": "Exists"}]}, {"canary": ""}, True),
    ({"matchExpressions": [{"key": "canary", "operator": "DoesNotExist"}]}, {"canary": "1"}, False),
    ({"matchLabels": {"app": "web"}, "matchExpressions": [{"key": "tier", "operator": "Exists"}]}, {"app": "web"}, False),
    ({"matchExpressions": [{"key": "app", "operator": "Near", "values": ["web"]}]}, {"app": "web"}, False),
])
def test_label_selector_semantics(selector, labels, expected):
    assert selector_matches(selector, labels) is expected


def test_network_policy_selection_names_the_policies():
    policies = [{"metadata": {"name": "deny-all"}, "spec": {"podSelector": {}}},
                {"metadata": {"name": "api"}, "spec": {"podSelector": {"matchLabels": {"app": "api"}}}}]
    assert selected_by_network_policy({"app": "api"}, policies) == ["deny-all", "api"]
    assert selected_by_network_policy({"app": "web"}, policies[1:]) == []


@pytest.mark.parametrize("pod, sa, expected", [
    ({}, None, True),
    ({}, {"automountServiceAccountToken": False}, False),
    ({"automountServiceAccountToken": True}, {"automountServiceAccountToken": False}, True),  # the pod wins
    ({"automountServiceAccountToken": False}, {}, False),
])
def test_token_automount_pod_overrides_service_account(pod, sa, expected):
    assert token_automounted(pod, sa) is expected


def test_service_account_bound_directly_or_through_its_groups():
    rb = Binding("RoleBinding/r", "Role/x", [{"kind": "ServiceAccount", "name": "app"}], [], namespace="shop")
    assert binds_service_account(rb, "app", "shop")
    assert not binds_service_account(rb, "app", "other") and not binds_service_account(rb, "web", "shop")
    group = Binding("ClusterRoleBinding/g", "ClusterRole/view", [{"kind": "Group", "name": "system:serviceaccounts:shop"}])
    assert binds_service_account(group, "anything", "shop") and not binds_service_account(group, "anything", "other")
    user = Binding("RoleBinding/u", "Role/x", [{"kind": "User", "name": "app"}], [], namespace="shop")
    assert not binds_service_account(user, "app", "shop")


def test_wildcard_rules():
    assert wildcard_rules([{"verbs": ["get"], "resources": ["pods"]}]) == []
    assert wildcard_rules([{"verbs": ["*"], "resources": ["pods"]}, {"verbs": ["get"], "resources": ["*"]}]) == \
        ["* on pods", "get on *"]


def inventory(namespace="shop", **spec_extra):
    spec = {"automountServiceAccountToken": False, "securityContext": {"runAsNonRoot": True},
            "containers": [{"name": "app", "image": "registry.local/app:1"}], **spec_extra}
    return Inventory(namespace=namespace, workloads=[Workload("Deployment/web", spec, {"app": "web"}, "/spec", ["web-1"])],
                     network_policies=[{"metadata": {"name": "web"}, "spec": {"podSelector": {"matchLabels": {"app": "web"}}}}])


def test_a_clean_workload_has_no_finding():
    assert check_inventory(inventory()) == []


def test_findings_and_fingerprints_do_not_depend_on_the_namespace():
    risky = {"hostPID": True, "containers": [{"name": "app", "securityContext": {"privileged": True, "runAsUser": 0},
                                              "env": [{"name": "PW", "valueFrom": {"secretKeyRef": {"name": "db", "key": "pw"}}}]}]}
    here, there = check_inventory(inventory("shop", **risky)), check_inventory(inventory("shop-staging", **risky))
    assert {f.check_id for f in here} == {"runtime.host-namespaces", "runtime.privileged", "runtime.run-as-root",
                                          "runtime.secret-env"}
    assert sorted(f.fingerprint for f in here) == sorted(f.fingerprint for f in there)
    assert all(f.location.file == "Deployment/web" for f in here)


def test_replicas_of_one_workload_give_one_finding():
    inv = inventory(containers=[{"name": "app", "securityContext": {"privileged": True}}])
    inv.workloads.append(Workload("Deployment/web", inv.workloads[0].spec, {"app": "web"}, "/spec", ["web-2"]))
    assert [f.check_id for f in check_inventory(inv)] == ["runtime.privileged"]


def test_cluster_admin_binding_is_critical_and_names_the_subjects():
    inv = inventory()
    inv.bindings = [Binding("RoleBinding/ops", "ClusterRole/cluster-admin", [{"kind": "ServiceAccount", "name": "ops"}],
                            [{"apiGroups": ["*"], "verbs": ["*"], "resources": ["*"]}], "shop"),
                    Binding("RoleBinding/gone", "Role/missing", [{"kind": "User", "name": "x"}], None, "shop")]
    (finding,) = check_inventory(inv)
    assert finding.check_id == "runtime.rbac-wildcard" and finding.severity == "critical"
    assert "ServiceAccount/ops" in finding.message and finding.location.file == "RoleBinding/ops"


def test_diff_against_a_baseline_by_fingerprint(tmp_path):
    before = check_inventory(inventory(containers=[{"name": "old", "securityContext": {"privileged": True}}]))
    path = tmp_path / "snap.json"
    write_snapshot(str(path), snapshot_document("shop", "2026-12-01T00:00:00Z", "https://api", before, {}, diff_findings(before, None), None))
    baseline = load_baseline(str(path))
    now = check_inventory(inventory(containers=[{"name": "new", "securityContext": {"privileged": True}}]))
    diff = diff_findings(now, baseline)
    assert [f.message for f in diff.new] == ["Deployment/web: container new is privileged"]
    assert [d["message"] for d in diff.fixed] == ["Deployment/web: container old is privileged"]
    assert diff_findings(before, baseline).new == [] and len(diff_findings(before, baseline).unchanged) == 1
    assert diff_findings(now, None).new == now                       # no baseline: everything is new


def test_baseline_that_is_not_a_snapshot_is_an_error(tmp_path):
    assert load_baseline(str(tmp_path / "absent.json")) is None
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"findings": []}))
    with pytest.raises(K8sError, match="bad.json is not a runtime security snapshot"):
        load_baseline(str(bad))
    bad.write_text("{")
    with pytest.raises(K8sError, match="is not JSON"):
        load_baseline(str(bad))
