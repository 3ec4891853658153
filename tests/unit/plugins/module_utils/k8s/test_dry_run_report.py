"""The production dry-run's verdict and its report files: what passes, what fails, what is written."""

from __future__ import annotations

import hashlib

import pytest

from ansible_collections.deploysafe.preflight.plugins.module_utils.k8s import K8sError
from ansible_collections.deploysafe.preflight.plugins.module_utils.k8s.dry_run import (
    DryRunOptions, ObjectPlan, label_values, production_dry_run, verdict_of)
from ansible_collections.deploysafe.preflight.plugins.module_utils.k8s.dry_run_report import (
    DIFF_FILE, JSON_FILE, write_report)

DIFF = "--- Deployment/web (live)\n+++ Deployment/web (dry-run)\n@@ -1 +1 @@\n-image: web:1\n+image: web:2\n"


def plans():
    return [ObjectPlan("Deployment/web", "update", diff=DIFF, changed_fields=["spec.image"]),
            ObjectPlan("ConfigMap/web", "unchanged"), ObjectPlan("Service/web", "create", diff="+kind: Service\n")]


def result_of(items, orphans=()):
    return {"namespace": "prod", "objects": [p.as_dict() for p in items], "orphaned": list(orphans),
            "orphans_unchecked": [], "skipped": [], "app_label_selector": "app.kubernetes.io/name in (web)"}


def value(verdict, name):
    return next(m["value"] for m in verdict["evidence"]["measurements"] if m["name"] == name)


def test_clean_dry_run_passes_with_counts():
    verdict = verdict_of(plans(), ["ConfigMap/old"], [], 12.34, "prod", [])
    assert verdict["status"] == "pass"
    assert verdict["summary"] == ("server-side dry-run of 3 object(s) against namespace prod: 1 create, 1 update, "
                                  "1 unchanged; 1 orphaned (ConfigMap/old)")
    assert [value(verdict, n) for n in ("objects_create", "objects_update", "objects_unchanged",
                                        "objects_rejected", "dry_run_ms")] == [1, 1, 1, 0, 12.3]


def test_a_refused_object_fails_naming_it_and_nothing_is_pending_green():
    refused = plans() + [ObjectPlan("Deployment/db", "error", error="dry-run apply deployments/db in namespace prod "
                                                                     "failed: HTTP 422 field is immutable")]
    verdict = verdict_of(refused, [], [], 5, "prod", [])
    assert verdict["status"] == "fail" and "deployments/db" in verdict["summary"] and "immutable" in verdict["summary"]
    assert verdict_of([], [], [], 0, "prod", [])["status"] == "pending"


def test_report_is_written_atomically_and_hashed(tmp_path):
    items = plans()
    verdict = verdict_of(items, ["ConfigMap/old"], [], 1, "prod", [])
    out = write_report(str(tmp_path / "r"), result_of(items, ["ConfigMap/old"]), verdict, check_mode=False, now=1)
    text = (tmp_path / "r" / DIFF_FILE).read_text()
    assert text.startswith("# production dry-run against namespace prod: pass\n")
    assert "# Deployment/web: update\n--- Deployment/web (live)" in text and "# ConfigMap/web: unchanged" in text
    assert "# ConfigMap/old: orphaned" in text
    assert {a["kind"]: a["sha256"] for a in out["artifacts"]} == {
        "diff": hashlib.sha256((tmp_path / "r" / DIFF_FILE).read_bytes()).hexdigest(),
        "report": hashlib.sha256((tmp_path / "r" / JSON_FILE).read_bytes()).hexdigest()}
    assert sorted(p.name for p in (tmp_path / "r").iterdir()) == [DIFF_FILE, JSON_FILE]  # no temp files left


def test_check_mode_and_no_report_dir_write_nothing(tmp_path):
    verdict = verdict_of(plans(), [], [], 1, "prod", [])
    planned = write_report(str(tmp_path / "r"), result_of(plans()), verdict, check_mode=True)
    assert planned["artifacts"] == [] and planned["paths"]["diff"].endswith(DIFF_FILE) and not (tmp_path / "r").exists()
    assert write_report("", result_of(plans()), verdict, check_mode=False) == {"paths": {}, "artifacts": []}


def test_unwritable_report_dir_is_an_error(tmp_path):
    (tmp_path / "file").write_text("x")
    verdict = verdict_of(plans(), [], [], 1, "prod", [])
    with pytest.raises(K8sError, match="cannot write the dry-run report into .*file/r"):
        write_report(str(tmp_path / "file" / "r"), result_of(plans()), verdict, check_mode=False)


def test_label_values_and_empty_namespace():
    objs = [{"metadata": {"labels": {"app.kubernetes.io/name": "web"}}}, {"metadata": {}},
            {"metadata": {"labels": {"app.kubernetes.io/name": "api", "x": "y"}}}]
    assert label_values(objs, "app.kubernetes.io/name") == ["api", "web"]
    with pytest.raises(K8sError, match="namespace is empty"):
        production_dry_run(None, DryRunOptions(namespace=" ", content="kind: x"))
