"""The role wrote the four reports and a verdict that fails on the planted defects."""

import json

RUN = "/tmp/molecule-preflight/run"


def test_reports_written(host):
    for ext in ("json", "sarif", "junit.xml", "md"):
        assert host.file(f"{RUN}/security_scan/security_scan.{ext}").is_file


def test_sarif_lists_the_planted_defects(host):
    sarif = json.loads(host.file(f"{RUN}/security_scan/security_scan.sarif").content_string)
    assert sarif["version"] == "2.1.0"
    rules = {r["ruleId"] for r in sarif["runs"][0]["results"]}
    assert {"repo.unpinned-dependency", "dockerfile.curl-pipe-shell", "repo.debug-in-production"} <= rules


def test_verdict_recorded_as_fail(host):
    record = json.loads(host.file(f"{RUN}/security_scan.json").content_string)
    assert record["verdict"]["status"] == "fail"
    assert record["verdict"]["evidence"]["findings"]["high"] >= 2
    assert len(record["verdict"]["evidence"]["artifacts"]) == 4
