"""Objects the harness creates once the API server is up: fake nodes and a restricted deployer."""

from __future__ import annotations

from typing import Iterable, List

from deploysafe_testenv.k8s.api import ApiClient

RESTRICTED_NAMESPACE = "preflight-restricted"
RESTRICTED_USER = "preflight-deployer"
RESTRICTED_GROUP = "preflight-deployers"
NODE_NAMES = ("kwok-node-0", "kwok-node-1", "kwok-node-2")

# What a deployer needs for apply, rollout status/history/undo and reading why pods fail, in its
# own namespace only. Nothing cluster-wide: anything outside the namespace is a real 403.
DEPLOYER_RULES = [
    {"apiGroups": ["apps"], "resources": ["deployments", "replicasets", "statefulsets", "daemonsets"],
     "verbs": ["get", "list", "watch", "create", "update", "patch", "delete"]},
    {"apiGroups": ["apps"], "resources": ["deployments/scale", "deployments/status"], "verbs": ["get", "update", "patch"]},
    {"apiGroups": [""], "resources": ["pods", "services", "configmaps", "serviceaccounts", "persistentvolumeclaims"],
     "verbs": ["get", "list", "watch", "create", "update", "patch", "delete"]},
    {"apiGroups": [""], "resources": ["events", "endpoints"], "verbs": ["get", "list", "watch"]},
    {"apiGroups": ["events.k8s.io"], "resources": ["events"], "verbs": ["get", "list", "watch"]},
    {"apiGroups": ["discovery.k8s.io"], "resources": ["endpointslices"], "verbs": ["get", "list", "watch"]},
    {"apiGroups": ["policy"], "resources": ["poddisruptionbudgets"],
     "verbs": ["get", "list", "watch", "create", "update", "patch", "delete"]},
]


def fake_node(name: str) -> dict:
    """A Node for kwok to manage. No kwok taint: unmodified manifests should schedule onto it."""
    return {
        "apiVersion": "v1", "kind": "Node",
        "metadata": {"name": name, "annotations": {"kwok.x-k8s.io/node": "fake"},
                     "labels": {"kubernetes.io/hostname": name, "kubernetes.io/os": "linux",
                                "kubernetes.io/arch": "amd64", "type": "kwok"}},
        "status": {"allocatable": {"cpu": "16", "memory": "64Gi", "pods": "110"},
                   "capacity": {"cpu": "16", "memory": "64Gi", "pods": "110"}},
    }


def create_fake_nodes(api: ApiClient, names: Iterable[str] = NODE_NAMES) -> List[str]:
    names = list(names)
    for name in names:
        api.create("/api/v1/nodes", fake_node(name))
    return names


def create_restricted_access(api: ApiClient, namespace: str = RESTRICTED_NAMESPACE,
                             user: str = RESTRICTED_USER) -> None:
    """Namespace + Role `deployer` + RoleBinding of `user` to it."""
    api.create("/api/v1/namespaces", {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}})
    rbac = f"/apis/rbac.authorization.k8s.io/v1/namespaces/{namespace}"
    api.create(f"{rbac}/roles", {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
                                 "metadata": {"name": "deployer", "namespace": namespace},
                                 "rules": DEPLOYER_RULES})
    api.create(f"{rbac}/rolebindings", {
        "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
        "metadata": {"name": f"deployer-{user}", "namespace": namespace},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "deployer"},
        "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": user}]})


def nodes_schedulable(api: ApiClient, names: Iterable[str]) -> bool:
    """True when every node is Ready and no longer carries the not-ready taint (removed by the
    controller-manager once kwok reports Ready); before that, pods stay Pending."""
    items = {n["metadata"]["name"]: n for n in api.get("/api/v1/nodes")["items"]}
    for name in names:
        node = items.get(name)
        if node is None:
            return False
        ready = [c for c in node.get("status", {}).get("conditions", []) if c["type"] == "Ready"]
        if not ready or ready[0]["status"] != "True":
            return False
        if any(t["key"].startswith("node.kubernetes.io/") for t in node["spec"].get("taints", [])):
            return False
    return True


def default_service_account_exists(api: ApiClient, namespace: str) -> bool:
    """ServiceAccount admission rejects pods until the controller-manager creates `default`."""
    api.get(f"/api/v1/namespaces/{namespace}/serviceaccounts/default")
    return True
