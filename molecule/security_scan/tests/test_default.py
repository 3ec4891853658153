"""The role wrote the four reports and a verdict that fails on the planted defects, in the scenario's own
directory that cleanup emptied first."""

import json

BASE = "/tmp/molecule-security_scan"
RUN = f"{BASE}/run"


def test_run_directory_holds_only_this_run(host):
    assert sorted(host.file(RUN).listdir()) == ["run.json", "security_scan", "security_scan.json"]  # run.json: the run it belongs to


def test_reports_written(host):
    for ext in ("json", "sarif", "junit.xml", "md"):
        assert host.file(f"{RUN}/security_scan/security_scan.{ext}").is_file


def test_sarif_lists_the_planted_defects(host):
    sarif = json.loads(host.file(f"{RUN}/security_scan/security_scan.sarif").content_string)
    assert sarif["version"] == "2.1.0"
    rules = {r["ruleId"] for r in sarif["runs"][0]["results"]}
    assert {"repo.unpinned-dependency", "dockerfile.curl-pipe-shell", "repo.debug-in-production"} <= rules


def test_verdict_recorded_as_fail_with_the_files_scanned(host):
    record = json.loads(host.file(f"{RUN}/security_scan.json").content_string)
    assert record["verdict"]["status"] == "fail"
    assert record["verdict"]["evidence"]["findings"]["high"] >= 2
    assert len(record["verdict"]["evidence"]["artifacts"]) == 4
    measured = {m["name"]: m for m in record["verdict"]["evidence"]["measurements"]}
    assert measured["files_scanned"]["value"] == 3 and measured["files_scanned"]["unit"] == "files"
    assert measured["files_unreadable"]["value"] == 0
