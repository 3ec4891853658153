"""kwok stages that simulate pods which never become Ready or crash-loop (selected by annotation
or image name), for later tests of failed rollouts."""

from __future__ import annotations

import pytest
from kubernetes import client

from k8s_workloads import SIMULATE, pod_ready, wait_for


def _pod(name, image, annotations=None):
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "annotations": annotations or {}},
            "spec": {"containers": [{"name": "app", "image": image}]}}


def _running(core, namespace, name):
    pod = core.read_namespaced_pod(name, namespace)
    return pod if pod.status.phase == "Running" else None


@pytest.mark.parametrize("image, annotations", [
    ("registry.local/sample-app:1.0.0", {SIMULATE: "never-ready"}),
    ("registry.local/sample-app:never-ready", None),
], ids=["annotation", "image"])
def test_never_ready_pod_runs_but_is_not_ready(admin_api, namespace, image, annotations):
    core = client.CoreV1Api(admin_api)
    core.create_namespaced_pod(namespace, _pod("stuck", image, annotations))
    # Once Running, no stage applies to it any more (pod-ready only takes Pending pods).
    pod = wait_for("pod Running", lambda: _running(core, namespace, "stuck"))
    assert not pod_ready(pod)
    assert pod.status.container_statuses[0].ready is False
    assert pod.status.container_statuses[0].state.running is not None


def test_crash_loop_pod_backs_off_and_restarts(admin_api, namespace):
    core = client.CoreV1Api(admin_api)
    core.create_namespaced_pod(namespace, _pod("crashy", "registry.local/sample-app:1.0.0", {SIMULATE: "crash-loop"}))
    pod = wait_for("pod Running", lambda: _running(core, namespace, "crashy"))
    status = pod.status.container_statuses[0]
    assert not pod_ready(pod)
    assert status.state.waiting.reason == "CrashLoopBackOff"
    assert status.last_state.terminated.exit_code == 1
    wait_for("a second restart", lambda: core.read_namespaced_pod("crashy", namespace)
             .status.container_statuses[0].restart_count >= 2, timeout=60)


def test_unmarked_pod_becomes_ready(admin_api, namespace):
    core = client.CoreV1Api(admin_api)
    core.create_namespaced_pod(namespace, _pod("fine", "registry.local/sample-app:1.0.0"))
    pod = wait_for("pod Running", lambda: _running(core, namespace, "fine"))
    assert pod_ready(pod)
