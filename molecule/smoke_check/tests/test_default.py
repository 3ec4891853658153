"""The recorded smoke verdict passes, and the JUnit report holds one passing test case per check."""

import json
import xml.etree.ElementTree as ET


def test_verdict_recorded_pass_with_latency(host):
    record = json.loads(host.file("/tmp/molecule-smoke_check/run/smoke_check.json").content_string)
    assert record["verdict"]["status"] == "pass"
    assert record["details"]["counts"] == {"passed": 2, "failed": 0, "skipped": 0}
    names = {m["name"] for m in record["verdict"]["evidence"]["measurements"]}
    assert {"search.latency_ms", "workspaces.latency_ms"} <= names


def test_junit_report_has_one_case_per_check(host):
    junit = ET.fromstring(host.file("/tmp/molecule-smoke_check/run/smoke_check/smoke_check.junit.xml").content_string)
    assert [c.get("name") for c in junit.iter("testcase")] == ["search", "workspaces"]
    assert junit.get("failures") == "0"
