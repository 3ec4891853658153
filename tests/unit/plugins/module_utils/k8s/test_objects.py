"""Moving manifests into the rehearsal namespace and planning where references come from."""

from __future__ import annotations

import pytest

from ansible_collections.deploysafe.preflight.plugins.module_utils.k8s import K8sError
from ansible_collections.deploysafe.preflight.plugins.module_utils.k8s.namespace import (
    ANNOTATION_TTL, LABEL_RUN_ID, label_value, namespace_manifest, namespace_name)
from ansible_collections.deploysafe.preflight.plugins.module_utils.k8s.objects import (
    into_namespace, load_objects, plan_references)

WEB = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web", "namespace": "prod",
                                                                    "resourceVersion": "7"},
       "spec": {"template": {"spec": {"containers": [{"name": "app", "envFrom": [
           {"configMapRef": {"name": "in-set"}}, {"configMapRef": {"name": "given"}},
           {"secretRef": {"name": "in-prod"}}, {"secretRef": {"name": "nowhere"}},
           {"configMapRef": {"name": "maybe", "optional": True}}]}]}}},
       "status": {"replicas": 1}}
CM = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "in-set"}, "data": {"a": "b"}}
NS = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "prod"}}


def test_into_namespace_orders_support_objects_first_and_skips_namespaces():
    placed, skipped = into_namespace([WEB, NS, CM], "rehearsal-1")
    assert [o["kind"] for o in placed] == ["ConfigMap", "Deployment"] and skipped == ["Namespace/prod"]
    assert placed[1]["metadata"] == {"name": "web", "namespace": "rehearsal-1"} and "status" not in placed[1]
    assert WEB["metadata"]["namespace"] == "prod"  # the input is not changed


def test_plan_references():
    plan = plan_references([WEB, CM], {"given": {"k": "v"}}, {}, lambda kind, name: name == "in-prod")
    assert [r.name for r in plan.in_manifests] == ["in-set"] and [r.name for r in plan.given] == ["given"]
    assert [r.name for r in plan.copied] == ["in-prod"] and [r.name for r in plan.absent_optional] == ["maybe"]
    assert plan.describe_missing() == "Secret/nowhere (used by Deployment/web)"
    assert [r.name for r in plan_references([WEB], {}, {}, None).missing] == ["in-set", "given", "in-prod", "nowhere"]


def test_load_objects_refuses_broken_yaml(tmp_path):
    (tmp_path / "bad.yaml").write_text("kind: Deployment\nmetadata:\n\tname: x\n")
    with pytest.raises(K8sError, match="cannot read the manifests: .*bad.yaml:"):
        load_objects([str(tmp_path)])
    with pytest.raises(K8sError, match="has no metadata.name"):
        load_objects(content="apiVersion: v1\nkind: ConfigMap\nmetadata: {}\n")


def test_namespace_name_labels_and_ttl():
    from datetime import datetime, timezone
    name = namespace_name("rehearsal")
    assert name.startswith("rehearsal-") and len(name) == len("rehearsal-") + 6
    ns = namespace_manifest(name, "run 1/2", "deploy", 600, now=datetime(2026, 12, 3, 8, 0, tzinfo=timezone.utc))
    assert ns["metadata"]["labels"][LABEL_RUN_ID] == "run-1-2"
    assert ns["metadata"]["annotations"] == {ANNOTATION_TTL: "600", "deploysafe.io/expires-at": "2026-12-03T08:10:00Z"}
    assert len(label_value("x" * 100)) == 63
