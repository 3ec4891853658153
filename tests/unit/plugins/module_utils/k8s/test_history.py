"""Revision records and rollback patches the way `kubectl rollout undo` builds them (plain dicts)."""

from __future__ import annotations

from ansible_collections.deploysafe.preflight.plugins.module_utils.k8s.history import (
    REVISION, REVISION_HISTORY, clean_template, find_revision, revision_of, rollback_patch)
from ansible_collections.deploysafe.preflight.plugins.module_utils.k8s.observe import WorkloadProgress
from ansible_collections.deploysafe.preflight.plugins.module_utils.k8s.rollback import estimate

TEMPLATE = {"metadata": {"labels": {"app": "web", "pod-template-hash": "abc"}, "creationTimestamp": None},
            "spec": {"containers": [{"name": "app", "image": "web:1"}]}}


def test_replica_set_and_controller_revision_records():
    rs = {"metadata": {"name": "web-abc", "annotations": {REVISION: "3"}}, "spec": {"template": TEMPLATE}}
    rev = revision_of("ReplicaSet", rs)
    assert (rev.name, rev.number, rev.images) == ("web-abc", 3, ["web:1"])
    assert rev.template == {"metadata": {"labels": {"app": "web"}}, "spec": TEMPLATE["spec"]}
    cr = {"metadata": {"name": "db-7f"}, "revision": 2,
          "data": {"spec": {"template": {"spec": {"containers": [{"name": "db", "image": "db:1"}]}, "$patch": "replace"}}}}
    assert revision_of("ControllerRevision", cr).images == ["db:1"]


def test_find_revision_by_name_survives_renumbering_and_zero_means_previous():
    revs = [revision_of("ReplicaSet", {"metadata": {"name": n, "annotations": {REVISION: str(i)}},
                                       "spec": {"template": TEMPLATE}}) for i, n in ((2, "a"), (5, "b"), (6, "c"))]
    assert find_revision(revs, name="a").number == 2
    assert find_revision(revs, number=0).name == "b" and find_revision(revs, number=3) is None


def test_a_reused_replica_set_answers_to_its_former_numbers():
    reused = revision_of("ReplicaSet", {"metadata": {"name": "a", "annotations": {REVISION: "4", REVISION_HISTORY: "1,3"}},
                                        "spec": {"template": TEMPLATE}})
    other = revision_of("ReplicaSet", {"metadata": {"name": "b", "annotations": {REVISION: "2"}},
                                       "spec": {"template": TEMPLATE}})
    assert reused.former == (1, 3)
    assert find_revision([other, reused], number=1) is reused and find_revision([other, reused], number=2) is other


def test_deployment_patch_keeps_kubectl_annotations_and_takes_the_rest_from_the_replica_set():
    dep = {"kind": "Deployment", "metadata": {"annotations": {REVISION: "4", "team": "old"}}}
    rev = revision_of("ReplicaSet", {"metadata": {"name": "web-abc", "annotations": {REVISION: "1"}},
                                     "spec": {"template": TEMPLATE}})
    content_type, body = rollback_patch(dep, rev, {REVISION: "1", "kubernetes.io/change-cause": "v1"})
    assert content_type == "application/json-patch+json"
    assert body == [{"op": "replace", "path": "/spec/template", "value": clean_template(TEMPLATE)},
                    {"op": "replace", "path": "/metadata/annotations",
                     "value": {REVISION: "4", "kubernetes.io/change-cause": "v1"}}]


def test_statefulset_patch_replaces_the_template():
    rev = revision_of("ControllerRevision", {"metadata": {"name": "db-1"}, "revision": 1,
                                             "data": {"spec": {"template": TEMPLATE}}})
    content_type, body = rollback_patch({"kind": "StatefulSet"}, rev)
    assert content_type == "application/strategic-merge-patch+json"
    assert body["spec"]["template"]["$patch"] == "replace" and "$patch" not in rev.template


def test_estimate_scales_seconds_per_replica_to_production():
    done = WorkloadProgress("Deployment", "web", "apps/v1", 0.0, complete=True, seconds=6.0)
    slow = WorkloadProgress("StatefulSet", "db", "apps/v1", 0.0, complete=True, seconds=4.0)
    assert estimate([done, slow], {"Deployment/web": 2, "StatefulSet/db": 1},
                    {"Deployment/web": 10, "StatefulSet/db": 3}) == 30.0
    assert estimate([done], {"Deployment/web": 2}, {}) == 6.0
    assert estimate([WorkloadProgress("Deployment", "web", "apps/v1", 0.0)], {}, {}) is None
