"""The role wrote the reports, honoured the exemption and recorded a failing verdict."""

import json

RUN = "/tmp/molecule-preflight/run"


def test_reports_and_exemption(host):
    report = json.loads(host.file(f"{RUN}/manifest_validate/manifest_validate.json").content_string)
    by_id = {f["check_id"]: f for f in report["findings"]}
    assert "manifest.image-latest" in by_id and "manifest.probes" in by_id
    assert by_id["manifest.labels"]["exempted_by"]["owner"] == "team-web"
    assert host.file(f"{RUN}/manifest_validate/manifest_validate.junit.xml").contains("manifest.image-latest")


def test_verdict_recorded(host):
    record = json.loads(host.file(f"{RUN}/manifest_validate.json").content_string)
    assert record["verdict"]["status"] == "fail"
    assert record["details"]["exempted"] == 1
