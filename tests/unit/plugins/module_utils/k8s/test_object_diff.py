"""Normalising live and dry-run objects, classifying the change, and the diff a reviewer reads."""

from __future__ import annotations

import copy

from ansible_collections.deploysafe.preflight.plugins.module_utils.k8s.object_diff import (
    REDACTED, REDACTED_NEW, REDACTED_OLD, changed_paths, classify, compare, normalise, prune_defaults)

MANIFEST = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web", "namespace": "prod"},
            "spec": {"replicas": 2, "template": {"spec": {"containers": [{"name": "app", "image": "web:2"}]}}}}


def live(image="web:1", rv="41"):
    """What the API server holds: the manifest plus bookkeeping, defaults and status."""
    return {"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "web", "namespace": "prod", "uid": "u-1", "resourceVersion": rv, "generation": 3,
                         "creationTimestamp": "2026-12-01T00:00:00Z", "labels": {},
                         "annotations": {"deployment.kubernetes.io/revision": "3"},
                         "managedFields": [{"manager": "deploysafe-preflight", "operation": "Apply"}]},
            "spec": {"replicas": 2, "progressDeadlineSeconds": 600, "strategy": {"type": "RollingUpdate"},
                     "template": {"spec": {"containers": [{"name": "app", "image": image,
                                                           "terminationMessagePath": "/dev/termination-log"}],
                                           "restartPolicy": "Always"}}},
            "status": {"replicas": 2, "readyReplicas": 2}}


def test_normalise_drops_server_bookkeeping_and_status_without_touching_the_input():
    obj = live()
    out = normalise(obj)
    assert "status" not in out and out["metadata"] == {
        "name": "web", "namespace": "prod", "annotations": {"deployment.kubernetes.io/revision": "3"}}
    assert obj["metadata"]["uid"] == "u-1" and "status" in obj
    assert normalise(None) is None


def test_bookkeeping_alone_is_unchanged():
    dry = live(rv="41")
    dry["metadata"]["managedFields"] = [{"manager": "other"}]
    dry["metadata"]["generation"] = 4
    dry["status"] = {}
    result = compare("Deployment/web", live(), dry, MANIFEST)
    assert result["action"] == "unchanged" and result["diff"] == ""


def test_image_change_is_an_update_whose_diff_shows_the_image_and_not_the_defaults():
    result = compare("Deployment/web", live("web:1"), live("web:2"), MANIFEST)
    assert result["action"] == "update"
    diff = result["diff"]
    assert diff.startswith("--- Deployment/web (live)\n+++ Deployment/web (dry-run)\n")
    assert "-      - image: web:1\n+      - image: web:2\n" in diff
    for noise in ("terminationMessagePath", "progressDeadlineSeconds", "strategy", "restartPolicy",
                  "deployment.kubernetes.io/revision", "resourceVersion", "managedFields", "readyReplicas"):
        assert noise not in diff, noise
    assert result["before"]["spec"]["replicas"] == 2  # set by the manifest: kept as context
    assert changed_paths(result["before"], result["after"]) == ["spec.template.spec.containers[0].image"]


def test_a_changed_default_is_shown_even_though_the_manifest_does_not_set_it():
    after = live()
    after["spec"]["progressDeadlineSeconds"] = 120
    result = compare("Deployment/web", live(), after, MANIFEST)
    assert result["action"] == "update" and "+  progressDeadlineSeconds: 120" in result["diff"]


def test_absent_live_object_is_a_create_with_the_whole_object():
    result = compare("Deployment/web", None, live("web:2"), MANIFEST)
    assert result["action"] == "create" and result["before"] is None
    assert result["diff"].startswith("--- /dev/null\n+++ Deployment/web (dry-run)\n")
    assert "+      - image: web:2\n" in result["diff"]


def test_classify():
    assert classify(None, {"a": 1}) == "create"
    assert classify({"a": 1}, {"a": 1}) == "unchanged"
    assert classify({"a": 1}, {"a": 2}) == "update"


def test_prune_defaults_keeps_what_the_manifest_sets_and_what_differs():
    before = {"a": 1, "b": {"x": 1, "y": 2}, "c": [{"n": 1, "d": 0}], "gone": 1}
    after = {"a": 1, "b": {"x": 1, "y": 3}, "c": [{"n": 1, "d": 0}], "new": 2}
    b, a = prune_defaults(before, after, {"a": 1})
    assert b == {"a": 1, "b": {"y": 2}, "gone": 1} and a == {"a": 1, "b": {"y": 3}, "new": 2}


def test_secret_values_never_appear_only_whether_they_change():
    secret_old, secret_new = "s3cr3t-" + "old", "s3cr3t-" + "new"
    lived = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "api", "annotations": {
        "kubectl.kubernetes.io/last-applied-configuration": '{"data":{"token":"' + secret_old + '"}}'}},
        "data": {"token": secret_old, "user": "YWRtaW4="}}
    dry = copy.deepcopy(lived)
    dry["data"]["token"] = secret_new
    dry["metadata"]["annotations"]["kubectl.kubernetes.io/last-applied-configuration"] = secret_new
    result = compare("Secret/api", lived, dry, {"kind": "Secret", "metadata": {"name": "api"}, "data": {}})
    assert result["action"] == "update"
    text = repr(result)
    assert secret_old not in text and secret_new not in text and "YWRtaW4=" not in text
    assert result["before"]["data"]["token"] == REDACTED_OLD and result["after"]["data"]["token"] == REDACTED_NEW
    assert compare("Secret/api", lived, copy.deepcopy(lived), {})["action"] == "unchanged"
    created = compare("Secret/api", None, dry, {})
    assert created["after"]["data"] == {"token": REDACTED_NEW, "user": REDACTED_NEW}
    assert REDACTED not in created["diff"] and secret_new not in created["diff"]
