"""The recorded monitoring verdict passed with no firing alerts."""

import json


def test_verdict_recorded_pass(host):
    record = json.loads(host.file("/tmp/molecule-monitoring_gate/run/monitoring_gate.json").content_string)
    assert record["verdict"]["status"] == "pass", record["verdict"]["summary"]
    assert record["details"]["firing_alerts"] == []
