"""production_dry_run against the real control plane: version N runs in the namespace, release N+1 is
dry-run against it (update with the image diff, a new object created, an identical one unchanged, an
orphan listed) and the live objects are untouched; an immutable selector change, an admission policy
denial and an RBAC denial fail naming the object."""

from __future__ import annotations

import hashlib
import json
import time
import uuid

import pytest
from kubernetes import client
from kubernetes.client.rest import ApiException

from k8s_workloads import rollout_complete, wait_for
from rehearsal_helpers import (
    admin_connection, app_deployment, config_map, manifests, measured, run_module, run_role)

from ansible_collections.deploysafe.preflight.plugins.module_utils.k8s.connection import connect
from ansible_collections.deploysafe.preflight.plugins.module_utils.k8s.dry_run import DryRunOptions, production_dry_run
from ansible_collections.deploysafe.preflight.plugins.module_utils.k8s.objects import apply_objects, into_namespace
from ansible_collections.deploysafe.preflight.plugins.module_utils.run import release_identity, start_or_join, store_run

LABELS = {"app.kubernetes.io/name": "sample-app"}


def service():
    return {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "sample-app", "labels": LABELS},
            "spec": {"selector": LABELS, "ports": [{"name": "http", "port": 80, "targetPort": 8080}]}}


def labelled_config_map(name, **data):
    cm = config_map(name, **data)
    cm["metadata"]["labels"] = dict(LABELS)
    return cm


def deploy_version_n(cluster, admin_api, namespace, *objects):
    """What production runs: applied the way a release applies (server-side apply), rolled out."""
    conn = admin_connection(cluster)
    assert apply_objects(conn, into_namespace(list(objects), namespace)[0], namespace) == []
    apps = client.AppsV1Api(admin_api)
    wait_for("version N rolled out", lambda: rollout_complete(apps, namespace, "sample-app"))
    time.sleep(1)  # the controller's last status write; after it the Deployment stays put
    return apps.read_namespaced_deployment("sample-app", namespace)


def by_ref(result):
    return {o["ref"]: o for o in result["objects"]}


def test_release_n_plus_1_is_diffed_against_version_n_and_nothing_live_changes(cluster, admin_api, namespace,
                                                                                tmp_path):
    before = deploy_version_n(cluster, admin_api, namespace, app_deployment("registry.local/app:1", replicas=1),
                              labelled_config_map("app-config", LOG_LEVEL="info"),
                              labelled_config_map("old-config", LOG_LEVEL="debug"))
    release = manifests(app_deployment("registry.local/app:2", replicas=1),
                        labelled_config_map("app-config", LOG_LEVEL="info"), service())
    result = production_dry_run(admin_connection(cluster), DryRunOptions(
        namespace=namespace, content=release, report_dir=str(tmp_path / "report")))
    verdict = result["verdict"]
    assert verdict["status"] == "pass", verdict["summary"]
    objects = by_ref(result)
    assert {ref: o["action"] for ref, o in objects.items()} == {
        "ConfigMap/app-config": "unchanged", "Service/sample-app": "create", "Deployment/sample-app": "update"}
    update = objects["Deployment/sample-app"]
    assert update["changed_fields"] == ["spec.template.spec.containers[0].image"]
    assert "-        image: registry.local/app:1\n+        image: registry.local/app:2\n" in update["diff"]
    assert "resourceVersion" not in update["diff"] and "managedFields" not in update["diff"]
    assert "terminationMessagePath" not in update["diff"]  # defaulted the same on both sides
    assert objects["ConfigMap/app-config"]["diff"] == "" and "+kind: Service" in objects["Service/sample-app"]["diff"]
    assert result["orphaned"] == ["ConfigMap/old-config"] and result["changed"] is False
    assert [measured(verdict, n)["value"] for n in ("objects_create", "objects_update", "objects_unchanged",
                                                     "objects_rejected", "objects_orphaned")] == [1, 1, 1, 0, 1]
    assert measured(verdict, "dry_run_ms")["value"] > 0
    # the live objects are untouched
    after = client.AppsV1Api(admin_api).read_namespaced_deployment("sample-app", namespace)
    assert after.metadata.resource_version == before.metadata.resource_version
    assert after.spec.template.spec.containers[0].image == "registry.local/app:1"
    with pytest.raises(ApiException) as missing:
        client.CoreV1Api(admin_api).read_namespaced_service("sample-app", namespace)
    assert missing.value.status == 404
    # the report is evidence: written, hashed, and it holds the diff
    artifacts = {a["kind"]: a for a in verdict["evidence"]["artifacts"]}
    diff_file = tmp_path / "report" / "production-dry-run.diff"
    assert artifacts["diff"]["path"] == str(diff_file)
    assert artifacts["diff"]["sha256"] == hashlib.sha256(diff_file.read_bytes()).hexdigest()
    text = diff_file.read_text()
    assert "# Deployment/sample-app: update" in text and "+        image: registry.local/app:2" in text
    assert "# ConfigMap/old-config: orphaned" in text
    assert not list((tmp_path / "report").glob(".*partial"))


