"""The checklist role's result: four report files, pending rendered as failures, manual marked."""

import json
import xml.etree.ElementTree as ET

REPORT = "/tmp/molecule-checklist/run/report"


def test_report_files_exist(host):
    for name in ("checklist.json", "checklist.md", "checklist.html", "checklist.junit.xml"):
        f = host.file(f"{REPORT}/{name}")
        assert f.exists and f.is_file and f.size > 0


def test_decision_is_pending_and_only_real_checks_pass():
    model = json.load(open(f"{REPORT}/checklist.json"))
    assert model["decision"] == "pending" and model["run_id"] == "molecule-checklist"
    status = {r["name"]: r["status"] for r in model["items"]}
    assert status["manifest_validate"] == "pass", model["items"][:3]
    assert status["backup_schedule"] == "fail"
    assert [n for n, s in status.items() if s == "pass"] == ["manifest_validate"]
    # the security item also needs the live namespace's runtime snapshot, which this scenario never takes
    security = next(r for r in model["items"] if r["name"] == "security_scan")
    assert status["security_scan"] == "pending" and "runtime_security: no verdict recorded" in security["reason"]
    assert [p["status"] for p in security["records"]] == ["pass", "pending"]
    manual = next(r for r in model["items"] if r["name"] == "backup_schedule")
    assert manual["manual"] and manual["recorded_by"] == "molecule"
    assert model["release"]["manifests_sha256"].startswith("sha256:")
    assert model["signoff"]["recorded"] is False


def test_junit_never_shows_pending_as_passed_or_skipped():
    root = ET.parse(f"{REPORT}/checklist.junit.xml").getroot()
    cases = root.findall("./testsuite/testcase")
    assert len(cases) == 12 and not root.findall(".//skipped")
    kinds = {c.get("name").split(":")[0]: (c.find("failure").get("type") if c.find("failure") is not None else "pass")
             for c in cases}
    assert kinds["6 backup_schedule"] == "fail" and kinds["12 signoff"] == "pending"
    assert kinds["2 manifest_validate"] == "pass" and kinds["3 security_scan"] == "pending"
    assert sum(1 for k in kinds.values() if k == "pending") == 10


def test_html_is_self_contained_escaped_and_marks_manual():
    page = open(f"{REPORT}/checklist.html").read()
    assert "<script" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "src=" not in page and "<link" not in page and "FAIL (MANUAL)" in page
