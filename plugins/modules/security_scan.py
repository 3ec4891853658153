#!/usr/bin/python
# Copyright: (c) 2026, deploysafe.preflight contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: security_scan
short_description: Static security analysis of a repository (secrets, Dockerfiles, dependencies, configuration)
version_added: 0.1.0
description:
  - Reads every file of a repository once (the git-tracked files when it is a git work tree) and runs
    the secret detector, a Dockerfile lint, dependency pinning checks (requirements files, C(package.json))
    and configuration checks.
  - 'Checks: C(secret.*) hard-coded secrets (provider patterns and entropy; optionally the git history),
    C(dockerfile.*) (the Dockerfile lint, 28 rules: base image tag and digest, root USER, package pinning,
    apt hygiene, ADD/COPY, exec-form CMD, pipefail, secrets in ENV/ARG, stage references...; each shows its
    hadolint id such as C([DL3008]) and honours C(# hadolint ignore=) pragmas), C(repo.unpinned-dependency),
    C(repo.tls-verify-disabled) (including C(sslmode=disable)), C(repo.debug-in-production),
    C(repo.cors-wildcard), C(repo.admin-bind-all), C(repo.private-key-file) (keys and kubeconfigs),
    C(repo.secret-like-filename) (C(.env), C(id_rsa)...), C(repo.unparseable), C(repo.unreadable),
    C(repo.skipped-large).'
  - Findings from external scanners join the report through O(sarif_inputs).
  - Nothing is skipped silently. A file over O(max_file_size) is finding C(repo.skipped-large) (low). A file or
    directory that cannot be read is C(repo.unreadable) and makes the verdict C(pending) (the scan could not
    decide) unless it is excluded with O(exclude) or exempted. Binary files are skipped and counted. Every count
    is in RV(stats) and in the verdict's measurements.
  - A scan that read no file (empty repository, everything excluded or binary) is C(pending), never C(pass).
options:
  path:
    description: Root of the repository to scan.
    type: path
    required: true
  scan_history:
    description: Also scan the lines added by every commit (C(git log -p --all)) for secrets.
    type: bool
    default: false
  max_commits:
    description: Most recent commits to read when O(scan_history=true).
    type: int
    default: 1000
  tracked_only:
    description:
      - Scan only git-tracked files. Unset means tracked files when O(path) is a git work tree, otherwise
        every file; C(false) walks the directory (symlinks are never followed).
    type: bool
  exclude:
    description: Glob patterns of relative paths to skip entirely.
    type: list
    elements: str
    default: []
  allowlist_paths:
    description: Glob patterns of relative paths the secret detector skips (test fixtures, vendored code).
    type: list
    elements: str
    default: []
  allowlist_regexes:
    description: Regular expressions; a secret match on a line that matches one is ignored.
    type: list
    elements: str
    default: []
  allowlist_fingerprints:
    description: Secret fingerprints (from earlier findings) to ignore wherever they occur.
    type: list
    elements: str
    default: []
  max_file_size:
    description: Files larger than this many bytes are not scanned; each is reported as C(repo.skipped-large).
    type: int
    default: 10485760
extends_documentation_fragment:
  - deploysafe.preflight.findings
  - deploysafe.preflight.attributes
  - deploysafe.preflight.attributes.no_diff
attributes:
  check_mode:
    support: full
    details: Scans and returns findings; writes no report.
author:
  - deploysafe.preflight contributors (@deploysafe)
"""

EXAMPLES = r"""
- name: Scan the application repository
  deploysafe.preflight.security_scan:
    path: /src/app
    scan_history: true
    allowlist_paths: ["tests/fixtures/*"]
    exemptions_file: /src/app/.preflight/exemptions.yml
    sarif_inputs: [/tmp/checkov.sarif]
    report_dir: "{{ preflight_run_dir }}/security_scan"
  register: scan

- name: Show what failed
  ansible.builtin.debug:
    msg: "{{ scan.findings | selectattr('severity', 'in', ['high', 'critical']) | list }}"
"""

RETURN = r"""
findings:
  description: Every finding (exempted ones carry C(exempted_by)), most severe first.
  returned: always
  type: list
  elements: dict
  sample: [{"check_id": "secret.github-token", "severity": "critical", "message": "GitHub token in app/config.py:3",
            "location": {"file": "app/config.py", "line": 3, "column": 9}, "remediation": "Revoke and rotate...",
            "evidence_redacted": "ghp_************ (40 chars)", "fingerprint": "5f0c2d9e41b7a8c3d2e1",
            "tool": "deploysafe.preflight"}]
passed:
  description: True when no finding at or above O(severity_threshold) remains after exemptions.
  returned: always
  type: bool
  sample: false
counts:
  description: Non-exempted findings by severity.
  returned: always
  type: dict
  sample: {"info": 0, "low": 1, "medium": 2, "high": 0, "critical": 1}
exempted:
  description: Number of findings covered by a live exemption.
  returned: always
  type: int
  sample: 0
reports:
  description: Paths of the reports written to O(report_dir).
  returned: always
  type: list
  elements: str
  sample: [/var/lib/preflight/run/security_scan/security_scan.sarif]
stats:
  description: What was read and skipped (binary, over the size limit, unreadable, allowlisted) with notes.
  returned: always
  type: dict
  sample: {"files_listed": 120, "files_scanned": 112, "bytes_scanned": 530211, "skipped_binary": 6,
           "skipped_large": 1, "skipped_unreadable": 0, "skipped_allowlisted": 1, "commits_scanned": 0,
           "source": "git", "notes": ["data/dump.sql: skipped, 20971520 bytes is over the 10485760 byte limit"]}
verdict:
  description:
    - The evidence contract; C(evidence.findings) holds counts by severity and C(exempted).
    - C(evidence.measurements) holds C(files_scanned) (what a pass stands on), C(files_listed),
      C(files_skipped_binary), C(files_skipped_large), C(files_unreadable), C(files_allowlisted_for_secrets)
      and, with O(scan_history), C(commits_scanned).
  returned: always
  type: dict
  sample: {"status": "fail", "summary": "repository /src/app: 1 finding(s) at or above high",
           "evidence": {"artifacts": [], "findings": {"critical": 1, "exempted": 0},
                        "measurements": [{"name": "files_scanned", "value": 112, "unit": "files"},
                                         {"name": "files_unreadable", "value": 0, "unit": "files"}]}}
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.deploysafe.preflight.plugins.module_utils.findings import FindingsError
from ansible_collections.deploysafe.preflight.plugins.module_utils.findings.report import (
    findings_argument_spec, finish_scan,
)
from ansible_collections.deploysafe.preflight.plugins.module_utils.repo_scan import (
    CHECKS, RepoScanError, scan_repository,
)
from ansible_collections.deploysafe.preflight.plugins.module_utils.secrets import Allowlist
from ansible_collections.deploysafe.preflight.plugins.module_utils.verdict import stamp_module_verdicts, gate_failed


def main():
    argument_spec = dict(
        path=dict(type="path", required=True),
        scan_history=dict(type="bool", default=False),
        max_commits=dict(type="int", default=1000),
        tracked_only=dict(type="bool"),
        exclude=dict(type="list", elements="str", default=[]),
        allowlist_paths=dict(type="list", elements="str", default=[]),
        allowlist_regexes=dict(type="list", elements="str", default=[]),
        allowlist_fingerprints=dict(type="list", elements="str", default=[]),
        max_file_size=dict(type="int", default=10 * 1024 * 1024),
    )
    argument_spec.update(findings_argument_spec())
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    stamp_module_verdicts(module, "security_scan")
    p = module.params
    try:
        allowlist = Allowlist(paths=p["allowlist_paths"], regexes=p["allowlist_regexes"],
                              fingerprints=p["allowlist_fingerprints"])
    except Exception as exc:  # re.error: a user-supplied regex
        module.fail_json(msg=f"allowlist_regexes: invalid regular expression: {exc}")
    try:
        scan = scan_repository(p["path"], scan_history=p["scan_history"], tracked_only=p["tracked_only"],
                               allowlist=allowlist, exclude=p["exclude"], max_file_bytes=p["max_file_size"],
                               max_commits=p["max_commits"])
        coverage, measurements = scan.evidence()
        result = finish_scan(scan.findings, CHECKS, f"repository {p['path']}", threshold=p["severity_threshold"],
                             exemptions_file=p["exemptions_file"], sarif_inputs=p["sarif_inputs"],
                             report_dir=None if module.check_mode else p["report_dir"],
                             report_basename="security_scan", report_formats=p["report_formats"],
                             coverage=coverage, measurements=measurements)
    except (RepoScanError, FindingsError) as exc:
        module.fail_json(msg=str(exc))
    if gate_failed(result["verdict"]["status"], p["fail_on"]):
        module.fail_json(msg=result["verdict"]["summary"], stats=scan.stats_dict(), **result)
    module.exit_json(stats=scan.stats_dict(), **result)


if __name__ == "__main__":
    main()
