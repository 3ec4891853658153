#!/usr/bin/python
# Copyright: (c) 2026, deploysafe.preflight contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: smoke_check
short_description: Smoke-check a deployed service with response assertions (status, JSON path, body, latency)
version_added: 0.1.0
description:
  - Sends each check of O(checks) in order and judges its answer - the HTTP status, assertions on JSON paths,
    text the body must contain, and a latency budget - so a deploy is proven to answer correctly, not only to be up.
  - A check that fails is retried O(retries) times (O(retry_delay) apart); its last attempt decides. A check
    that gets no answer (connection refused, DNS, TLS, timeout) fails with the reason.
  - The verdict is C(fail) when a check fails (the summary names it, with expected vs actual), C(pass) when every
    check passes, C(pending) when O(checks) is empty or, in check mode, a check was skipped.
  - Request headers and bodies are never reported; URLs are reported without user information and with the
    values of secret-looking query parameters (token, key, secret, password, sig...) masked.
  - JSON paths are a documented subset - C($), C(.name), C(['name']), C([N]) (negative from the end), C([*]) and
    C(.*) (every element or value). A path with a wildcard selects the list of every value it reaches. Recursive
    descent, slices and filters are refused.
options:
  checks:
    description:
      - The checks, each a dict. C(name) (required, unique) names it in the verdict and the reports.
      - C(url) (required) is absolute or a path joined to O(base_url). C(method) defaults to C(GET).
      - C(headers) adds request headers (values never logged); C(body) (text) or C(json) (any value, sent as
        C(application/json)) is the request body. Put credentials in headers, never in C(body) or C(json).
      - C(retries) and C(timeout) override O(retries) and O(timeout) for this check. A retried C(POST) is sent again.
      - C(expect.status) is the list of acceptable HTTP statuses (default V([200])).
      - C(expect.json) is a list of assertions C({path, <operator>}) with exactly one operator - C(equals) (JSON
        equality; V(true) is not V(1)), C(contains) (substring of a string, element of a list, key of an object),
        C(min_items) (a list or object has at least that many), C(matches) (a regular expression found in a
        string), C(exists) (V(true) or V(false)).
      - C(expect.body_contains) is a text, or a list of texts, the raw body must contain.
      - C(expect.max_ms) is the latency budget in milliseconds, measured from sending to the last body byte.
    type: list
    elements: dict
    required: true
  base_url:
    description: Base URL the relative C(url) of the checks are joined to, for example V(https://app.example.com).
    type: str
    default: ""
  headers:
    description: Headers sent with every check (a check's own C(headers) win). Values are never logged.
    type: dict
    default: {}
  auth_token:
    description: "Token sent with every check as C(Authorization: Bearer <token>). Never logged."
    type: str
  timeout:
    description: Per-request timeout, seconds (a check's C(timeout) overrides it).
    type: float
    default: 10.0
  retries:
    description: Extra attempts for a failing check (a check's C(retries) overrides it).
    type: int
    default: 0
  retry_delay:
    description: Pause between attempts of a check, seconds.
    type: float
    default: 1.0
  report_dir:
    description:
      - Directory for C(<report_name>.json), C(.md) and C(.junit.xml) (one JUnit test case per check), each written
        atomically; no files when empty, or in check mode.
    type: path
    default: ""
  report_name:
    description: Base name of the report files.
    type: str
    default: smoke_check
extends_documentation_fragment:
  - deploysafe.preflight.tls
  - deploysafe.preflight.verdict.fail_on
  - deploysafe.preflight.verdict
  - deploysafe.preflight.attributes
  - deploysafe.preflight.attributes.no_diff
attributes:
  check_mode:
    support: partial
    details:
      - Read-only checks (C(GET), C(HEAD), C(OPTIONS)) run as usual; the others are not sent and are reported as
        skipped, which leaves the verdict C(pending) unless a check that ran failed. No report is written.
author:
  - deploysafe.preflight contributors (@deploysafe)
"""

EXAMPLES = r"""
- name: The deployed service answers searches and lists correctly, fast enough
  deploysafe.preflight.smoke_check:
    base_url: https://app.example.com
    auth_token: "{{ vault_smoke_token }}"
    retries: 2
    report_dir: /var/lib/preflight/postdeploy/smoke_check
    checks:
      - name: search finds the runbook first
        url: /api/search?q=backup
        expect:
          status: [200]
          json:
            - {path: "$.items[0].title", equals: "How to rotate backup for secret"}
            - {path: "$.source", equals: index}
          max_ms: 300
      - name: workspaces are listed
        url: /api/workspaces
        expect:
          json:
            - {path: "$.items", min_items: 1}
            - {path: "$.items[*].name", contains: workspace-1}
      - name: the home page renders
        url: /
        expect:
          body_contains: ["<title>"]
          max_ms: 500
  register: smoke

- name: A write path works (skipped in check mode)
  deploysafe.preflight.smoke_check:
    base_url: https://app.example.com
    checks:
      - name: create a workspace
        url: /api/workspaces
        method: POST
        json: {name: "smoke-{{ 999999 | random }}"}
        expect:
          status: [201]
          json:
            - {path: "$.id", matches: "^[0-9]+$"}
    fail_on: pending
"""

RETURN = r"""
verdict:
  description:
    - The evidence contract. C(fail) names each failing check with its reasons (expected vs actual, measured
      latency against the budget); measurements hold each check's latency (with its budget) and the counts;
      artifacts the written reports.
  returned: always
  type: dict
  sample: {"status": "fail",
           "summary": "1 of 2 smoke check(s) failed: search: $.items[0].title: expected \"How to restore\", got \"How to rotate backup for secret\"",
           "evidence": {"artifacts": [], "findings": {"checks_failed": 1, "assertions_failed": 1},
                        "measurements": [{"name": "search.latency_ms", "value": 4.1, "unit": "ms", "threshold": 300,
                                          "comparison": "<=", "ok": true}]}}
checks:
  description: Each check's outcome (passed, failed, skipped), HTTP status, latency, attempts, reasons and assertions.
  returned: always
  type: list
  elements: dict
  sample: [{"name": "search", "method": "GET", "url": "https://app.example.com/api/search?q=backup",
            "outcome": "failed", "http_status": 200, "latency_ms": 4.1, "max_ms": 300, "attempts": 1,
            "reasons": ["$.items[0].title: expected \"How to restore\", got \"How to rotate backup for secret\""],
            "assertions": [{"path": "$.items[0].title", "operator": "equals", "expected": "\"How to restore\"",
                            "actual": "\"How to rotate backup for secret\"", "ok": false}]}]
counts:
  description: Number of checks passed, failed and skipped.
  returned: always
  type: dict
  sample: {"passed": 1, "failed": 1, "skipped": 0}
reports:
  description: Paths of the written reports (json, markdown, junit).
  returned: when O(report_dir) is set and not in check mode
  type: dict
  sample: {"json": "/var/lib/preflight/postdeploy/smoke_check/smoke_check.json"}
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.deploysafe.preflight.plugins.module_utils.smoke.runner import SmokeOptions, run_smoke
from ansible_collections.deploysafe.preflight.plugins.module_utils.smoke.checks import SmokeError
from ansible_collections.deploysafe.preflight.plugins.module_utils.verdict import FAIL_ON, gate_failed, stamp_module_verdicts


def main():
    module = AnsibleModule(
        argument_spec=dict(
            checks=dict(type="list", elements="dict", required=True),
            base_url=dict(type="str", default=""),
            headers=dict(type="dict", default={}, no_log=True),
            auth_token=dict(type="str", no_log=True),
            timeout=dict(type="float", default=10.0),
            retries=dict(type="int", default=0),
            retry_delay=dict(type="float", default=1.0),
            validate_certs=dict(type="bool", default=True),
            ca_path=dict(type="path"),
            report_dir=dict(type="path", default=""),
            report_name=dict(type="str", default="smoke_check"),
            fail_on=dict(type="str", choices=list(FAIL_ON), default="fail"),
        ),
        supports_check_mode=True,
    )
    stamp_module_verdicts(module, "smoke_check")
    # Headers inside `checks` are secrets too: keep their values out of this task's output.
    for check in module.params["checks"]:
        if isinstance(check, dict) and isinstance(check.get("headers"), dict):
            module.no_log_values.update(str(v) for v in check["headers"].values() if v not in (None, ""))
    options = {k: v for k, v in module.params.items() if k != "fail_on"}
    try:
        result = run_smoke(SmokeOptions(**options), check_mode=module.check_mode)
    except SmokeError as exc:
        module.fail_json(msg=f"smoke_check: {exc}")
    # a check that writes (POST, PUT...) changed the service
    changed = any(c["method"] not in ("GET", "HEAD", "OPTIONS") and c["outcome"] != "skipped" for c in result["checks"])
    if gate_failed(result["verdict"]["status"], module.params["fail_on"]):
        module.fail_json(msg=f"smoke_check: {result['verdict']['summary']}", changed=changed, **result)
    module.exit_json(changed=changed, **result)


if __name__ == "__main__":
    main()
