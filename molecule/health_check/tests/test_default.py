"""The recorded health verdict names the database dependency as passing."""

import json


def test_verdict_recorded_pass_with_dependencies(host):
    record = json.loads(host.file("/tmp/molecule-health_check/run/health_check.json").content_string)
    assert record["verdict"]["status"] == "pass"
    assert record["details"]["dependencies"]["postgres:connection"] == "pass"
