# Copyright: (c) 2026, deploysafe.preflight contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Issue 14 part 3: policy checks on ReplicationController, OpenShift DeploymentConfig and CronJob pod
templates; a non-zero runAsUser proves non-root; removed/deprecated apiVersions for a target version; the
bundled schema is selectable by version and the client-generated one regenerates identically."""

from __future__ import annotations

import copy
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from ansible_collections.deploysafe.preflight.plugins.module_utils.manifests import ManifestError, validate_manifests
from ansible_collections.deploysafe.preflight.plugins.module_utils.manifests.api_versions import LIFECYCLE
from ansible_collections.deploysafe.preflight.plugins.module_utils.manifests.k8s_schema import (
    DEFAULT_VERSION, SCHEMAS, schema_for,
)

ROOT = Path(__file__).resolve().parents[5]
DIGEST = "@sha256:" + "c" * 64
LABELS = {"app.kubernetes.io/name": "job", "app.kubernetes.io/instance": "job-prod"}


def pod_template(**container_sc):
    sc = {"allowPrivilegeEscalation": False, "readOnlyRootFilesystem": True, "capabilities": {"drop": ["ALL"]}}
    sc.update(container_sc)
    return {"metadata": {"labels": {"app": "w"}},
            "spec": {"securityContext": {"runAsNonRoot": True, "runAsUser": 10001,
                                         "seccompProfile": {"type": "RuntimeDefault"}},
                     "containers": [{"name": "w", "image": "registry.example/w:1.0" + DIGEST,
                                     "resources": {"requests": {"cpu": "1", "memory": "1Gi"},
                                                   "limits": {"cpu": "1", "memory": "1Gi"}},
                                     "livenessProbe": {"exec": {"command": ["true"]}},
                                     "readinessProbe": {"exec": {"command": ["true"]}},
                                     "securityContext": sc}]}}


def workload(kind, template):
    meta = {"name": "w", "namespace": "shop", "labels": dict(LABELS)}
    if kind == "CronJob":
        return {"apiVersion": "batch/v1", "kind": "CronJob", "metadata": meta,
                "spec": {"schedule": "*/5 * * * *", "jobTemplate": {"spec": {"template": template}}}}
    api = {"ReplicationController": "v1", "DeploymentConfig": "apps.openshift.io/v1"}[kind]
    return {"apiVersion": api, "kind": kind, "metadata": meta,
            "spec": {"replicas": 3, "selector": {"app": "w"}, "template": template}}


def pdb():
    return {"apiVersion": "policy/v1", "kind": "PodDisruptionBudget", "metadata": {"name": "w", "namespace": "shop"},
            "spec": {"minAvailable": 1, "selector": {"matchLabels": {"app": "w"}}}}


def ids(tmp_path, docs, **kw):
    path = tmp_path / "set.yaml"
    path.write_text(yaml.safe_dump_all(docs, sort_keys=False))
    findings, _, _ = validate_manifests([str(path)], **kw)
    return [f.check_id for f in findings]


@pytest.mark.parametrize("kind", ["ReplicationController", "DeploymentConfig", "CronJob"])
def test_policy_checks_read_the_pod_template_of_more_workload_kinds(tmp_path, kind):
    clean = [workload(kind, pod_template()), pdb()]
    expected_clean = ["manifest.unknown-kind"] if kind == "DeploymentConfig" else []  # no bundled OpenShift schema
    assert ids(tmp_path, clean) == expected_clean
    planted = [workload(kind, pod_template(privileged=True)), pdb()]
    assert {"manifest.privileged", "manifest.privilege-escalation"} <= set(ids(tmp_path, planted))


@pytest.mark.parametrize("kind", ["ReplicationController", "DeploymentConfig"])
def test_replicated_kinds_get_the_replica_and_pdb_checks(tmp_path, kind):
    single = workload(kind, pod_template())
    single["spec"]["replicas"] = 1
    assert "manifest.replicas" in ids(tmp_path, [single, pdb()])
    assert "manifest.pdb" in ids(tmp_path, [workload(kind, pod_template())])


@pytest.mark.parametrize("where", ["pod", "container"])
def test_non_zero_run_as_user_proves_non_root(tmp_path, where):
    template = pod_template()
    pod_sc = template["spec"]["securityContext"]
    del pod_sc["runAsNonRoot"], pod_sc["runAsUser"]
    if where == "pod":
        pod_sc["runAsUser"] = 1000
    else:
        template["spec"]["containers"][0]["securityContext"]["runAsUser"] = 1000
    doc = workload("CronJob", template)
    assert "manifest.run-as-non-root" not in ids(tmp_path, [doc])
    uid0 = copy.deepcopy(doc)
    uid0["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0]["securityContext"]["runAsUser"] = 0
    assert "manifest.run-as-non-root" in ids(tmp_path, [uid0])
    unset = workload("CronJob", pod_template())
    del unset["spec"]["jobTemplate"]["spec"]["template"]["spec"]["securityContext"]["runAsUser"]
    del unset["spec"]["jobTemplate"]["spec"]["template"]["spec"]["securityContext"]["runAsNonRoot"]
    assert "manifest.run-as-non-root" in ids(tmp_path, [unset])


@pytest.mark.parametrize("api,kind,removed", [
    ("extensions/v1beta1", "Deployment", "1.16"), ("batch/v1beta1", "CronJob", "1.25"),
    ("policy/v1beta1", "PodDisruptionBudget", "1.25"), ("networking.k8s.io/v1beta1", "Ingress", "1.22"),
    ("autoscaling/v2beta2", "HorizontalPodAutoscaler", "1.26"),
    ("flowcontrol.apiserver.k8s.io/v1beta3", "FlowSchema", "1.32"),
])
def test_removed_api_versions_name_the_release(tmp_path, api, kind, removed):
    doc = {"apiVersion": api, "kind": kind, "metadata": {"name": "x", "namespace": "shop"}, "spec": {}}
    path = tmp_path / "old.yaml"
    path.write_text(yaml.safe_dump(doc))
    major, minor = (int(x) for x in removed.split("."))
    for target, expected in ((removed, "manifest.api-removed"), (f"{major}.{minor - 1}", "manifest.api-deprecated")):
        findings, _, _ = validate_manifests([str(path)], kubernetes_version=target)
        hits = [f for f in findings if f.check_id.startswith("manifest.api-")]
        assert [f.check_id for f in hits] == [expected], (target, [f.message for f in findings])
        assert f"removed in {'Kubernetes ' if expected.endswith('removed') else ''}{removed}" in hits[0].message
        assert hits[0].location.line == 1  # the apiVersion line
    deprecated = LIFECYCLE[(api, kind)][0]
    findings, _, _ = validate_manifests([str(path)], kubernetes_version=f"v{int(deprecated.split('.')[0])}."
                                                                        f"{int(deprecated.split('.')[1]) - 1}.3")
    assert not [f for f in findings if f.check_id.startswith("manifest.api-")]


def test_default_target_is_the_tested_control_plane_and_bad_versions_are_errors(tmp_path):
    assert DEFAULT_VERSION == "1.36"
    mk = (ROOT / "mk" / "k8s.mk").read_text()
    assert f"K8S_VERSION := v{DEFAULT_VERSION}." in mk
    with pytest.raises(ManifestError, match="kubernetes_version 'latest'"):
        validate_manifests(content="{}", kubernetes_version="latest")


def test_the_schema_is_selectable_by_version(tmp_path):
    assert {v: m.KUBERNETES_VERSION for v, m in SCHEMAS.items()} == {"1.36": "1.36", "1.37": "1.37"}
    assert [schema_for(v)[0] for v in ("1.36", "v1.37.2", "1.40", "1.30")] == ["1.36", "1.37", "1.37", "1.36"]
    # emptyDir.mode exists in 1.37's schema and not in 1.36's
    template = pod_template()
    template["spec"]["volumes"] = [{"name": "scratch", "emptyDir": {"mode": 0o750}}]
    doc = workload("CronJob", template)
    assert "manifest.schema" in ids(tmp_path, [doc], kubernetes_version="1.36")
    assert "manifest.schema" not in ids(tmp_path, [doc], kubernetes_version="1.37")


def test_the_client_generated_schema_regenerates_identically():
    """k8s_schema_1_37.py is generated from the pinned kubernetes client; regenerating must give the same
    file (a client bump without a regeneration, or a hand edit, fails here). The 1.36 schema is compared
    with the live API server in tests/integration/validators/test_k8s_schema_version.py."""
    out = subprocess.run([sys.executable, str(ROOT / "scripts" / "gen-k8s-schema"), "--out", "-"], check=True,
                         capture_output=True, text=True, timeout=120).stdout
    bundled = (ROOT / "plugins" / "module_utils" / "manifests" / "k8s_schema_1_37.py").read_text()
    assert out == bundled