def test_check_mode_writes_no_report(cluster, namespace, tmp_path):
    result = production_dry_run(admin_connection(cluster), DryRunOptions(
        namespace=namespace, content=manifests(app_deployment()), report_dir=str(tmp_path / "r")), check_mode=True)
    assert result["verdict"]["status"] == "pass" and by_ref(result)["Deployment/sample-app"]["action"] == "create"
    assert not (tmp_path / "r").exists() and result["verdict"]["evidence"]["artifacts"] == []


def test_immutable_selector_change_fails_naming_the_object(cluster, admin_api, namespace):
    deploy_version_n(cluster, admin_api, namespace, app_deployment("registry.local/app:1", replicas=1))
    changed = app_deployment("registry.local/app:1", replicas=1)
    changed["spec"]["selector"]["matchLabels"]["tier"] = "web"
    changed["spec"]["template"]["metadata"]["labels"]["tier"] = "web"
    result = production_dry_run(admin_connection(cluster), DryRunOptions(namespace=namespace,
                                                                         content=manifests(changed)))
    verdict = result["verdict"]
    assert verdict["status"] == "fail"
    assert "deployments/sample-app" in verdict["summary"] and "field is immutable" in verdict["summary"]
    assert by_ref(result)["Deployment/sample-app"]["action"] == "error"
    assert measured(verdict, "objects_rejected")["value"] == 1


def test_admission_policy_denial_fails_with_the_api_message(cluster, admin_api, namespace):
    """A ValidatingAdmissionPolicy (CEL, in the API server: a real admission denial without a webhook server)."""
    name = f"no-latest-{uuid.uuid4().hex[:6]}"
    adm = client.AdmissionregistrationV1Api(admin_api)
    client.CoreV1Api(admin_api).patch_namespace(namespace, {"metadata": {"labels": {"policy-test": name}}})
    adm.create_validating_admission_policy({
        "metadata": {"name": name},
        "spec": {"failurePolicy": "Fail",
                 "matchConstraints": {"resourceRules": [{"apiGroups": ["apps"], "apiVersions": ["v1"],
                                                         "operations": ["CREATE", "UPDATE"],
                                                         "resources": ["deployments"]}]},
                 "validations": [{"expression": "object.spec.template.spec.containers.all(c, !c.image.endsWith(':latest'))",
                                  "message": "images must be pinned, not :latest"}]}})
    adm.create_validating_admission_policy_binding({
        "metadata": {"name": name},
        "spec": {"policyName": name, "validationActions": ["Deny"],
                 "matchResources": {"namespaceSelector": {"matchLabels": {"policy-test": name}}}}})
    try:
        conn = admin_connection(cluster)
        opts = DryRunOptions(namespace=namespace, content=manifests(app_deployment("registry.local/app:latest")))
        # the policy is enforced once the API server's informers have it
        result = wait_for("the policy enforced", lambda: (lambda r: r if r["verdict"]["status"] == "fail" else None)(
            production_dry_run(conn, opts)), timeout=30, interval=1)
        assert "deployments/sample-app" in result["verdict"]["summary"]
        assert "images must be pinned, not :latest" in result["verdict"]["summary"]
    finally:
        adm.delete_validating_admission_policy_binding(name)
        adm.delete_validating_admission_policy(name)


