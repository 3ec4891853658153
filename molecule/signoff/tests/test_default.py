"""The signoff role's result: a signed approval (go), a recorded override (still no-go), and a backup byte
changed after approval caught by the checklist, which verifies the signature with the approver's public key."""

import json
import xml.etree.ElementTree as ET

BASE = "/tmp/molecule-signoff"


def _model(run):
    return json.load(open(f"{BASE}/{run}/report/checklist.json"))


def test_signoff_file_records_who_what_ticket_and_is_signed(host):
    f = host.file(f"{BASE}/good/signoff.json")
    assert f.exists and f.mode == 0o600
    record = json.loads(f.content_string)
    assert record["name"] == "signoff" and record["verdict"]["status"] == "pass"
    details = record["details"]
    assert details["by"] == "molecule-approver" and details["decision"] == "approve"
    assert details["change_ticket"] == "CHG-42" and details["override"] is False
    assert details["signature"]["alg"] == "ssh-ed25519" and details["signature"]["key_id"].startswith("SHA256:")
    assert "pg_backup.json" in details["evidence"]["files"] and details["evidence"]["artifacts"][0]["rehashed"]
    assert "PRIVATE KEY" not in f.content_string


def test_good_run_is_go_with_a_verified_signature():
    model = _model("good")
    assert model["decision"] == "go", model["decision_reason"]
    assert model["signoff"]["signature"] == "verified" and model["signoff"]["problems"] == []
    root = ET.parse(f"{BASE}/good/report/checklist.junit.xml").getroot()
    assert root.get("tests") == "12" and root.get("failures") == "0" and root.get("skipped") == "0"


def test_bad_run_override_is_recorded_and_visible_but_not_a_pass():
    record = json.load(open(f"{BASE}/bad/signoff.json"))
    assert record["details"]["override"] is True and record["details"]["not_pass_at_signoff"] == ["load_test"]
    model = _model("bad")
    assert model["decision"] == "no-go" and model["signoff"]["override"] is True
    assert model["signoff"]["signature"] == "verified"
    assert "OVERRIDE" in open(f"{BASE}/bad/report/checklist.html").read()
    assert "OVERRIDE" in open(f"{BASE}/bad/report/checklist.md").read()


def test_backup_changed_after_approval_is_named_and_the_signoff_not_valid():
    model = _model("tampered")
    assert model["decision"] == "pending"
    signoff = model["signoff"]
    assert signoff["status"] == "pending" and signoff["signature"] == "verified"
    assert signoff["problems"] == [p for p in signoff["problems"]
                                   if p.startswith(f"artifact {BASE}/backups/tampered.dump (named by pg_backup.json) "
                                                   "changed after the sign-off")] and len(signoff["problems"]) == 1
    assert "tampered.dump" in open(f"{BASE}/tampered/report/checklist.md").read()


def test_fixture_verdicts_are_marked_manual():
    model = json.load(open("/tmp/molecule-signoff/good/report/checklist.json"))
    assert all(item["manual"] for item in model["items"] if item["name"] != "signoff")
    assert any("recorded by hand" in w for w in model["warnings"])
