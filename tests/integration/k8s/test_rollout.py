"""Deployments on the local control plane behave like on a cluster: the real controllers create
ReplicaSets and pods, kwok makes them Ready, rollouts and rollbacks produce revisions."""

from __future__ import annotations

from kubernetes import client

from k8s_workloads import pod_ready, revision, rollout_complete, sample_deployment, wait_for


def test_fake_nodes_are_ready(admin_api, cluster):
    nodes = client.CoreV1Api(admin_api).list_node().items
    assert sorted(n.metadata.name for n in nodes) == sorted(cluster["nodes"])
    for node in nodes:
        assert [c.status for c in node.status.conditions if c.type == "Ready"] == ["True"]


def _replica_sets(apps, namespace):
    return {revision(rs): rs for rs in apps.list_namespaced_replica_set(namespace).items}


def test_deployment_rolls_out_updates_and_rolls_back(admin_api, namespace):
    apps, core = client.AppsV1Api(admin_api), client.CoreV1Api(admin_api)
    apps.create_namespaced_deployment(namespace, sample_deployment(image="registry.local/sample-app:1.0.0"))

    dep = wait_for("first rollout", lambda: rollout_complete(apps, namespace, "sample-app"))
    assert revision(dep) == "1"
    rs1 = _replica_sets(apps, namespace)["1"]
    assert rs1.metadata.owner_references[0].name == "sample-app"
    pods = core.list_namespaced_pod(namespace, label_selector="app.kubernetes.io/name=sample-app").items
    assert len(pods) == 3 and all(pod_ready(p) and p.spec.node_name.startswith("kwok-node-") for p in pods)
    assert {c.reason for c in dep.status.conditions if c.type == "Progressing"} == {"NewReplicaSetAvailable"}

    # Image change: a second ReplicaSet, revision 2, old one scaled to zero.
    apps.patch_namespaced_deployment("sample-app", namespace, {"spec": {"template": {"spec": {"containers": [
        {"name": "app", "image": "registry.local/sample-app:1.1.0"}]}}}})
    dep = wait_for("second rollout", lambda: rollout_complete(apps, namespace, "sample-app"))
    assert revision(dep) == "2"
    sets = _replica_sets(apps, namespace)
    assert set(sets) == {"1", "2"}
    assert sets["2"].spec.template.spec.containers[0].image == "registry.local/sample-app:1.1.0"
    assert sets["1"].spec.replicas == 0

    # Roll back the way `kubectl rollout undo` does: put revision 1's template back. The controller
    # reuses the old ReplicaSet and gives it revision 3.
    template = client.ApiClient().sanitize_for_serialization(rs1.spec.template)
    template["metadata"]["labels"].pop("pod-template-hash")
    apps.patch_namespaced_deployment("sample-app", namespace, {"spec": {"template": template}})
    dep = wait_for("rollback", lambda: rollout_complete(apps, namespace, "sample-app"))
    assert revision(dep) == "3"
    sets = _replica_sets(apps, namespace)
    assert set(sets) == {"2", "3"}
    assert sets["3"].metadata.name == rs1.metadata.name
    assert sets["3"].spec.template.spec.containers[0].image == "registry.local/sample-app:1.0.0"
    assert sets["3"].spec.replicas == 3 and sets["2"].spec.replicas == 0


def test_rollout_to_never_ready_pods_stalls_and_exceeds_its_deadline(admin_api, namespace):
    apps = client.AppsV1Api(admin_api)
    dep = sample_deployment(replicas=2)
    dep["spec"]["progressDeadlineSeconds"] = 3
    apps.create_namespaced_deployment(namespace, dep)
    wait_for("first rollout", lambda: rollout_complete(apps, namespace, "sample-app"))

    apps.patch_namespaced_deployment("sample-app", namespace, {"spec": {"template": {"metadata": {
        "annotations": {"deploysafe.io/simulate": "never-ready"}}}}})

    def deadline_exceeded():
        d = apps.read_namespaced_deployment("sample-app", namespace)
        return d if any(c.type == "Progressing" and c.reason == "ProgressDeadlineExceeded"
                        for c in d.status.conditions or []) else None
    d = wait_for("ProgressDeadlineExceeded", deadline_exceeded)
    assert revision(d) == "2"
    # maxUnavailable 0: the old pods keep serving, the new one never becomes available.
    assert d.status.available_replicas == 2 and d.status.updated_replicas == 1
    assert rollout_complete(apps, namespace, "sample-app") is None