def test_rbac_limited_user_is_told_what_is_forbidden(cluster):
    conn = connect({"kubeconfig": cluster["kubeconfig_restricted"]})
    secret = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "api", "labels": LABELS},
              "stringData": {"token": "x"}}
    result = production_dry_run(conn, DryRunOptions(namespace=cluster["restricted_namespace"],
                                                    content=manifests(app_deployment(), secret)))
    verdict = result["verdict"]
    assert verdict["status"] == "fail"
    assert f"forbidden: get secrets/api in namespace {cluster['restricted_namespace']}" in verdict["summary"]
    assert by_ref(result)["Deployment/sample-app"]["action"] == "create"  # allowed: dry-run only
    assert any(u.startswith("forbidden: list secrets") for u in result["orphans_unchecked"])


def release_file(tmp_path, image="registry.local/app:2"):
    """Release N+1's manifests as a file (an apply is matched against the hash its run recorded)."""
    path = tmp_path / "release" / "app.yaml"
    path.parent.mkdir(exist_ok=True)
    path.write_text(manifests(app_deployment(image, replicas=1)))
    return str(path)


def dry_run_module(ansible_playbook, tmp_path, cluster, namespace, run_dir, apply, *cli_args):
    """production_dry_run of release N+1 through ansible-playbook; (registered result, stdout)."""
    args = {"kubeconfig": cluster["kubeconfig"], "namespace": namespace, "run_dir": str(run_dir), "apply": apply,
            "paths": [release_file(tmp_path)]}
    return run_module(ansible_playbook, tmp_path, "production_dry_run", args, *cli_args)


def start_run(run_dir, paths):
    _changed, record, _before = start_or_join(str(run_dir), release=release_identity(manifests=paths))
    store_run(str(run_dir), record)
    return record["run_id"]


def live_image(admin_api, namespace):
    return client.AppsV1Api(admin_api).read_namespaced_deployment(
        "sample-app", namespace).spec.template.spec.containers[0].image


def test_apply_needs_a_go_of_this_run(ansible_playbook, tmp_path, cluster, admin_api, namespace):
    deploy_version_n(cluster, admin_api, namespace, app_deployment("registry.local/app:1", replicas=1))
    run_dir = tmp_path / "run"
    run_id = start_run(run_dir, [release_file(tmp_path)])

    # no checklist report: refused, nothing applied (diff mode still shows what would change)
    out, stdout = dry_run_module(ansible_playbook, tmp_path, cluster, namespace, run_dir, True, "--diff")
    assert out["failed"] is True and out["msg"].startswith("apply refused: no checklist report at ")
    assert live_image(admin_api, namespace) == "registry.local/app:1"

    # a go, but of another run: refused
    (run_dir / "report").mkdir()
    (run_dir / "report" / "checklist.json").write_text(json.dumps({"decision": "go", "run_id": "20261201T000000Z-0ld"}))
    out, _ = dry_run_module(ansible_playbook, tmp_path, cluster, namespace, run_dir, True)
    assert out["failed"] is True
    assert out["msg"] == (f"apply refused: the go in {run_dir}/report/checklist.json belongs to run "
                          f"20261201T000000Z-0ld, not to the current run {run_id}")
    assert live_image(admin_api, namespace) == "registry.local/app:1"

    # the go of this run, in check mode: the diff, nothing applied
    (run_dir / "report" / "checklist.json").write_text(json.dumps({"decision": "go", "run_id": run_id}))
    out, stdout = dry_run_module(ansible_playbook, tmp_path, cluster, namespace, run_dir, True, "--check", "--diff")
    assert out["changed"] is True and out["apply"]["applied"] is False and not out.get("failed")
    assert out["apply"]["changed_objects"] == ["Deployment/sample-app"]  # would change
    assert out["diff"][0]["before_header"] == "Deployment/sample-app (live)"
    assert "registry.local/app:1" in stdout and "registry.local/app:2" in stdout  # the diff callback printed it
    assert live_image(admin_api, namespace) == "registry.local/app:1"

    # the go of this run, but the manifests were edited after the checks: refused
    out, _ = run_module(ansible_playbook, tmp_path, "production_dry_run", {
        "kubeconfig": cluster["kubeconfig"], "namespace": namespace, "run_dir": str(run_dir), "apply": True,
        "content": manifests(app_deployment("registry.local/app:3", replicas=1))})
    assert out["failed"] is True and "give the manifests as paths (not content)" in out["msg"]
    edited = tmp_path / "edited"
    edited.mkdir()
    (edited / "app.yaml").write_text(manifests(app_deployment("registry.local/app:3", replicas=1)))
    out, _ = run_module(ansible_playbook, tmp_path, "production_dry_run", {
        "kubeconfig": cluster["kubeconfig"], "namespace": namespace, "run_dir": str(run_dir), "apply": True,
        "paths": [str(edited / "app.yaml")]})
    assert out["failed"] is True and "these are not the manifests its checks passed" in out["msg"], out["msg"]
    assert live_image(admin_api, namespace) == "registry.local/app:1"

    # the go of this run: applied, then a second run changes nothing
    out, _ = dry_run_module(ansible_playbook, tmp_path, cluster, namespace, run_dir, True)
    assert out["changed"] is True and out["apply"]["changed_objects"] == ["Deployment/sample-app"], out.get("msg")
    assert out["apply"]["run_id"] == run_id and live_image(admin_api, namespace) == "registry.local/app:2"
    out, _ = dry_run_module(ansible_playbook, tmp_path, cluster, namespace, run_dir, True)
    assert out["changed"] is False and out["apply"]["changed_objects"] == []
    assert by_ref(out)["Deployment/sample-app"]["action"] == "unchanged"


