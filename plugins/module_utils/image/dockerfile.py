# Copyright: (c) 2026, deploysafe.preflight contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Dockerfile lint at hadolint's level for the rules that matter to a release: base image pinning,
root user, package pinning, apt hygiene, ADD/COPY, exec-form CMD, pipefail, secrets in ENV/ARG,
stage references, EXPOSE range. Every finding names its hadolint rule id, and hadolint's inline
(`# hadolint ignore=DL3008`) and global (`# hadolint global ignore=...`) pragmas are honoured; our own
check ids (`dockerfile.apt-unpinned`) work in the pragmas too.

Parsing is in dockerfile_parse.py, RUN scripts in dockerfile_shell.py, the rules in dockerfile_rules.py
and the catalogue in dockerfile_checks.py."""

from __future__ import annotations

from typing import List

from ansible_collections.deploysafe.preflight.plugins.module_utils.findings import Finding, Location, make_finding
from ansible_collections.deploysafe.preflight.plugins.module_utils.image.dockerfile_checks import CHECKS, HADOLINT
from ansible_collections.deploysafe.preflight.plugins.module_utils.image.dockerfile_parse import (
    Instruction, parse, parse_dockerfile,
)
from ansible_collections.deploysafe.preflight.plugins.module_utils.image.dockerfile_rules import lint_instructions

__all__ = ["CHECKS", "HADOLINT", "Instruction", "lint_dockerfile", "parse_dockerfile"]


def lint_dockerfile(text: str, path: str = "Dockerfile") -> List[Finding]:
    """Findings for one Dockerfile; `path` is used for locations only."""
    dockerfile = parse(text)
    findings: List[Finding] = []
    for hit in lint_instructions(dockerfile.instructions):
        check_id = hit.check.check_id
        alias = HADOLINT.get(check_id, "")
        names = {check_id, check_id.split(".", 1)[1], alias} - {""}
        if names & (hit.at.ignored | dockerfile.global_ignores):
            continue
        message = f"{hit.message} [{alias}]" if alias else hit.message
        findings.append(make_finding(hit.check, message, Location(file=path, line=hit.at.line),
                                     severity=hit.severity))
    return findings
