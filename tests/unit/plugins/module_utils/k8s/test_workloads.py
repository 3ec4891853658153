"""Pod-template references, rollout completeness per kind, pod problems (plain dicts)."""

from __future__ import annotations

from ansible_collections.deploysafe.preflight.plugins.module_utils.k8s.workloads import (
    Reference, pod_problem, pod_summary, references, rollout_state)


def deployment(want=3, generation=2, **status):
    return {"kind": "Deployment", "metadata": {"name": "web", "generation": generation},
            "spec": {"replicas": want, "template": {"spec": {"containers": [{"name": "app"}]}}},
            "status": {"observedGeneration": generation, **status}}


def test_references_from_env_envfrom_volumes_projected_and_pull_secrets():
    obj = {"kind": "Deployment", "metadata": {"name": "web"}, "spec": {"template": {"spec": {
        "initContainers": [{"name": "init", "envFrom": [{"configMapRef": {"name": "init-cm"}}]}],
        "containers": [{"name": "app", "env": [
            {"name": "A", "value": "x"},
            {"name": "B", "valueFrom": {"secretKeyRef": {"name": "db", "key": "pw"}}},
            {"name": "C", "valueFrom": {"configMapKeyRef": {"name": "flags", "key": "f", "optional": True}}}],
            "envFrom": [{"secretRef": {"name": "api"}}]}],
        "volumes": [{"name": "v1", "configMap": {"name": "files"}}, {"name": "v2", "secret": {"secretName": "tls"}},
                    {"name": "v3", "projected": {"sources": [{"configMap": {"name": "p-cm"}},
                                                             {"secret": {"name": "p-s"}}]}}],
        "imagePullSecrets": [{"name": "pull"}]}}}}
    refs = references(obj)
    assert {(r.kind, r.name) for r in refs} == {
        ("ConfigMap", "init-cm"), ("Secret", "db"), ("ConfigMap", "flags"), ("Secret", "api"), ("ConfigMap", "files"),
        ("Secret", "tls"), ("ConfigMap", "p-cm"), ("Secret", "p-s"), ("Secret", "pull")}
    assert Reference("ConfigMap", "flags", True, "Deployment/web") in refs


def test_cronjob_template_is_found():
    obj = {"kind": "CronJob", "metadata": {"name": "c"}, "spec": {"jobTemplate": {"spec": {"template": {"spec": {
        "containers": [{"name": "a", "envFrom": [{"configMapRef": {"name": "cm"}}]}]}}}}}}
    assert [r.name for r in references(obj)] == ["cm"]


def test_deployment_rollout_states():
    assert rollout_state(deployment(generation=3, observedGeneration=2))[1].startswith("waiting for the controller")
    assert rollout_state(deployment(updatedReplicas=2, replicas=3, availableReplicas=3))[:2] == (False, "2 of 3 replicas updated")
    assert rollout_state(deployment(updatedReplicas=3, replicas=4, availableReplicas=3))[1] == "1 old replicas pending termination"
    assert rollout_state(deployment(updatedReplicas=3, replicas=3, availableReplicas=2))[0] is False
    assert rollout_state(deployment(updatedReplicas=3, replicas=3, availableReplicas=3)) == (True, "3/3 replicas available", None)
    stalled = deployment(conditions=[{"type": "Progressing", "reason": "ProgressDeadlineExceeded", "message": "slow"}])
    assert rollout_state(stalled)[2] == "progress deadline exceeded: slow"


def test_statefulset_needs_current_revision_and_daemonset_no_unavailable():
    sts = {"kind": "StatefulSet", "metadata": {"generation": 1}, "spec": {"replicas": 2},
           "status": {"observedGeneration": 1, "readyReplicas": 2, "updatedReplicas": 2, "availableReplicas": 2,
                      "currentRevision": "db-1", "updateRevision": "db-2"}}
    assert rollout_state(sts)[:2] == (False, "waiting for the update revision to become current")
    sts["status"]["currentRevision"] = "db-2"
    assert rollout_state(sts)[0] is True
    ds = {"kind": "DaemonSet", "metadata": {"generation": 1}, "spec": {},
          "status": {"observedGeneration": 1, "desiredNumberScheduled": 3, "updatedNumberScheduled": 3,
                     "numberAvailable": 3, "numberUnavailable": 1}}
    assert rollout_state(ds)[0] is False
    ds["status"]["numberUnavailable"] = 0
    assert rollout_state(ds)[0] is True


def test_job_complete_and_failed():
    job = {"kind": "Job", "metadata": {"generation": 1}, "spec": {}, "status": {"active": 1}}
    assert rollout_state(job)[:2] == (False, "1 active, 0 succeeded")
    job["status"] = {"succeeded": 1, "conditions": [{"type": "Complete", "status": "True"}]}
    assert rollout_state(job)[0] is True
    job["status"] = {"conditions": [{"type": "Failed", "status": "True", "reason": "BackoffLimitExceeded"}]}
    assert rollout_state(job)[2] == "job failed: BackoffLimitExceeded"


def test_crash_loop_is_a_problem_only_beyond_the_restart_budget():
    pod = {"metadata": {"name": "web-1"}, "spec": {"nodeName": "n"}, "status": {"phase": "Running", "containerStatuses": [
        {"name": "app", "ready": False, "restartCount": 2, "state": {"waiting": {"reason": "CrashLoopBackOff"}},
         "lastState": {"terminated": {"exitCode": 1}}}]}}
    summary = pod_summary(pod)
    assert summary["restarts"] == 2 and summary["containers"][0]["reason"] == "CrashLoopBackOff"
    assert "crash-looping (2 restarts, last exit code 1)" in pod_problem(summary, 0)
    assert pod_problem(summary, 5) is None
