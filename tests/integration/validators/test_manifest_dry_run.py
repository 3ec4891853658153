"""Server-side dry-run against the harness Kubernetes control plane (k8s fixture).

Collected always; skipped until the harness has its k8s service (deploysafe_testenv/services/k8s.py).
"""

from __future__ import annotations

import copy
import json
import uuid

import pytest
import yaml

pytest.importorskip("deploysafe_testenv.services.k8s")

from ansible_collections.deploysafe.preflight.plugins.module_utils.manifests import (  # noqa: E402
    ManifestError, validate_manifests,
)


def workload(name):
    return {
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": name, "namespace": "default"},
        "spec": {"replicas": 2, "selector": {"matchLabels": {"app": name}},
                 "template": {"metadata": {"labels": {"app": name}},
                              "spec": {"containers": [{"name": "web", "image": "registry.example/web:1.0",
                                                       "ports": [{"containerPort": 8080}]}]}}},
    }


def dry_run_findings(tmp_path, docs, kubeconfig):
    path = tmp_path / "set.yaml"
    path.write_text(yaml.safe_dump_all(docs))
    findings, _, _ = validate_manifests([str(path)], connection={"kubeconfig": kubeconfig})
    return [f for f in findings if f.check_id.startswith("manifest.dry-run")]


def test_valid_object_passes_and_is_not_persisted(k8s, tmp_path):
    name = f"dry-{uuid.uuid4().hex[:8]}"
    assert dry_run_findings(tmp_path, [workload(name)], k8s["kubeconfig"]) == []
    from kubernetes import client, config
    api = client.AppsV1Api(config.new_client_from_config(config_file=k8s["kubeconfig"]))
    assert name not in [d.metadata.name for d in api.list_namespaced_deployment("default").items]


def test_server_rejects_an_invalid_object(k8s, tmp_path):
    bad = workload(f"dry-{uuid.uuid4().hex[:8]}")
    bad["spec"]["template"]["spec"]["containers"][0]["ports"][0]["containerPort"] = 70000
    (finding,) = dry_run_findings(tmp_path, [bad], k8s["kubeconfig"])
    assert finding.check_id == "manifest.dry-run" and "containerPort" in finding.message
    assert finding.location.file.endswith("set.yaml") and finding.location.line == 1


def test_unserved_kind_and_crd_in_the_same_set(k8s, tmp_path):
    other = {"apiVersion": "example.com/v1", "kind": "Gadget", "metadata": {"name": "g", "namespace": "default"}}
    crd = {"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
           "metadata": {"name": "widgets.preflight.example"},
           "spec": {"group": "preflight.example", "names": {"kind": "Widget", "plural": "widgets"},
                    "scope": "Namespaced", "versions": [{"name": "v1", "served": True, "storage": True,
                                                         "schema": {"openAPIV3Schema": {"type": "object"}}}]}}
    widget = {"apiVersion": "preflight.example/v1", "kind": "Widget",
              "metadata": {"name": "w", "namespace": "default"}}
    findings = {f.check_id: f for f in dry_run_findings(tmp_path, [other, crd, copy.deepcopy(widget)],
                                                         k8s["kubeconfig"])}
    assert "does not serve example.com/v1 Gadget" in findings["manifest.dry-run"].message
    assert "Widget/w" in findings["manifest.dry-run-skipped"].message


def test_restricted_credentials_fail_clearly_where_rbac_forbids(k8s, tmp_path):
    """The deployer may patch Deployments in its namespace only: there the dry-run runs, elsewhere the
    403 is an error naming verb, resource and namespace (a finding would blame the manifest)."""
    allowed = workload(f"dry-{uuid.uuid4().hex[:8]}")
    allowed["metadata"]["namespace"] = k8s["restricted_namespace"]
    assert dry_run_findings(tmp_path, [allowed], k8s["kubeconfig_restricted"]) == []
    denied = workload(f"dry-{uuid.uuid4().hex[:8]}")
    with pytest.raises(ManifestError) as raised:
        dry_run_findings(tmp_path, [denied], k8s["kubeconfig_restricted"])
    message = str(raised.value)
    assert f"server-side dry-run of Deployment/{denied['metadata']['name']}" in message
    assert "forbidden: patch deployments in namespace default" in message
    assert "set.yaml" in message and "Traceback" not in message, message


PLAY = """
- hosts: localhost
  connection: local
  gather_facts: false
  tasks:
    - name: Auto - K8S_AUTH_KUBECONFIG alone switches the dry-run on
      deploysafe.preflight.manifest_validate: {{paths: ["{path}"], fail_on: never}}
      register: auto
    - name: Told not to
      deploysafe.preflight.manifest_validate: {{paths: ["{path}"], fail_on: never, server_dry_run: false}}
      register: offline
    - ansible.builtin.copy:
        content: "{{{{ {{'auto': auto, 'offline': offline}} | to_json }}}}"
        dest: "{dest}"
"""


def test_module_dry_runs_through_k8s_auth_kubeconfig(k8s, ansible_playbook, tmp_path):
    """How an AWX Kubernetes credential hands the cluster over: no module option, only K8S_AUTH_*."""
    bad = workload(f"dry-{uuid.uuid4().hex[:8]}")
    bad["spec"]["template"]["spec"]["containers"][0]["ports"][0]["containerPort"] = 70000
    path = tmp_path / "set.yaml"
    path.write_text(yaml.safe_dump(bad))
    dest = tmp_path / "result.json"
    env = {"K8S_AUTH_KUBECONFIG": k8s["kubeconfig"], "KUBECONFIG": str(tmp_path / "absent")}
    proc = ansible_playbook(PLAY.format(path=path, dest=dest), extra_env=env)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    result = json.loads(dest.read_text())
    auto, offline = result["auto"], result["offline"]
    assert auto["server_dry_run"] is True
    (finding,) = [f for f in auto["findings"] if f["check_id"] == "manifest.dry-run"]
    assert "containerPort" in finding["message"] and auto["verdict"]["status"] == "fail"
    assert offline["server_dry_run"] is False
    assert not [f for f in offline["findings"] if f["check_id"].startswith("manifest.dry-run")]
