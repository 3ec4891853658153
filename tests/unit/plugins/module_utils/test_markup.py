"""The one escaping place for the reports: Markdown tables stay tables, HTML stays text, JUnit stays XML."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from ansible_collections.deploysafe.preflight.plugins.module_utils.findings import Check, Finding, Location
from ansible_collections.deploysafe.preflight.plugins.module_utils.findings.render import render_junit, render_markdown
from ansible_collections.deploysafe.preflight.plugins.module_utils.markup import (
    md_code, md_inline, xml_attr, xml_clean, xml_text,
)

# A file name with C0 control characters (legal on Linux) and markup in the message.
NASTY = "deploy/we\x01b|<b>x</b>\x1f.yaml"


def test_xml_helpers_drop_what_xml_cannot_carry():
    assert xml_clean("a\x00b\x0bc\td\ne") == "a?b?c\td\ne"
    assert xml_text("<a & \x02>") == "&lt;a &amp; ?&gt;"
    root = ET.fromstring(f"<t a={xml_attr(NASTY)}>{xml_text(NASTY)}</t>")
    assert root.get("a") == root.text == "deploy/we?b|<b>x</b>?.yaml"


def test_md_inline_keeps_a_table_row_one_row_of_text():
    cell = md_inline("a | b\n<script>x</script> `c`")
    assert cell == "a \\| b &lt;script&gt;x&lt;/script&gt; 'c'"
    assert "\n" not in cell


def test_md_code_fences_around_backticks_and_escapes_pipes():
    assert md_code("x") == "`x`"
    assert md_code("a`b") == "``a`b``"
    assert md_code("`edge`") == "`` `edge` ``"
    assert md_code("p|q <r>") == "`p\\|q <r>`"  # code spans show HTML as text


def test_findings_reports_survive_a_hostile_file_name():
    check = Check("manifest.image-latest", "medium", "Image tag latest", "Pin the image by digest.")
    findings = [Finding(check.check_id, "high", "tag <latest>", Location(file=NASTY, line=1), remediation="pin | it")]
    suite = ET.fromstring(render_junit(findings, [check], "low")).find("testsuite")
    assert "we?b|<b>x</b>?" in suite.find("testcase/failure").text
    row = [line for line in render_markdown(findings, "low").splitlines() if line.startswith("| high")][0]
    assert row.count(" | ") == 4 and "&lt;b&gt;" in row and "\x01" not in row
