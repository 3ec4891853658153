"""manifest_validate checks: a clean set has no finding; each planted defect fires its check."""

from __future__ import annotations

import copy
import json

import pytest
import yaml

from ansible_collections.deploysafe.preflight.plugins.module_utils.findings.report import finish_scan
from ansible_collections.deploysafe.preflight.plugins.module_utils.manifests import (
    ManifestError, all_checks, manifest_evidence, parse_stream, validate_manifests,
)
from ansible_collections.deploysafe.preflight.plugins.module_utils.manifests.dry_run import dry_run_wanted
from ansible_collections.deploysafe.preflight.plugins.module_utils.verdict import validate

LABELS = {"app.kubernetes.io/name": "web", "app.kubernetes.io/instance": "web-prod"}
DIGEST = "@sha256:" + "b" * 64


def clean_set():
    container = {
        "name": "web", "image": "registry.example/web:1.4.2" + DIGEST,
        "ports": [{"containerPort": 8080, "name": "http"}],
        "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}, "limits": {"cpu": 1, "memory": "256Mi"}},
        "livenessProbe": {"httpGet": {"path": "/healthz", "port": "http"}},
        "readinessProbe": {"httpGet": {"path": "/ready", "port": 8080}},
        "securityContext": {"allowPrivilegeEscalation": False, "readOnlyRootFilesystem": True,
                            "capabilities": {"drop": ["ALL"]}},
    }
    deployment = {
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "shop", "labels": dict(LABELS)},
        "spec": {"replicas": 3, "selector": {"matchLabels": {"app": "web"}},
                 "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 1, "maxSurge": "25%"}},
                 "template": {"metadata": {"labels": {"app": "web"}},
                              "spec": {"securityContext": {"runAsNonRoot": True, "runAsUser": 10001,
                                                           "seccompProfile": {"type": "RuntimeDefault"}},
                                       "containers": [container]}}},
    }
    service = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web", "namespace": "shop", "labels": dict(LABELS)},
               "spec": {"selector": {"app": "web"}, "ports": [{"port": 80, "targetPort": "http"}]}}
    pdb = {"apiVersion": "policy/v1", "kind": "PodDisruptionBudget", "metadata": {"name": "web", "namespace": "shop"},
           "spec": {"minAvailable": 2, "selector": {"matchLabels": {"app": "web"}}}}
    return [deployment, service, pdb]


def container(docs):
    return docs[0]["spec"]["template"]["spec"]["containers"][0]


def pod(docs):
    return docs[0]["spec"]["template"]["spec"]


def run(docs, tmp_path, **kw):
    path = tmp_path / "set.yaml"
    path.write_text(yaml.safe_dump_all(docs, sort_keys=False))
    findings, _, _ = validate_manifests([str(path)], **kw)
    return findings


