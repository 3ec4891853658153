"""The checklist role's result: four report files, a parseable JUnit file, decision pending."""

import json
import xml.etree.ElementTree as ET

REPORT = "/tmp/molecule-checklist/run/report"


def test_report_files_exist(host):
    for name in ("checklist.json", "checklist.md", "checklist.html", "checklist.junit.xml"):
        f = host.file(f"{REPORT}/{name}")
        assert f.exists and f.is_file and f.size > 0


def test_decision_is_pending_with_a_warning():
    model = json.load(open(f"{REPORT}/checklist.json"))
    assert model["decision"] == "pending"
    assert model["counts"] == {"pass": 9, "fail": 1, "pending": 2, "total": 12, "critical_failed": 0,
                               "critical_open": 0, "warnings": 1}
    assert model["signoff"]["recorded"] is False


def test_junit_parses_one_testcase_per_item():
    root = ET.parse(f"{REPORT}/checklist.junit.xml").getroot()
    cases = root.findall("./testsuite/testcase")
    assert len(cases) == 12
    failed = [c.get("name") for c in cases if c.find("failure") is not None]
    skipped = [c.get("name") for c in cases if c.find("skipped") is not None]
    assert failed == ["6 backup_schedule: Backup schedule in place"]
    assert [s.split(":")[0] for s in skipped] == ["11 monitoring_gate", "12 signoff"]


def test_html_is_self_contained_and_escaped():
    page = open(f"{REPORT}/checklist.html").read()
    assert "<script" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "src=" not in page and "<link" not in page
