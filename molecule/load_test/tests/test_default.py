"""The role's results: reports of both engines and the recorded verdict."""

import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

BASE = "/tmp/molecule-load_test"
LOCUSTFILE = Path(__file__).resolve().parents[3] / "roles" / "load_test" / "files" / "locustfile.py"


def test_builtin_reports_pass_with_plot(host):
    result = json.loads(host.file(f"{BASE}/reports/builtin.json").content_string)
    assert result["verdict"]["status"] == "pass"
    assert set(result["stats"]["stages"]) == {"ramp", "sustain"}
    assert result["resources"]["samples"] > 2
    html = host.file(f"{BASE}/reports/builtin.html").content_string
    assert "<svg" in html and "polyline" in html
    suite = ET.fromstring(host.file(f"{BASE}/reports/builtin.junit.xml").content_string)
    assert suite.get("failures") == "0" and int(suite.get("tests")) > 5


def test_verdict_recorded_with_pg_checks(host):
    record = json.loads(host.file(f"{BASE}/run/load_test.json").content_string)
    assert record["verdict"]["status"] == "pass"
    names = {m["name"] for m in record["verdict"]["evidence"]["measurements"]}
    assert {"p95_ms", "connections_used_pct", "blocked_sessions"} <= names


def test_locust_run_used_the_shipped_user_classes(host):
    result = json.loads(host.file(f"{BASE}/reports/locust.json").content_string)
    assert result["engine"] == "locust" and result["stats"]["overall"]["requests"] > 0
    assert result["verdict"]["status"] == "pass", result["verdict"]["summary"]
    # endpoint names come from the locustfile's request names
    assert "/healthz" not in result["stats"]["endpoints"]
    shipped = set(re.findall(r'name="([a-z_]+)"', LOCUSTFILE.read_text()))
    assert shipped and set(result["stats"]["endpoints"]) <= shipped
