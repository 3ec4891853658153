"""Findings model, renderers, exemptions (fake clock), SARIF ingest and the verdict helper."""

from __future__ import annotations

import datetime
import json
import xml.etree.ElementTree as ET
from pathlib import Path

import jsonschema
import pytest

from ansible_collections.deploysafe.preflight.plugins.module_utils.findings import (
    Check, Finding, FindingsError, Location, make_finding,
)
from ansible_collections.deploysafe.preflight.plugins.module_utils.findings.exemptions import (
    apply_exemptions, load_exemptions, parse_exemptions,
)
from ansible_collections.deploysafe.preflight.plugins.module_utils.findings.render import (
    render_json, render_junit, render_markdown, render_sarif,
)
from ansible_collections.deploysafe.preflight.plugins.module_utils.findings.report import finish_scan
from ansible_collections.deploysafe.preflight.plugins.module_utils.findings.sarif_ingest import findings_from_sarif
from ansible_collections.deploysafe.preflight.plugins.module_utils.verdict import validate

HERE = Path(__file__).parent
SARIF_SCHEMA = json.loads((HERE / "sarif-schema-2.1.0.json").read_text())
ROOT_USER = Check("image.user-root", "high", "Image runs as root", "Set USER to a non-root uid.")
LATEST = Check("manifest.image-latest", "medium", "Image tag latest", "Pin the image by digest.")


def sample():
    return [
        make_finding(ROOT_USER, "config.User is empty", Location(file="app.tar", layer="sha256:" + "a" * 64)),
        make_finding(LATEST, "nginx:latest", Location(file="deploy/web.yaml", line=12, pointer="/spec/template")),
        Finding("secrets.aws-access-key", "critical", "AWS key", Location(file="x.py", line=3, column=9),
                evidence_redacted="AKIA****************", remediation="rotate"),
    ]


def assert_valid_sarif(text):
    doc = json.loads(text)
    jsonschema.validate(doc, SARIF_SCHEMA)
    return doc


def test_golden_sarif_validates_against_the_2_1_0_schema():
    findings = sample()
    findings[1].exempted_by = {"owner": "web", "reason": "vendor", "expires": "2030-01-01"}
    ingested = findings_from_sarif({"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "checkov", "rules": [
        {"id": "CKV_K8S_1", "shortDescription": {"text": "x"}}]}}, "results": [
        {"ruleId": "CKV_K8S_1", "level": "error", "message": {"text": "boom"},
         "locations": [{"physicalLocation": {"artifactLocation": {"uri": "k.yaml"}, "region": {"startLine": 4}}}]}]}]})
    doc = assert_valid_sarif(render_sarif(findings + ingested, [ROOT_USER, LATEST]))
    assert doc["version"] == "2.1.0"
    assert [r["tool"]["driver"]["name"] for r in doc["runs"]] == ["deploysafe.preflight", "checkov"]
    ours = doc["runs"][0]["results"]
    assert {r["ruleId"] for r in ours} == {"image.user-root", "manifest.image-latest", "secrets.aws-access-key"}
    assert any(r.get("suppressions") for r in ours)
    secret = next(r for r in ours if r["ruleId"] == "secrets.aws-access-key")
    assert secret["locations"][0]["physicalLocation"]["region"] == {"startLine": 3, "startColumn": 9}
    # an empty report is valid too
    assert_valid_sarif(render_sarif([], [ROOT_USER]))


def test_sarif_schema_rejects_a_broken_log():
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"version": "2.1.0", "runs": [{"results": []}]}, SARIF_SCHEMA)


def test_sarif_round_trip_keeps_severity_and_place():
    doc = json.loads(render_sarif(sample(), [ROOT_USER, LATEST]))
    back = findings_from_sarif(doc)
    assert sorted(f.severity for f in back) == ["critical", "high", "medium"]
    web = next(f for f in back if f.location.file == "deploy/web.yaml")
    assert web.location.line == 12 and web.check_id == "deploysafe.preflight:manifest.image-latest"


def test_sarif_ingest_rejects_non_sarif():
    with pytest.raises(FindingsError, match="not a SARIF log"):
        findings_from_sarif({"foo": 1}, "x.json")


