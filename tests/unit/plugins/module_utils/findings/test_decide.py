"""decide() and the reports that show it: pending is never green, a user-set limit gates at any threshold,
and only accepted SARIF suppressions exempt."""

from __future__ import annotations

import datetime
import json
import xml.etree.ElementTree as ET

import pytest

from ansible_collections.deploysafe.preflight.plugins.module_utils.findings import (
    Check, Coverage, Location, decide, make_finding,
)
from ansible_collections.deploysafe.preflight.plugins.module_utils.findings.exemptions import (
    apply_exemptions, parse_exemptions,
)
from ansible_collections.deploysafe.preflight.plugins.module_utils.findings.render import (
    render_json, render_junit, render_markdown,
)
from ansible_collections.deploysafe.preflight.plugins.module_utils.findings.report import finish_scan
from ansible_collections.deploysafe.preflight.plugins.module_utils.findings.sarif_ingest import (
    findings_from_sarif, suppression_state,
)
from ansible_collections.deploysafe.preflight.plugins.module_utils.verdict import validate

BUDGET = Check("demo.size", "medium", "Over budget", "Shrink it.", gate="fail")
UNREADABLE = Check("demo.unreadable", "medium", "Could not read", "Make it readable.", gate="pending")
STYLE = Check("demo.style", "low", "Style", "Tidy up.")
CHECKS = [BUDGET, UNREADABLE, STYLE]
FILES = Coverage("files_scanned", 3, "files")


def junit_cases(text):
    suite = ET.fromstring(text).find("testsuite")
    return suite, {c.get("name"): c for c in suite.findall("testcase")}


@pytest.mark.parametrize("threshold", ["medium", "high", "critical"])
def test_a_user_set_limit_fails_at_any_threshold(tmp_path, threshold):
    over = make_finding(BUDGET, "size 210 MiB is over the 200 MiB budget", Location(file="app.tar"))
    result = finish_scan([over], CHECKS, "image", threshold=threshold, coverage=FILES, report_dir=str(tmp_path))
    assert result["verdict"]["status"] == "fail" and result["passed"] is False
    assert json.loads((tmp_path / "findings.json").read_text())["passed"] is False
    assert (tmp_path / "findings.md").read_text().splitlines()[2].startswith("**FAIL**")
    _, cases = junit_cases((tmp_path / "findings.junit.xml").read_text())
    assert cases["demo.size"].find("failure") is not None


def test_a_user_set_limit_cannot_be_exempted():
    over = make_finding(BUDGET, "over budget")
    exemptions = parse_exemptions([{"check_id": "demo.*", "owner": "a", "reason": "b", "expires": "2099-01-01"}])
    findings, exempted = apply_exemptions([over], exemptions, today=datetime.date(2026, 1, 1))
    assert exempted == 0 and not findings[0].exempted_by
    assert decide(findings, "critical", coverage=FILES).status == "fail"


def test_an_input_that_could_not_be_examined_is_pending_not_pass(tmp_path):
    hole = make_finding(UNREADABLE, "secrets.yaml: Input/output error; not scanned", Location(file="secrets.yaml"))
    result = finish_scan([hole], CHECKS, "repository", threshold="critical", coverage=FILES,
                         report_dir=str(tmp_path))
    verdict = result["verdict"]
    assert verdict["status"] == "pending" and "could not decide" in verdict["summary"]
    assert {m["name"]: m["value"] for m in verdict["evidence"]["measurements"]}["inputs_not_examined"] == 1
    doc = json.loads((tmp_path / "findings.json").read_text())
    assert doc["passed"] is False and doc["status"] == "pending"
    assert (tmp_path / "findings.md").read_text().splitlines()[2].startswith("**PENDING**")
    # ... and a failing finding still wins over pending
    style = make_finding(STYLE, "nit")
    assert decide([hole, style], "low", coverage=FILES).status == "fail"


def test_an_exempted_unreadable_input_lets_the_scan_pass():
    hole = make_finding(UNREADABLE, "vendor/blob: unreadable", Location(file="vendor/blob"))
    exemptions = parse_exemptions([{"check_id": "demo.unreadable", "owner": "a", "reason": "vendored",
                                    "expires": "2099-01-01"}])
    findings, _ = apply_exemptions([hole], exemptions, today=datetime.date(2026, 1, 1))
    assert decide(findings, "high", coverage=FILES).status == "pass"


