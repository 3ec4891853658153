"""Report renderers: escaping, JUnit structure, unchanged content is not rewritten."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

from ansible_collections.deploysafe.preflight.plugins.module_utils.checklist.evaluate import evaluate
from ansible_collections.deploysafe.preflight.plugins.module_utils.checklist.items import build_items
from ansible_collections.deploysafe.preflight.plugins.module_utils.checklist.module_support import run_report
from ansible_collections.deploysafe.preflight.plugins.module_utils.checklist.render import render_junit, render_markdown
from ansible_collections.deploysafe.preflight.plugins.module_utils.checklist.render_html import render_html
from ansible_collections.deploysafe.preflight.plugins.module_utils.verdict import artifact, measurement

from checklist_helpers import NOW, put

EVIL = '<script>alert("x")</script> & | `'
ALL = ["json", "markdown", "html", "junit"]


def report_params(run_dir, **kw):
    return dict(dict(run_dir=str(run_dir), items=[], critical={}, max_age="", report_dir=None, formats=ALL,
                     title="Pre-deployment checklist"), **kw)


def test_html_escapes_a_script_summary(all_pass):
    put(all_pass, "load_test", "fail", EVIL)
    page = render_html(evaluate(str(all_pass), build_items(), now=NOW)).decode()
    assert "<script" not in page.lower()
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp;" in page
    assert "http://" not in page and "https://" not in page and "<link" not in page  # self-contained


def test_markdown_escapes_html_and_table_breaks(all_pass):
    put(all_pass, "load_test", "fail", EVIL + "\nsecond line")
    text = render_markdown(evaluate(str(all_pass), build_items(), now=NOW)).decode()
    row = next(line for line in text.splitlines() if "`load_test`" in line)
    assert "<script" not in text and "&lt;script&gt;" in row and "\\|" in row and row.count(" | ") == 4


def test_html_shows_artifacts_measurements_and_findings(all_pass, tmp_path):
    f = tmp_path / "dump.bin"
    f.write_bytes(b"data")
    a = artifact(str(f))
    put(all_pass, "pg_backup", "pass", "restored", artifacts=[a], findings={"differing_tables": 0},
        measurements=[measurement("restore_duration", 2.4, "s", 300, "<=")])
    page = render_html(evaluate(str(all_pass), build_items(), now=NOW)).decode()
    assert a["sha256"] in page and "restore_duration" in page and "&lt;= 300" in page and "differing_tables 0" in page


def test_junit_one_testcase_per_item(all_pass):
    put(all_pass, "load_test", "fail", "p95 over")
    (all_pass / "s3_backup.json").unlink()
    root = ET.fromstring(render_junit(evaluate(str(all_pass), build_items(), now=NOW)))
    cases = root.findall("./testsuite/testcase")
    assert len(cases) == 12 and root.get("tests") == "12"
    # pending (s3_backup, the sign-off) is a failure too, never skipped: CI systems show skipped as green
    assert root.get("failures") == "3" and root.get("skipped") == "0"
    by_name = {c.get("name").split(":")[0]: c for c in cases}
    assert by_name["9 load_test"].find("failure").get("message") == "p95 over"
    assert by_name["9 load_test"].find("failure").get("type") == "fail"
    pending = by_name["5 s3_backup"].find("failure")
    assert pending.get("type") == "pending" and "no verdict recorded" in pending.get("message")
    assert not root.findall(".//skipped")
    assert by_name["1 image_validate"].find("failure") is None and by_name["1 image_validate"].find("skipped") is None
    props = {p.get("name"): p.get("value") for p in root.iter("property")}
    assert props["decision"] == "no-go"


def test_check_mode_writes_nothing_and_unchanged_content_is_not_rewritten(all_pass):
    result, error = run_report(report_params(all_pass), check_mode=True, now=NOW)
    assert error is None and result["changed"] and not (all_pass / "report").exists()
    assert result["decision"] == "pending" and result["verdict"]["status"] == "pending"
    first, _ = run_report(report_params(all_pass), check_mode=False, now=NOW)
    assert first["changed"] and len(first["verdict"]["evidence"]["artifacts"]) == 4
    again, _ = run_report(report_params(all_pass), check_mode=False, now=NOW + 3600)  # later: only the time differs
    assert not again["changed"]
    assert json.loads((all_pass / "report" / "checklist.json").read_text())["generated_at"] == "2027-01-15T08:00:00Z"
    put(all_pass, "load_test", "fail")
    third, _ = run_report(report_params(all_pass), check_mode=False, now=NOW + 7200)
    assert third["changed"] and third["decision"] == "no-go" and third["verdict"]["status"] == "fail"


def test_unknown_format_is_an_error(all_pass):
    _, error = run_report(report_params(all_pass, formats=["pdf"]), check_mode=False, now=NOW)
    assert "unknown report formats" in error