def test_junit_has_one_testcase_per_check_and_fails_at_threshold():
    root = ET.fromstring(render_junit(sample(), [ROOT_USER, LATEST], "high"))
    suite = root.find("testsuite")
    cases = {c.get("name"): c for c in suite.findall("testcase")}
    assert cases["image.user-root"].find("failure") is not None
    assert cases["manifest.image-latest"].find("failure") is None  # medium < high
    assert suite.get("failures") == "2"


def test_json_and_markdown_agree_on_pass_fail():
    doc = json.loads(render_json(sample(), "critical"))
    assert doc["passed"] is False and doc["counts"]["critical"] == 1
    md = render_markdown(sample(), "critical")
    assert md.splitlines()[2].startswith("**FAIL**") and "AKIA****" in md
    assert json.loads(render_json(sample()[:2], "critical"))["passed"] is True


def test_exemption_applies_until_its_expiry_day_then_is_reported(tmp_path):
    path = tmp_path / "exemptions.yml"
    path.write_text("exemptions:\n  - check_id: manifest.*\n    selector: {file: 'deploy/*.yaml'}\n"
                    "    owner: team-web\n    reason: vendor chart\n    expires: 2026-12-31\n")
    exemptions = load_exemptions(str(path))
    findings, exempted = apply_exemptions(sample(), exemptions, today=datetime.date(2026, 12, 31))
    assert exempted == 1 and not any(f.check_id == "exemption.expired" for f in findings)
    findings, exempted = apply_exemptions(sample(), exemptions, today=datetime.date(2027, 1, 1))
    assert exempted == 0
    expired = [f for f in findings if f.check_id == "exemption.expired"]
    assert len(expired) == 1 and "team-web" in expired[0].message and expired[0].location.file == str(path)


def test_exemption_selector_by_fingerprint():
    f = sample()[0]
    ex = parse_exemptions([{"check_id": "image.user-root", "owner": "a", "reason": "b", "expires": "2099-01-01",
                            "selector": {"fingerprint": f.fingerprint}}])
    _, exempted = apply_exemptions([f], ex, today=datetime.date(2026, 1, 1))
    assert exempted == 1


@pytest.mark.parametrize("entry,match", [
    ({"check_id": "x", "owner": "a", "reason": "b"}, "missing expires"),
    ({"check_id": "x", "owner": "a", "reason": "b", "expires": "soon"}, "not a date"),
    ({"check_id": "x", "owner": "a", "reason": "b", "expires": "2030-01-01", "selector": {"bogus": 1}}, "selector"),
])
def test_bad_exemptions_name_the_entry(entry, match):
    with pytest.raises(FindingsError, match=match) as info:
        parse_exemptions([entry], "ex.yml")
    assert "ex.yml: exemption #1" in str(info.value)


def test_malformed_exemptions_yaml_is_a_clear_error(tmp_path):
    path = tmp_path / "ex.yml"
    path.write_text("exemptions:\n\t- check_id: x\n")
    with pytest.raises(FindingsError, match=r"ex.yml:2:1: invalid YAML"):
        load_exemptions(str(path))


def test_finish_scan_builds_a_valid_verdict_with_artifacts(tmp_path):
    result = finish_scan(sample(), [ROOT_USER, LATEST], "demo", threshold="high", report_dir=str(tmp_path))
    validate(result["verdict"])
    assert result["verdict"]["status"] == "fail" and result["passed"] is False
    assert result["verdict"]["evidence"]["findings"]["critical"] == 1
    assert len(result["verdict"]["evidence"]["artifacts"]) == 4
    assert_valid_sarif((tmp_path / "findings.sarif").read_text())
    clean = finish_scan([], [ROOT_USER], "demo", scanned=3)
    assert clean["verdict"]["status"] == "pass"
    assert finish_scan([], [ROOT_USER], "demo", scanned=0)["verdict"]["status"] == "pending"


def test_unknown_severity_is_rejected():
    with pytest.raises(FindingsError):
        Finding("x", "severe", "m")


def test_render_matches_the_committed_golden_sarif():
    """golden.sarif is what a viewer gets; regenerate with UPDATE_GOLDEN=1 after an intended change."""
    import os
    findings = sample()
    findings[1].exempted_by = {"owner": "web", "reason": "vendor", "expires": "2030-01-01"}
    text = render_sarif(findings, [ROOT_USER, LATEST])
    golden = HERE / "golden.sarif"
    if os.environ.get("UPDATE_GOLDEN"):
        golden.write_text(text)
    assert_valid_sarif(golden.read_text())
    assert text == golden.read_text()
