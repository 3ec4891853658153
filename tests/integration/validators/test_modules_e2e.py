"""The three validator modules through ansible-playbook: check mode writes no report, a second run
changes nothing, user mistakes fail with a message and no traceback."""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "unit/plugins/module_utils/image"))
from ocibuild import CLEAN_LAYER, build, layer_bytes  # noqa: E402

PLAY = """
- hosts: localhost
  connection: local
  gather_facts: false
  tasks:
    - name: Validate
      deploysafe.preflight.{module}: {args}
      register: out
      ignore_errors: true
    - ansible.builtin.copy:
        content: "{{{{ out | to_json }}}}"
        dest: "{result}"
      check_mode: false
      diff: false
"""


def run(ansible_playbook, tmp_path, module, args, *cli):
    result = tmp_path / f"{module}.result.json"
    proc = ansible_playbook(PLAY.format(module=module, args=json.dumps(args), result=result), *cli)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return json.loads(result.read_text()), proc


def test_security_scan_check_mode_then_idempotent(ansible_playbook, tmp_path):
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "requirements.txt").write_text("requests>=2\n")
    reports = tmp_path / "reports"
    args = {"path": str(repo), "report_dir": str(reports), "severity_threshold": "medium"}
    out, _ = run(ansible_playbook, tmp_path, "security_scan", args, "--check")
    assert out["passed"] is False and out["reports"] == [] and not reports.exists()
    out, _ = run(ansible_playbook, tmp_path, "security_scan", args)
    assert out["changed"] is True and len(out["reports"]) == 4
    assert out["verdict"]["status"] == "fail" and out["counts"]["medium"] == 1
    out, _ = run(ansible_playbook, tmp_path, "security_scan", args)
    assert out["changed"] is False


def test_manifest_validate_bad_yaml_is_a_finding_missing_path_an_error(ansible_playbook, tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("apiVersion: v1\nkind: ConfigMap\nmetadata:\n\tname: x\n")
    out, _ = run(ansible_playbook, tmp_path, "manifest_validate", {"paths": [str(bad)]})
    assert out["findings"][0]["check_id"] == "manifest.parse-error"
    assert out["findings"][0]["location"] == {"file": str(bad), "line": 4, "column": 1}
    out, proc = run(ansible_playbook, tmp_path, "manifest_validate", {"paths": [str(tmp_path / "nope")]})
    assert out["failed"] and "no such file" in out["msg"] and "Traceback" not in proc.stdout + proc.stderr


def test_image_validate_reads_an_archive_and_rejects_garbage(ansible_playbook, tmp_path):
    image = build(tmp_path, [layer_bytes(CLEAN_LAYER)])
    out, _ = run(ansible_playbook, tmp_path, "image_validate", {"path": image, "max_compressed_mb": 1})
    assert out["passed"] is True and out["image"]["format"] == "oci-archive"
    assert out["verdict"]["evidence"]["measurements"][0]["ok"] is True
    junk = tmp_path / "junk.tar"
    junk.write_bytes(b"not an image at all" * 100)
    out, proc = run(ansible_playbook, tmp_path, "image_validate", {"path": str(junk)})
    assert out["failed"] and str(junk) in out["msg"] and "Traceback" not in proc.stdout + proc.stderr


def test_fail_on_fails_the_task_after_returning_the_verdict(ansible_playbook, tmp_path):
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "requirements.txt").write_text("requests>=2\n")
    out, _ = run(ansible_playbook, tmp_path, "security_scan",
                 {"path": str(repo), "severity_threshold": "medium", "fail_on": "fail"})
    assert out["failed"] and out["verdict"]["status"] == "fail" and "at or above medium" in out["msg"]
    assert out["stats"]["files_scanned"] == 1 and out["findings"]
    empty = tmp_path / "empty"
    empty.mkdir()
    out, _ = run(ansible_playbook, tmp_path, "security_scan", {"path": str(empty)})
    assert not out.get("failed") and out["verdict"]["status"] == "pending"  # default fail_on: never
    out, _ = run(ansible_playbook, tmp_path, "security_scan", {"path": str(empty), "fail_on": "fail"})
    assert not out.get("failed")
    out, _ = run(ansible_playbook, tmp_path, "security_scan", {"path": str(empty), "fail_on": "pending"})
    assert out["failed"] and "nothing was scanned (0 files)" in out["msg"]


def test_manifest_validate_of_only_unknown_kinds_is_pending(ansible_playbook, tmp_path):
    crs = "apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: a, namespace: shop}\n"
    out, _ = run(ansible_playbook, tmp_path, "manifest_validate", {"content": crs, "fail_on": "pending"})
    assert out["failed"] and out["verdict"]["status"] == "pending" and "crd_schemas" in out["msg"]
    assert out["documents"] == 1 and out["passed"] is False


def test_manifest_validate_kubernetes_version_picks_the_schema_and_the_removed_apis(ansible_playbook, tmp_path):
    cron = ("apiVersion: batch/v1beta1\nkind: CronJob\nmetadata: {name: nightly, namespace: shop}\n"
            "spec: {schedule: '@daily', jobTemplate: {spec: {template: {spec: {containers: []}}}}}\n")
    out, _ = run(ansible_playbook, tmp_path, "manifest_validate", {"content": cron, "fail_on": "never"})
    assert (out["kubernetes_version"], out["schema_version"]) == ("1.36", "1.36")
    (removed,) = [f for f in out["findings"] if f["check_id"] == "manifest.api-removed"]
    assert "removed in Kubernetes 1.25" in removed["message"] and "use batch/v1" in removed["message"]
    out, _ = run(ansible_playbook, tmp_path, "manifest_validate",
                 {"content": cron, "fail_on": "never", "kubernetes_version": "v1.24.9"})
    assert (out["kubernetes_version"], out["schema_version"]) == ("v1.24.9", "1.36")
    assert [f["check_id"] for f in out["findings"] if f["check_id"].startswith("manifest.api-")] == [
        "manifest.api-deprecated"]
    out, proc = run(ansible_playbook, tmp_path, "manifest_validate", {"content": cron, "kubernetes_version": "next"})
    assert out["failed"] and "kubernetes_version 'next'" in out["msg"] and "Traceback" not in proc.stdout + proc.stderr
