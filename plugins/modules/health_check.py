#!/usr/bin/python
# Copyright: (c) 2026, deploysafe.preflight contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: health_check
short_description: Check an HTTP(S) health endpoint, including each dependency it reports
version_added: 0.1.0
description:
  - Requests O(url) with retries and exponential backoff until it is healthy or attempts run out.
  - Healthy means the expected HTTP status, latency within the budget, and (with O(check_body)) a JSON body
    whose top-level status and every dependency pass. Understands the C(application/health+json) draft
    (C(status), C(checks)) and the Spring Boot shape (C(status), C(components)).
  - C(warn)/degraded is not a pass unless O(allow_degraded) is set. A failing dependency is named in the summary.
  - A healthy answer whose body reports no dependency is C(pending), not C(pass) - it shows nothing about the
    database and services behind it - unless O(expect_dependencies=false).
options:
  url:
    description: Health endpoint URL.
    type: str
    required: true
  method:
    description: HTTP method.
    type: str
    default: GET
  headers:
    description:
      - Extra request headers. Their values are treated as secrets (never logged); prefer O(auth_token) for a
        bearer token.
    type: dict
    default: {}
  auth_token:
    description:
      - Token sent in an C(Authorization) header as C(Bearer <token>). Never logged. Not together with an C(Authorization) header
        in O(headers).
    type: str
  expected_status:
    description: Acceptable HTTP status codes.
    type: list
    elements: int
    default: [200]
  timeout:
    description: Per-attempt timeout, seconds.
    type: float
    default: 5.0
  retries:
    description: Extra attempts after the first one fails.
    type: int
    default: 3
  backoff:
    description: Pause before the first retry, seconds; doubles each retry up to O(max_backoff).
    type: float
    default: 1.0
  max_backoff:
    description: Longest pause between attempts, seconds.
    type: float
    default: 30.0
  latency_budget_ms:
    description: Fail when the answer takes longer than this.
    type: float
  check_body:
    description: Parse the body as JSON and judge its top-level status and dependencies.
    type: bool
    default: true
  required_dependencies:
    description: Dependency names (for example V(postgres:connection)) that must be reported.
    type: list
    elements: str
    default: []
  ignore_dependencies:
    description: Dependency names whose state does not count.
    type: list
    elements: str
    default: []
  allow_degraded:
    description: Accept C(warn)/degraded states.
    type: bool
    default: false
  expect_dependencies:
    description:
      - The body must report at least one dependency (not counting O(ignore_dependencies)); without one the verdict
        is C(pending). Set V(false) for a service that has none, or for a liveness endpoint.
      - Applies only with O(check_body=true).
    type: bool
    default: true
extends_documentation_fragment:
  - deploysafe.preflight.tls
  - deploysafe.preflight.verdict.fail_on
  - deploysafe.preflight.verdict
  - deploysafe.preflight.attributes
  - deploysafe.preflight.attributes.read_only
author:
  - deploysafe.preflight contributors (@deploysafe)
"""

EXAMPLES = r"""
- name: Service and its database are healthy
  deploysafe.preflight.health_check:
    url: http://127.0.0.1:8080/healthz
    required_dependencies: [postgres:connection]
    latency_budget_ms: 500
    auth_token: "{{ vault_health_token }}"
  register: health

- name: Liveness endpoint that reports no dependency by design
  deploysafe.preflight.health_check:
    url: http://127.0.0.1:8080/livez
    expect_dependencies: false
    fail_on: pending
"""

RETURN = r"""
verdict:
  description:
    - The evidence contract; C(fail) names the failing dependency or the HTTP problem; C(pending) when a healthy
      body reports no dependency (see O(expect_dependencies)).
  returned: always
  type: dict
  sample: {"status": "fail",
           "summary": "http://127.0.0.1:8080/healthz unhealthy after 4 attempt(s): HTTP 503; dependency postgres:connection is failing",
           "evidence": {"artifacts": [], "findings": {"problems": 2}, "measurements": []}}
status_code:
  description: HTTP status of the last attempt (null when no answer).
  returned: always
  type: int
  sample: 200
dependencies:
  description: Dependency name to normalised status (pass, warn, fail).
  returned: always
  type: dict
  sample: {"postgres:connection": "pass", "search:index": "warn"}
health:
  description: The parsed JSON body of the last attempt.
  returned: when the body is JSON
  type: dict
  sample: {"status": "pass", "checks": {}}
attempts:
  description: Status, latency and problems of every attempt.
  returned: always
  type: list
  elements: dict
  sample: [{"status": 200, "latency_ms": 3.1, "problems": []}]
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.deploysafe.preflight.plugins.module_utils.verdict import stamp_module_verdicts
from ansible_collections.deploysafe.preflight.plugins.module_utils.health.http import (
    HealthCheckError, HealthOptions, check_health)
from ansible_collections.deploysafe.preflight.plugins.module_utils.verdict import FAIL_ON, gate_failed


def main():
    module = AnsibleModule(
        argument_spec=dict(
            url=dict(type="str", required=True),
            method=dict(type="str", default="GET"),
            headers=dict(type="dict", default={}, no_log=True),
            auth_token=dict(type="str", no_log=True),
            expected_status=dict(type="list", elements="int", default=[200]),
            timeout=dict(type="float", default=5.0),
            retries=dict(type="int", default=3),
            backoff=dict(type="float", default=1.0),
            max_backoff=dict(type="float", default=30.0),
            latency_budget_ms=dict(type="float"),
            check_body=dict(type="bool", default=True),
            required_dependencies=dict(type="list", elements="str", default=[]),
            ignore_dependencies=dict(type="list", elements="str", default=[]),
            allow_degraded=dict(type="bool", default=False),
            expect_dependencies=dict(type="bool", default=True),
            validate_certs=dict(type="bool", default=True),
            ca_path=dict(type="path"),
            fail_on=dict(type="str", choices=list(FAIL_ON), default="fail"),
        ),
        supports_check_mode=True,
    )
    stamp_module_verdicts(module, "health_check")
    options = {k: v for k, v in module.params.items() if k != "fail_on"}
    try:
        result = check_health(HealthOptions(**options))
    except HealthCheckError as exc:
        module.fail_json(msg=f"health_check: {exc}")
    if gate_failed(result["verdict"]["status"], module.params["fail_on"]):
        module.fail_json(msg=f"health_check: {result['verdict']['summary']}", changed=False, **result)
    module.exit_json(changed=False, **result)


if __name__ == "__main__":
    main()