@pytest.mark.parametrize("count", [0, None])
def test_nothing_scanned_is_pending_in_the_verdict_and_every_report(tmp_path, count):
    result = finish_scan([], CHECKS, "repository", coverage=Coverage("files_scanned", count, "files"),
                         report_dir=str(tmp_path))
    assert result["verdict"]["status"] == "pending" and "nothing was scanned" in result["verdict"]["summary"]
    assert json.loads((tmp_path / "findings.json").read_text())["passed"] is False
    suite, cases = junit_cases((tmp_path / "findings.junit.xml").read_text())
    verdict_case = cases["verdict"]
    assert verdict_case.find("failure") is not None and verdict_case.find("skipped") is None
    assert "nothing was scanned" in verdict_case.find("failure").get("message")
    assert suite.get("failures") == "1"


def test_junit_shows_an_undecided_check_as_a_failure_never_skipped_or_passed():
    hole = make_finding(UNREADABLE, "a.txt: unreadable", Location(file="a.txt"))
    outcome = decide([hole], "high", "repo", FILES)
    suite, cases = junit_cases(render_junit([hole], CHECKS, "high", outcome=outcome))
    assert cases["demo.unreadable"].find("failure") is not None
    assert "pending" in cases["demo.unreadable"].find("failure").get("message")
    assert cases["verdict"].find("failure").get("type") == "pending"
    assert not [c for c in cases.values() if c.find("skipped") is not None]
    assert suite.get("failures") == "2"


def test_a_clean_scan_passes_with_the_measurement_that_earned_it():
    result = finish_scan([make_finding(STYLE, "nit")], CHECKS, "repository", coverage=FILES)
    verdict = result["verdict"]
    validate(verdict)
    assert verdict["status"] == "pass"
    scanned = next(m for m in verdict["evidence"]["measurements"] if m["name"] == "files_scanned")
    assert scanned == {"name": "files_scanned", "value": 3, "unit": "files"}
    # renderers on their own (no outcome given) agree with the verdict
    assert json.loads(render_json(result_findings(result), "high"))["passed"] is True
    assert render_markdown(result_findings(result), "high").splitlines()[2].startswith("**PASS**")


def result_findings(result):
    from ansible_collections.deploysafe.preflight.plugins.module_utils.findings import Finding
    return [Finding.from_dict(f) for f in result["findings"]]


def test_gate_survives_the_json_round_trip():
    over = make_finding(BUDGET, "over")
    assert over.to_dict()["gate"] == "fail" and result_findings({"findings": [over.to_dict()]})[0].gate == "fail"
    assert "gate" not in make_finding(STYLE, "nit").to_dict()


# SARIF 2.1.0 §3.27.23/§3.35.3: suppression state comes from each suppression's status.
@pytest.mark.parametrize("suppressions,suppressed", [
    (None, False),
    ([], False),
    ([{"kind": "inSource"}], True),
    ([{"kind": "external", "status": "accepted"}], True),
    ([{"kind": "external", "status": "underReview"}], False),
    ([{"kind": "external", "status": "rejected"}], False),
    ([{"kind": "external", "status": "accepted"}, {"kind": "external", "status": "rejected"}], False),
    ([{"kind": "external", "status": "accepted"}, {"kind": "inSource"}], True),
    ([{"kind": "external", "status": "waived"}], False),
])
def test_only_accepted_sarif_suppressions_exempt(suppressions, suppressed):
    assert suppression_state(suppressions)[0] is suppressed


def sarif_with(status):
    suppression = {"kind": "external", "justification": "tracked in SEC-12"}
    if status:
        suppression["status"] = status
    return {"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "trivy"}}, "results": [
        {"ruleId": "CVE-2026-0001", "level": "error", "message": {"text": "openssl vulnerable"},
         "properties": {"security-severity": "9.8"}, "suppressions": [suppression]}]}]}


@pytest.mark.parametrize("status", ["underReview", "rejected"])
def test_a_suppression_not_accepted_keeps_the_finding_and_fails_the_gate(tmp_path, status):
    (finding,) = findings_from_sarif(sarif_with(status), "trivy.sarif")
    assert finding.exempted_by is None and f"status {status}: not applied" in finding.message
    path = tmp_path / "trivy.sarif"
    path.write_text(json.dumps(sarif_with(status)))
    result = finish_scan([], CHECKS, "repository", coverage=FILES, sarif_inputs=[str(path)])
    assert result["verdict"]["status"] == "fail" and result["counts"]["critical"] == 1


@pytest.mark.parametrize("status", ["accepted", None])
def test_an_accepted_suppression_exempts_with_its_justification(status):
    (finding,) = findings_from_sarif(sarif_with(status), "trivy.sarif")
    assert finding.exempted_by and "SEC-12" in finding.exempted_by["reason"]
    assert decide([finding], "high", coverage=FILES).status == "pass"
