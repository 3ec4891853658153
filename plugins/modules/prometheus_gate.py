#!/usr/bin/python
# Copyright: (c) 2026, deploysafe.preflight contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: prometheus_gate
short_description: Gate a deployment on PromQL thresholds, alert rules, firing alerts and scrape targets
version_added: 0.1.0
description:
  - Evaluates PromQL checks with thresholds, instant or aggregated over a range; a query that returns no
    series fails ("no data") unless the check sets C(allow_empty).
  - Fails when a required series is absent, a required alert rule is not loaded, an alert is firing
    (from Prometheus, or from Alertmanager honouring silences and inhibitions, filtered by labels), or a
    scrape target is down.
  - No data is never a pass. The verdict is C(pending) when a scrape job in O(target_jobs) has no active target,
    when Prometheus has no active target at all (O(targets_up) without O(target_jobs)), and when Prometheus has
    no alert rule loaded (then no firing alert proves nothing, and O(required_rules) cannot be judged).
options:
  url:
    description: Prometheus base URL.
    type: str
    required: true
  alertmanager_url:
    description: Alertmanager base URL (needed for O(alert_source=alertmanager)).
    type: str
    default: ""
  queries:
    description:
      - PromQL checks. Keys C(name), C(query) (required), C(comparison) (one of C(<) C(<=) C(>) C(>=) C(==) C(!=),
        default C(<)), C(threshold) (without one, the check only requires data), C(range_seconds) and
        C(step_seconds) for a range check with C(aggregate) (C(max), C(min), C(avg), C(last)), C(allow_empty).
    type: list
    elements: dict
    default: []
  required_series:
    description: Series selectors that must exist (checked with C(absent())).
    type: list
    elements: str
    default: []
  required_rules:
    description: Alert rule names that must be loaded (rules API).
    type: list
    elements: str
    default: []
  no_firing_alerts:
    description: Fail when an alert matching O(alert_label_filters) is firing.
    type: bool
    default: true
  alert_source:
    description: C(alertmanager) honours silences and inhibitions; C(prometheus) sees every firing rule.
    type: str
    choices: [prometheus, alertmanager]
    default: prometheus
  alert_label_filters:
    description: Only alerts carrying all these labels count.
    type: dict
    default: {}
  ignore_alerts:
    description: Alert names that never count (for example V(Watchdog)).
    type: list
    elements: str
    default: []
  include_pending:
    description: With O(alert_source=prometheus), count pending alerts as firing.
    type: bool
    default: false
  targets_up:
    description: Require every target of O(target_jobs) (all jobs when empty) to be up.
    type: bool
    default: false
  target_jobs:
    description: Scrape jobs for O(targets_up).
    type: list
    elements: str
    default: []
  timeout:
    description: HTTP timeout per API call, seconds.
    type: float
    default: 10.0
  headers:
    description:
      - Extra HTTP headers, sent to Prometheus and Alertmanager. Their values are treated as secrets (never logged);
        prefer O(auth_token) for a bearer token.
    type: dict
    default: {}
  auth_token:
    description:
      - Token sent in an C(Authorization) header as C(Bearer <token>) to Prometheus and Alertmanager. Never logged. Not together
        with an C(Authorization) header in O(headers).
    type: str
  validate_certs:
    description: Verify TLS certificates.
    type: bool
    default: true
  ca_path:
    description: CA bundle for HTTPS.
    type: path
extends_documentation_fragment:
  - deploysafe.preflight.verdict.fail_on
  - deploysafe.preflight.verdict
  - deploysafe.preflight.attributes
  - deploysafe.preflight.attributes.read_only
author:
  - deploysafe.preflight contributors (@deploysafe)
