"""The signoff role's result: a recorded approval (go), a recorded override (still no-go), no refused write."""

import json
import xml.etree.ElementTree as ET

BASE = "/tmp/molecule-signoff"


def _model(run):
    return json.load(open(f"{BASE}/{run}/report/checklist.json"))


def test_signoff_file_records_who_what_and_ticket(host):
    f = host.file(f"{BASE}/good/signoff.json")
    assert f.exists and f.mode == 0o600
    record = json.loads(f.content_string)
    assert record["name"] == "signoff" and record["verdict"]["status"] == "pass"
    details = record["details"]
    assert details["by"] == "molecule-approver" and details["decision"] == "approve"
    assert details["change_ticket"] == "CHG-42" and details["override"] is False


def test_good_run_is_go():
    model = _model("good")
    assert model["decision"] == "go", model["decision_reason"]
    root = ET.parse(f"{BASE}/good/report/checklist.junit.xml").getroot()
    assert root.get("tests") == "12" and root.get("failures") == "0" and root.get("skipped") == "0"


def test_bad_run_override_is_recorded_and_visible_but_not_a_pass():
    record = json.load(open(f"{BASE}/bad/signoff.json"))
    assert record["details"]["override"] is True and record["details"]["not_pass_at_signoff"] == ["load_test"]
    model = _model("bad")
    assert model["decision"] == "no-go" and model["signoff"]["override"] is True
    assert "OVERRIDE" in open(f"{BASE}/bad/report/checklist.html").read()
    assert "OVERRIDE" in open(f"{BASE}/bad/report/checklist.md").read()
