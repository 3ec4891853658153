# Copyright: (c) 2026, deploysafe.preflight contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:
    # Options and notes shared by the validators (image_validate, manifest_validate, security_scan).
    DOCUMENTATION = r"""
options:
  severity_threshold:
    description:
      - Findings at or above this severity (not exempted) make the check fail; lower ones are reported only.
      - Two kinds of finding gate regardless of it. A finding over a limit you set (C(image.size) over its budget)
        fails at any threshold. A finding saying an input could not be examined (C(repo.unreadable)) makes the
        verdict C(pending), never C(pass), unless it is exempted or the input excluded.
    type: str
    default: high
    choices: [info, low, medium, high, critical]
    version_added: 0.1.0
  exemptions_file:
    description:
      - YAML or JSON file of exemptions, each with C(check_id) (glob), optional C(selector)
        (C(file), C(pointer), C(layer) globs, C(fingerprint), C(message) regex), C(owner), C(reason)
        and C(expires) (YYYY-MM-DD, inclusive).
      - An expired exemption stops applying and is reported as finding C(exemption.expired).
    type: path
    version_added: 0.1.0
  sarif_inputs:
    description:
      - SARIF 2.1.0 logs from external scanners (checkov, trivy, semgrep...) whose results join this report.
        Their check ids are C(<tool>:<ruleId>); severity comes from C(security-severity) or C(level).
    type: list
    elements: path
    default: []
    version_added: 0.1.0
  report_dir:
    description:
      - Directory to write the reports to (created when missing). Files that already hold the same report
        are left alone. Nothing is written in check mode or when this is not set.
    type: path
    version_added: 0.1.0
  report_formats:
    description: Report formats to write into O(report_dir).
    type: list
    elements: str
    default: [json, sarif, junit, markdown]
    choices: [json, sarif, junit, markdown]
    version_added: 0.1.0
  fail_on:
    description:
      - When the task itself fails, after returning everything it found (the verdict, findings and reports stay
        in the result). V(fail) fails the task when the verdict is C(fail), V(pending) also when it is C(pending)
        (anything but C(pass)), V(never) leaves the decision to the caller or the checklist.
      - The collection's roles pass V(never), record the verdict, then gate with C(<role>_fail_on).
    type: str
    default: fail
    choices: [fail, pending, never]
    version_added: 0.1.0
notes:
  - Returns C(verdict) (status C(pass), C(fail) or C(pending), C(summary), C(evidence)) built from the findings;
    C(pending) means nothing was scanned, or an input could not be examined, and never counts as a pass.
    A pass carries the measurement of what was examined (C(files_scanned), C(objects_checked) or C(layers_read)).
    Store it for the checklist with M(deploysafe.preflight.record_verdict).
  - Results of O(sarif_inputs) are exempted only by suppressions whose C(status) is C(accepted) or absent; a
    suppression C(underReview) or C(rejected) keeps the finding active.
  - The JUnit report never shows C(pending) as passed or skipped; a pending verdict adds a failing testcase
    C(verdict) with the reason.
  - Secret values never appear in findings or reports, only a salted fingerprint and a redacted preview.
"""