MUTATIONS = {
    "manifest.schema": lambda d: container(d).update(imagePullPolicyy="Always"),
    "manifest.unknown-kind": lambda d: d.append({"apiVersion": "example.com/v1", "kind": "Widget",
                                                 "metadata": {"name": "w", "namespace": "shop"}}),
    "manifest.resources": lambda d: container(d)["resources"].pop("limits"),
    "manifest.probes": lambda d: container(d).pop("livenessProbe"),
    "manifest.run-as-non-root": lambda d: [pod(d)["securityContext"].pop(k) for k in ("runAsNonRoot", "runAsUser")],
    "manifest.api-removed": lambda d: d[0].update(apiVersion="extensions/v1beta1"),
    "manifest.api-deprecated": lambda d: d.append({"apiVersion": "v1", "kind": "Endpoints",
                                                   "metadata": {"name": "legacy", "namespace": "shop"}}),
    "manifest.privileged": lambda d: container(d)["securityContext"].update(privileged=True),
    "manifest.privilege-escalation": lambda d: container(d)["securityContext"].pop("allowPrivilegeEscalation"),
    "manifest.read-only-root-fs": lambda d: container(d)["securityContext"].update(readOnlyRootFilesystem=False),
    "manifest.capabilities": lambda d: container(d)["securityContext"]["capabilities"].update(add=["SYS_ADMIN"]),
    "manifest.seccomp": lambda d: pod(d)["securityContext"].pop("seccompProfile"),
    "manifest.host-namespaces": lambda d: pod(d).update(hostNetwork=True),
    "manifest.host-path": lambda d: pod(d).update(volumes=[{"name": "docker", "hostPath": {"path": "/var/run"}}]),
    "manifest.image-latest": lambda d: container(d).update(image="nginx:latest"),
    "manifest.image-digest": lambda d: container(d).update(image="nginx:1.27.0"),
    "manifest.replicas": lambda d: d[0]["spec"].update(replicas=1),
    "manifest.pdb": lambda d: d.pop(2),
    "manifest.rolling-update": lambda d: d[0]["spec"]["strategy"]["rollingUpdate"].update(maxUnavailable="100%"),
    "manifest.service-selector": lambda d: d[1]["spec"].update(selector={"app": "wbe"}),
    "manifest.probe-port": lambda d: container(d)["livenessProbe"]["httpGet"].update(port="metrics"),
    "manifest.labels": lambda d: d[1]["metadata"].pop("labels"),
    "manifest.namespace": lambda d: [x["metadata"].pop("namespace") for x in d],
}


def test_clean_set_has_no_findings(tmp_path):
    assert [f.message for f in run(clean_set(), tmp_path)] == []


@pytest.mark.parametrize("check_id", sorted(MUTATIONS))
def test_planted_defect_fires(tmp_path, check_id):
    docs = clean_set()
    MUTATIONS[check_id](docs)
    findings = run(docs, tmp_path)
    hits = [f for f in findings if f.check_id == check_id]
    assert hits, [f.message for f in findings]
    assert all(f.location.file.endswith("set.yaml") and f.location.line for f in hits)


def test_every_catalogued_offline_check_has_a_planted_case():
    offline = {c.check_id for c in all_checks()} - {"manifest.dry-run", "manifest.dry-run-skipped",
                                                     "manifest.parse-error", "manifest.unreadable"}
    assert offline <= set(MUTATIONS)


def test_schema_messages_point_at_the_line(tmp_path):
    docs = clean_set()
    docs[0]["metadata"]["labels"]["version"] = 2
    container(docs)["imagePullPolicyy"] = "Always"
    findings = [f for f in run(docs, tmp_path) if f.check_id == "manifest.schema"]
    messages = " | ".join(f.message for f in findings)
    assert "must be a string" in messages and "did you mean imagePullPolicy?" in messages
    label = next(f for f in findings if "labels" in f.location.pointer)
    text = (tmp_path / "set.yaml").read_text().splitlines()
    assert "version: 2" in text[label.location.line - 1]


def test_old_api_version_is_reported_with_the_release_that_removed_it(tmp_path):
    docs = clean_set()
    docs[0]["apiVersion"] = "extensions/v1beta1"
    findings = run(docs, tmp_path)
    (f,) = [f for f in findings if f.check_id == "manifest.api-removed"]
    assert "removed in Kubernetes 1.16" in f.message and "use apps/v1" in f.message
    assert not [f for f in findings if f.check_id == "manifest.schema"]  # reported once, not twice
    docs[0]["apiVersion"] = "apps/v2"  # not in the deprecation table: the schema check names the served one
    (f,) = [f for f in run(docs, tmp_path) if f.check_id == "manifest.schema"]
    assert "use apps/v1" in f.message


