"""Release N+1 dry-run against production recorded a pass with the diff report, the selector change a
fail naming the object, the apply without a go was refused; production still runs version N, and the
check-mode run on a fresh host left nothing behind."""

import hashlib
import json

RUN = "/tmp/molecule-production_dry_run"
NAMESPACE = "pdr-production"


def record(host, name):
    return json.loads(host.file(f"{RUN}/{name}/production_dry_run.json").content_string)


def measured(verdict, name):
    return next(m["value"] for m in verdict["evidence"]["measurements"] if m["name"] == name)


def test_release_dry_run_passes_with_its_diff_report(host):
    rec = record(host, "clean")
    verdict = rec["verdict"]
    assert verdict["status"] == "pass", verdict["summary"]
    assert [measured(verdict, n) for n in ("objects_create", "objects_update", "objects_unchanged")] == [1, 1, 1]
    assert rec["details"]["orphaned"] == ["ConfigMap/legacy-config"]
    diff = next(a for a in verdict["evidence"]["artifacts"] if a["kind"] == "diff")
    content = host.file(diff["path"]).content
    assert hashlib.sha256(content).hexdigest() == diff["sha256"]
    assert b"-        image: registry.local/sample-app:1.0.0\n+        image: registry.local/sample-app:1.1.0" in content


def test_selector_change_fails_naming_the_object(host):
    verdict = record(host, "defect")["verdict"]
    assert verdict["status"] == "fail"
    assert "deployments/web" in verdict["summary"] and "field is immutable" in verdict["summary"]


def test_apply_without_a_go_was_refused_and_production_is_untouched(host):
    refused = host.file(f"{RUN}/apply-refused.txt").content_string
    assert refused.startswith(f"apply refused: no checklist report at {RUN}/clean/report/checklist.json")
    image = host.check_output(f"kubectl -n {NAMESPACE} get deployment web "
                              "-o jsonpath='{.spec.template.spec.containers[0].image}'")
    assert image == "registry.local/sample-app:1.0.0"
    assert host.run(f"kubectl -n {NAMESPACE} get service web").rc != 0


def test_check_mode_on_a_fresh_host_left_nothing(host):
    assert host.file(f"{RUN}/check-left-behind.txt").content_string == "False"