"""

EXAMPLES = r"""
- name: No firing alerts for the app, error ratio low, memory bounded over 10 minutes
  deploysafe.preflight.prometheus_gate:
    url: http://127.0.0.1:9090
    alertmanager_url: http://127.0.0.1:9093
    alert_source: alertmanager
    alert_label_filters: {service: sample-app}
    required_rules: [SampleAppHighErrorRate]
    targets_up: true
    target_jobs: [sample-app]
    auth_token: "{{ vault_prometheus_token }}"
    fail_on: pending
    queries:
      - name: error ratio
        query: sum(rate(http_requests_total{status=~"5.."}[5m])) / sum(rate(http_requests_total[5m]))
        comparison: "<"
        threshold: 0.01
      - name: rss
        query: process_resident_memory_bytes{job="sample-app"}
        range_seconds: 600
        aggregate: max
        threshold: 536870912
"""

RETURN = r"""
verdict:
  description: The evidence contract; the summary names failing checks, missing data and firing alerts with labels.
  returned: always
  type: dict
  sample: {"status": "fail", "summary": "1 firing alert(s): SampleAppHighErrorRate{service=\"sample-app\",severity=\"critical\"}",
           "evidence": {"artifacts": [], "findings": {"checks_failed": 1, "checks": 3}, "measurements": []}}
checks:
  description: Every check with name, ok (true, false, or null when it had no data to decide on), value, unit and message.
  returned: success
  type: list
  elements: dict
  sample: [{"name": "error ratio", "ok": true, "value": 0.0, "unit": "value", "message": "error ratio: all 1 series < 0.01"}]
firing_alerts:
  description: Label sets of the alerts that counted as firing.
  returned: success
  type: list
  elements: dict
  sample: [{"alertname": "SampleAppHighErrorRate", "service": "sample-app", "severity": "critical"}]
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.deploysafe.preflight.plugins.module_utils.verdict import stamp_module_verdicts
from ansible_collections.deploysafe.preflight.plugins.module_utils.monitoring.gate import run_gate
from ansible_collections.deploysafe.preflight.plugins.module_utils.monitoring.prometheus import Api, MonitoringError
from ansible_collections.deploysafe.preflight.plugins.module_utils.verdict import FAIL_ON, gate_failed


def main():
    module = AnsibleModule(
        argument_spec=dict(
            url=dict(type="str", required=True),
            alertmanager_url=dict(type="str", default=""),
            queries=dict(type="list", elements="dict", default=[]),
            required_series=dict(type="list", elements="str", default=[]),
            required_rules=dict(type="list", elements="str", default=[]),
            no_firing_alerts=dict(type="bool", default=True),
            alert_source=dict(type="str", choices=["prometheus", "alertmanager"], default="prometheus"),
            alert_label_filters=dict(type="dict", default={}),
            ignore_alerts=dict(type="list", elements="str", default=[]),
            include_pending=dict(type="bool", default=False),
            targets_up=dict(type="bool", default=False),
            target_jobs=dict(type="list", elements="str", default=[]),
            timeout=dict(type="float", default=10.0),
            headers=dict(type="dict", default={}, no_log=True),
            auth_token=dict(type="str", no_log=True),
            validate_certs=dict(type="bool", default=True),
            ca_path=dict(type="path"),
            fail_on=dict(type="str", choices=list(FAIL_ON), default="fail"),
        ),
        supports_check_mode=True,
    )
    stamp_module_verdicts(module, "prometheus_gate")
    p = module.params
    api = Api(url=p["url"], alertmanager_url=p["alertmanager_url"], timeout=p["timeout"], headers=p["headers"],
              validate_certs=p["validate_certs"], ca_path=p["ca_path"], auth_token=p["auth_token"])
    try:
        result = run_gate(api, queries=p["queries"], required_series=p["required_series"],
                          required_rules=p["required_rules"], no_firing_alerts=p["no_firing_alerts"],
                          alert_source=p["alert_source"], alert_label_filters=p["alert_label_filters"],
                          ignore_alerts=p["ignore_alerts"], include_pending=p["include_pending"],
                          targets_up=p["targets_up"], target_jobs=p["target_jobs"])
    except MonitoringError as exc:
        module.fail_json(msg=f"prometheus_gate: {exc}")
    if gate_failed(result["verdict"]["status"], p["fail_on"]):
        module.fail_json(msg=f"prometheus_gate: {result['verdict']['summary']}", changed=False, **result)
    module.exit_json(changed=False, **result)


if __name__ == "__main__":
    main()