def test_crd_in_the_set_validates_its_custom_resources(tmp_path):
    crd = {"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
           "metadata": {"name": "widgets.example.com"},
           "spec": {"group": "example.com", "names": {"kind": "Widget", "plural": "widgets"}, "scope": "Namespaced",
                    "versions": [{"name": "v1", "served": True, "storage": True, "schema": {"openAPIV3Schema": {
                        "type": "object", "properties": {"spec": {"type": "object", "required": ["size"],
                                                                  "properties": {"size": {"type": "integer"}}}}}}}]}}
    good = {"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "a", "namespace": "shop"},
            "spec": {"size": 3}}
    bad = copy.deepcopy(good)
    bad["metadata"]["name"], bad["spec"]["size"] = "b", "three"
    findings = run([crd, good, bad], tmp_path)
    assert [f.message.split(":")[0] for f in findings if f.check_id == "manifest.schema"] == ["Widget/b"]
    assert not [f for f in findings if f.check_id == "manifest.unknown-kind"]
    schema_file = tmp_path / "crd.json"
    schema_file.write_text(json.dumps(crd))
    path = tmp_path / "cr.yaml"
    path.write_text(yaml.safe_dump(bad))
    findings, _, _ = validate_manifests([str(path)], crd_schema_files=[str(schema_file)])
    assert any(f.check_id == "manifest.schema" and "three" in f.message for f in findings)


@pytest.mark.parametrize("text,expect", [
    ("apiVersion: v1\nkind: ConfigMap\nmetadata:\n\tname: x\n", r"set.yaml:4:1: .*tab"),
    ("apiVersion: v1\nkind: ConfigMap\nkind: Secret\nmetadata: {name: x}\n", r"set.yaml:3:1: duplicate key /kind"),
    ("apiVersion: v1\nkind: ConfigMap\ndata:\n  a: \"unterminated\n", r"set.yaml:5:1: .*quoted scalar that starts at line 4"),
])
def test_malformed_yaml_is_a_finding_with_position(tmp_path, text, expect):
    path = tmp_path / "set.yaml"
    path.write_text(text)
    findings, _, _ = validate_manifests([str(path)])
    parse = [f for f in findings if f.check_id == "manifest.parse-error"]
    assert parse and pytest.importorskip("re").search(expect, parse[0].message), [f.message for f in findings]


def test_bad_files_do_not_stop_the_others(tmp_path):
    (tmp_path / "a-latin1.yaml").write_bytes(b"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: caf\xe9}\n")
    with open(tmp_path / "b-huge.yaml", "wb") as handle:
        handle.truncate(200 * 1024 * 1024)
    (tmp_path / "c-loop.yaml").symlink_to("c-loop.yaml")
    (tmp_path / "d-ok.yaml").write_text(yaml.safe_dump_all(clean_set()))
    findings, documents, _ = validate_manifests([str(tmp_path)])
    by_check = {}
    for f in findings:
        by_check.setdefault(f.check_id, []).append(f.message)
    assert documents == 3
    assert any("a-latin1.yaml:3:" in m and "not UTF-8" in m for m in by_check["manifest.parse-error"])
    assert any("b-huge.yaml" in m and "limit" in m for m in by_check["manifest.unreadable"])
    assert any("c-loop.yaml" in m for m in by_check["manifest.unreadable"])
    assert set(by_check) == {"manifest.parse-error", "manifest.unreadable"}


def test_missing_path_is_an_error():
    with pytest.raises(ManifestError, match="no such file"):
        validate_manifests(["/nonexistent/deploy"])


def test_kind_list_and_stdin_content():
    text = yaml.safe_dump({"apiVersion": "v1", "kind": "List", "items": clean_set()})
    docs, findings = parse_stream(text, "<stdin>")
    assert [d.kind for d in docs] == ["Deployment", "Service", "PodDisruptionBudget"] and not findings
    findings, documents, _ = validate_manifests(content=text)
    assert documents == 3 and findings == []


