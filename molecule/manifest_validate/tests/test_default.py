"""The role wrote the reports, honoured the exemption and recorded a failing verdict, in the scenario's own
directory that cleanup emptied first."""

import json

BASE = "/tmp/molecule-manifest_validate"
RUN = f"{BASE}/run"


def test_run_directory_holds_only_this_run(host):
    assert sorted(host.file(RUN).listdir()) == ["manifest_validate", "manifest_validate.json", "run.json"]  # run.json: the run it belongs to


def test_reports_and_exemption(host):
    report = json.loads(host.file(f"{RUN}/manifest_validate/manifest_validate.json").content_string)
    by_id = {f["check_id"]: f for f in report["findings"]}
    assert "manifest.image-latest" in by_id and "manifest.probes" in by_id
    assert by_id["manifest.labels"]["exempted_by"]["owner"] == "team-web"
    assert report["status"] == "fail" and report["passed"] is False
    assert host.file(f"{RUN}/manifest_validate/manifest_validate.junit.xml").contains("manifest.image-latest")


def test_verdict_recorded(host):
    record = json.loads(host.file(f"{RUN}/manifest_validate.json").content_string)
    assert record["verdict"]["status"] == "fail"
    assert record["details"]["exempted"] == 1
    measured = {m["name"]: m["value"] for m in record["verdict"]["evidence"]["measurements"]}
    assert measured["objects_checked"] == 1 and measured["objects_without_schema"] == 0
