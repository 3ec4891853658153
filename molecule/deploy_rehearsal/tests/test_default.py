"""The clean rehearsal recorded a pass, the planted defect a fail with its reason; no rehearsal
namespace is left behind."""

import json

RUN = "/tmp/molecule-deploy_rehearsal"


def record(host, name):
    return json.loads(host.file(f"{RUN}/{name}/deploy_rehearsal.json").content_string)


def test_clean_release_passes(host):
    verdict = record(host, "clean")["verdict"]
    assert verdict["status"] == "pass", verdict["summary"]
    names = {m["name"] for m in verdict["evidence"]["measurements"]}
    assert {"rollout_seconds[Deployment/web]", "pods_ready", "health_http_status"} <= names


def test_never_ready_release_fails_with_pod_statuses(host):
    rec = record(host, "defect")
    assert rec["verdict"]["status"] == "fail"
    assert "Deployment/web: not complete after 10s" in rec["verdict"]["summary"]
    assert rec["details"]["diagnostics"]["pods"]


def test_no_rehearsal_namespace_is_left(host):
    out = host.check_output("kubectl get namespaces -l deploysafe.io/rehearsal -o name")
    active = [line for line in out.splitlines() if line]
    if active:  # deletion is asynchronous: a namespace may still be Terminating, never Active
        phases = host.check_output("kubectl get namespaces -l deploysafe.io/rehearsal "
                                   "-o jsonpath='{.items[*].status.phase}'")
        assert "Active" not in phases