def test_without_apply_the_module_never_changes_anything(ansible_playbook, tmp_path, cluster, admin_api, namespace):
    deploy_version_n(cluster, admin_api, namespace, app_deployment("registry.local/app:1", replicas=1))
    out, _ = dry_run_module(ansible_playbook, tmp_path, cluster, namespace, tmp_path / "none", False)
    assert out["changed"] is False and "apply" not in out and out["verdict"]["status"] == "pass"
    assert out["verdict"]["producer"]["modules"] == ["production_dry_run"]
    assert live_image(admin_api, namespace) == "registry.local/app:1"


def test_role_records_the_verdict_with_the_report_and_gates(ansible_playbook, tmp_path, cluster, admin_api, namespace):
    deploy_version_n(cluster, admin_api, namespace, app_deployment("registry.local/app:1", replicas=1))
    release = manifests(app_deployment("registry.local/app:2", replicas=1))
    proc, record = run_role(ansible_playbook, tmp_path, cluster, "production_dry_run",
                            production_dry_run_namespace=namespace, production_dry_run_content=release)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert record["verdict"]["status"] == "pass" and record["details"]["objects"][0]["action"] == "update"
    assert "diff" not in record["details"]["objects"][0]  # the diff lives in the report file
    run_dir = tmp_path / "run"
    assert {a["path"] for a in record["verdict"]["evidence"]["artifacts"]} == {
        str(run_dir / "production_dry_run" / "production-dry-run.diff"),
        str(run_dir / "production_dry_run" / "production-dry-run.json")}
    # a refused object fails the play (production_dry_run_fail_on: pending) after recording the fail
    changed = app_deployment("registry.local/app:2", replicas=1)
    changed["spec"]["selector"]["matchLabels"]["tier"] = "web"
    changed["spec"]["template"]["metadata"]["labels"]["tier"] = "web"
    proc, record = run_role(ansible_playbook, tmp_path, cluster, "production_dry_run",
                            production_dry_run_namespace=namespace, production_dry_run_content=manifests(changed))
    assert proc.returncode != 0 and "production_dry_run is fail (fail_on pending)" in proc.stdout
    assert record["verdict"]["status"] == "fail"
    assert live_image(admin_api, namespace) == "registry.local/app:1"
