"""workload_rollback through ansible-playbook: check mode first (diff, nothing changes), a rollback to
a given revision, a second run unchanged, a StatefulSet to its previous revision, a pruned revision."""

from __future__ import annotations

import yaml
from kubernetes import client

from k8s_workloads import rollout_complete, wait_for
from rehearsal_helpers import app_deployment, run_module, statefulset


def rollback(ansible_playbook, tmp_path, cluster, namespace, kind, name, target, *args):
    """Run workload_rollback with target (YAML, e.g. "to_revision: 1") through ansible-playbook."""
    module_args = dict(kubeconfig=cluster["kubeconfig"], kind=kind, name=name, namespace=namespace,
                       **(yaml.safe_load(target) or {}))
    return run_module(ansible_playbook, tmp_path, "workload_rollback", module_args, *args)


def image(apps, namespace, name="sample-app"):
    return apps.read_namespaced_deployment(name, namespace).spec.template.spec.containers[0].image


def set_image(apps, namespace, value):
    apps.patch_namespaced_deployment("sample-app", namespace, {"spec": {"template": {"spec": {"containers": [
        {"name": "app", "image": value}]}}}})
    wait_for(f"rollout of {value}", lambda: rollout_complete(apps, namespace, "sample-app"))


def test_deployment_to_a_given_revision_check_mode_first_then_idempotent(ansible_playbook, tmp_path, cluster,
                                                                         admin_api, namespace):
    apps = client.AppsV1Api(admin_api)
    apps.create_namespaced_deployment(namespace, app_deployment("registry.local/app:1"))
    wait_for("rollout 1", lambda: rollout_complete(apps, namespace, "sample-app"))
    set_image(apps, namespace, "registry.local/app:2")
    set_image(apps, namespace, "registry.local/app:3")

    out, stdout = rollback(ansible_playbook, tmp_path, cluster, namespace, "Deployment", "sample-app",
                           "to_revision: 1", "--check", "--diff")
    assert out["changed"] is True and out["target"]["images"] == ["registry.local/app:1"]
    assert "registry.local/app:3" in stdout and "registry.local/app:1" in stdout  # the template diff
    assert image(apps, namespace) == "registry.local/app:3"

    out, _ = rollback(ansible_playbook, tmp_path, cluster, namespace, "Deployment", "sample-app", "to_revision: 1")
    assert out["changed"] is True and out["rollout_seconds"] > 0
    assert image(apps, namespace) == "registry.local/app:1"
    assert rollout_complete(apps, namespace, "sample-app")

    # revision 1 is now revision 4; its ReplicaSet remembers the old number, so the task is unchanged
    out, _ = rollback(ansible_playbook, tmp_path, cluster, namespace, "Deployment", "sample-app", "to_revision: 1")
    assert out["changed"] is False and "already runs the template" in out["message"]

    out, _ = rollback(ansible_playbook, tmp_path, cluster, namespace, "Deployment", "sample-app", "to_revision: 9")
    assert out["failed"] is True
    assert "cannot find revision 9 in its history (revisions: 2 (" in out["msg"]


def test_statefulset_to_its_previous_revision(ansible_playbook, tmp_path, cluster, admin_api, namespace):
    apps = client.AppsV1Api(admin_api)
    apps.create_namespaced_stateful_set(namespace, statefulset("registry.local/db:1", replicas=1))

    def sts_done():
        sts = apps.read_namespaced_stateful_set("db", namespace)
        st = sts.status
        return (st.observed_generation or 0) >= sts.metadata.generation and st.ready_replicas == 1 and \
            st.current_revision == st.update_revision
    wait_for("statefulset rollout 1", sts_done)
    apps.patch_namespaced_stateful_set("db", namespace, {"spec": {"template": {"spec": {"containers": [
        {"name": "db", "image": "registry.local/db:2"}]}}}})
    wait_for("statefulset rollout 2", sts_done)
    out, _ = rollback(ansible_playbook, tmp_path, cluster, namespace, "StatefulSet", "db", "to_revision: 0")
    assert out["changed"] is True and out["target"]["kind"] == "ControllerRevision"
    assert apps.read_namespaced_stateful_set("db", namespace).spec.template.spec.containers[0].image == "registry.local/db:1"