def test_unreachable_cluster_is_a_clear_error(tmp_path):
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(yaml.safe_dump({
        "apiVersion": "v1", "kind": "Config", "current-context": "x",
        "clusters": [{"name": "x", "cluster": {"server": "https://127.0.0.1:1"}}],
        "contexts": [{"name": "x", "context": {"cluster": "x", "user": "x"}}],
        "users": [{"name": "x", "user": {"token": "t"}}]}))
    path = tmp_path / "x.yaml"
    path.write_text(yaml.safe_dump(clean_set()[0]))
    with pytest.raises(ManifestError, match=r"server-side dry-run: discover API groups failed: cannot reach the "
                                            r"API server .*\[API server https://127.0.0.1:1 \(auth from kubeconfig\)\]"):
        validate_manifests([str(path)], connection={"kubeconfig": str(kubeconfig)})


def test_a_bad_k8s_auth_variable_is_a_manifest_error(tmp_path, monkeypatch):
    monkeypatch.setenv("K8S_AUTH_KUBECONFIG", "{not json")
    path = tmp_path / "x.yaml"
    path.write_text(yaml.safe_dump(clean_set()[0]))
    with pytest.raises(ManifestError, match="server-side dry-run: K8S_AUTH_KUBECONFIG holds neither a path nor"):
        validate_manifests([str(path)], connection={})


@pytest.mark.parametrize("params, setting, environ, wanted", [
    ({}, None, {}, False),                                           # offline unless told
    ({"kubeconfig": "/k"}, None, {}, True),                          # a kubeconfig alone, as before
    ({"host": "https://k8s:6443", "validate_certs": None}, None, {}, True),
    ({"validate_certs": False}, None, {}, True),
    ({"kubeconfig": ""}, None, {"PATH": "/bin"}, False),             # empty is unset
    ({}, None, {"K8S_AUTH_HOST": "https://k8s:6443"}, True),         # an AWX Kubernetes credential
    ({}, None, {"K8S_AUTH_API_KEY": ""}, False),
    ({"kubeconfig": "/k"}, False, {"K8S_AUTH_HOST": "https://k8s"}, False),
    ({}, True, {}, True),                                            # in-cluster or default kubeconfig
    ({"request_timeout": 30, "paths": ["x"]}, None, {}, False),      # not a connection option
])
def test_when_the_dry_run_runs(params, setting, environ, wanted):
    assert dry_run_wanted(params, setting, environ) is wanted


def verdict_of(docs, tmp_path, **kw):
    """The module's path: validate, evidence, finish_scan."""
    path = tmp_path / "set.yaml"
    path.write_text(yaml.safe_dump_all(docs, sort_keys=False))
    findings, documents, files = validate_manifests([str(path)], **kw)
    coverage, measurements = manifest_evidence(findings, documents, files)
    return finish_scan(findings, all_checks(), "manifests", coverage=coverage, measurements=measurements)["verdict"]


def widget(name):
    return {"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": name, "namespace": "shop"}}


def test_a_set_of_only_unknown_kinds_checked_nothing_and_is_pending(tmp_path):
    """manifest.unknown-kind is low: below the threshold, such a set used to pass with nothing validated."""
    verdict = verdict_of([widget("a"), widget("b")], tmp_path)
    assert verdict["status"] == "pending", verdict["summary"]
    assert "2 object(s) read, none of a kind with a schema" in verdict["summary"]
    measured = {m["name"]: m["value"] for m in verdict["evidence"]["measurements"]}
    assert measured["objects_checked"] == 0 and measured["objects_without_schema"] == 2


def test_known_kinds_next_to_unknown_ones_pass_with_the_count_checked(tmp_path):
    verdict = verdict_of(clean_set() + [widget("a")], tmp_path)
    validate(verdict)
    assert verdict["status"] == "pass", verdict["summary"]
    measured = {m["name"]: (m["value"], m["unit"]) for m in verdict["evidence"]["measurements"]}
    assert measured["objects_checked"] == (3, "objects") and measured["objects_without_schema"] == (1, "objects")


def test_an_empty_set_is_pending(tmp_path):
    verdict = verdict_of([], tmp_path)
    assert verdict["status"] == "pending" and "nothing was scanned (0 objects)" in verdict["summary"]
