#!/usr/bin/python
# Copyright: (c) 2026, deploysafe.preflight contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: checklist_report
short_description: Evaluate the 12-item pre-deployment checklist of a run directory and write its report
version_added: 0.1.0
description:
  - Reads the verdict of every checklist item from C(<run_dir>/<name>.json) (written by
    M(deploysafe.preflight.record_verdict)) and the human sign-off from C(<run_dir>/signoff.json)
    (written by M(deploysafe.preflight.signoff)).
  - Every verdict must belong to the run of C(<run_dir>/run.json) (see M(deploysafe.preflight.start_run)).
    An item whose record is missing, unreadable, malformed, from another run, from the future (more than
    5 minutes ahead) or verified longer ago than O(max_age) is C(pending) with the reason; it never counts
    as a pass. A record from another run is listed as ignored and never stands for this run.
  - An item recorded per host (C(<name>@<host>.json)) takes the worst status of its hosts, so one failing
    host fails the item.
  - A verdict recorded by hand (no producer module) is shown as C(MANUAL) with who recorded it, and
    listed among the warnings.
  - The decision is C(go) only when every critical item is C(pass) and an approving sign-off covers the
    evidence as it is now; C(no-go) when a critical item fails or the sign-off rejects; C(pending) otherwise.
    A failed item that is not critical is listed as a warning.
  - Writes C(checklist.json) (the report model) and, per O(formats), C(checklist.md), C(checklist.html)
    (self-contained) and C(checklist.junit.xml) into O(report_dir), atomically. Files are rewritten only
    when their content changes; the generation time alone does not count as a change.
options:
  run_dir:
    description: Directory of the pre-deployment run holding the verdict files.
    type: path
    required: true
  items:
    description:
      - The checklist, replacing the 12 default items. Each entry is a dict with C(name) (the verdict file
        C(<name>.json)), and optionally C(id), C(title), C(critical) and C(records).
      - C(records) lists the verdict names the item reads (default its own name); the worst decides and a
        missing one keeps the item pending. The default C(security_scan) item reads C(security_scan) and
        C(runtime_security), the default C(deploy_rehearsal) item C(deploy_rehearsal) and C(production_dry_run).
      - A name of a default item inherits its title and criticality; other names are critical unless
        C(critical=false).
    type: list
    elements: dict
    default: []
  critical:
    description: Criticality per item name, overriding the item list, for example C(backup_schedule=true).
    type: dict
    default: {}
  max_age:
    description:
      - Verdicts verified longer ago than this are C(pending) (stale). Seconds, or a number with C(s),
        C(m), C(h) or C(d). Empty means no limit.
    type: str
    default: 24h
  run_id:
    description:
      - The run the verdicts must belong to. Empty uses the run named by C(<run_dir>/run.json); a given
        id that differs from it is an error.
    type: str
    default: ""
  title:
    description: Title of the report.
    type: str
    default: Pre-deployment checklist
  signoff_public_keys:
    description:
      - C(ssh-ed25519 AAAA...) public keys a valid sign-off signature may come from (SSH keys, or keys derived
        from age identities as M(deploysafe.preflight.signoff) returns them in C(public_key)).
      - With this or O(signoff_hmac_secret) set, an unsigned sign-off, one signed by another key, or one edited
        after signing is not valid (pending). Without either, only the sealed evidence hashes are checked.
    type: list
    elements: str
    default: []
    aliases: [signoff_public_key]
  signoff_hmac_secret:
    description: The HMAC secret a valid sign-off is signed with (for example from an AWX credential). Never logged.
    type: str
  textfile_dir:
    description:
      - node_exporter's textfile collector directory (C(--collector.textfile.directory)); it must exist. When set,
        the decision, each item's status and the load-test results are written after the reports to
        C(<textfile_dir>/deploysafe_preflight_<title>.prom) (the title lower-cased, other characters than letters,
        digits, C(_) and C(-) replaced by C(_)), atomically, mode C(0644). Empty writes no metrics.
      - 'Gauges: C(deploysafe_preflight_decision) (one-hot, labels C(title), C(run_id), C(release), C(decision)),
        C(deploysafe_preflight_item_status) (one-hot, labels C(title), C(item), C(critical), C(status)),
        C(deploysafe_preflight_items) (per C(status)), C(deploysafe_preflight_report_timestamp_seconds) and, when
        the C(load_test) verdict names its JSON report, C(deploysafe_preflight_load_test_latency_p95_seconds),
        C(..._latency_p99_seconds), C(..._error_ratio), C(..._throughput_requests_per_second) and
        C(..._requests) (label C(report)). See C(docs/readiness-metrics.md) and the Grafana dashboard
        C(files/grafana/readiness-dashboard.json).'
    type: path
extends_documentation_fragment:
  - deploysafe.preflight.report
  - deploysafe.preflight.verdict
  - deploysafe.preflight.attributes
  - deploysafe.preflight.attributes.no_diff
attributes:
  check_mode:
    support: full
    details: Evaluates and returns the result; writes no report.
author:
  - deploysafe.preflight contributors (@deploysafe)
"""

EXAMPLES = r"""
- name: Evaluate the checklist and write the reports
  deploysafe.preflight.checklist_report:
    run_dir: "{{ preflight_run_dir }}"
    max_age: 24h
  register: checklist

- name: Make backup_schedule critical and drop the monitoring gate
  deploysafe.preflight.checklist_report:
    run_dir: /var/lib/preflight/run1
    items:
      - {name: image_validate}
      - {name: pg_backup}
      - {name: backup_schedule, critical: true}
      - {name: signoff}

- name: Also export the decision for Prometheus (node_exporter's textfile collector)
  deploysafe.preflight.checklist_report:
    run_dir: "{{ preflight_run_dir }}"
    textfile_dir: /var/lib/node_exporter/textfile_collector
"""

RETURN = r"""
run_id:
  description: The run the verdicts were checked against (null when no run was started in O(run_dir)).
  returned: always
  type: str
  sample: 20261203T074512Z-9f3a61c2b0d4
release:
  description: The release identity of the run (image digest, manifests hash, git commit...).
  returned: always
  type: dict
decision:
  description: C(go), C(no-go) or C(pending).
  returned: always
  type: str
  sample: pending
decision_reason:
  description: Why, in one line.
  returned: always
  type: str
  sample: "critical items open: load_test; sign-off: no sign-off recorded"
counts:
  description: Items per status, plus C(total), C(critical_failed), C(critical_open) and C(warnings).
  returned: always
  type: dict
  sample: {"pass": 10, "fail": 1, "pending": 1, "total": 12, "critical_failed": 0, "critical_open": 0, "warnings": 1}
warnings_list:
  description: Failed items that are not critical.
  returned: always
  type: list
  elements: str
  sample: ["backup_schedule (not critical) failed: no timer found"]
signoff:
  description: The recorded sign-off (C(recorded), C(status), C(decision), C(by), C(at), C(comment),
    C(change_ticket), C(override), C(override_reason), C(reason)).
  returned: always
  type: dict
  sample: {"recorded": true, "status": "pass", "decision": "approve", "by": "alice", "override": false}
items:
  description: Every item with C(id), C(name), C(title), C(critical), C(status), C(summary), C(reason),
    C(recorded_at), C(source) and C(evidence).
  returned: always
  type: list
  elements: dict
  sample: [{"id": 1, "name": "image_validate", "status": "pass", "critical": true, "summary": "digest pinned"}]
metrics_file:
  description: The C(.prom) file written (or that would be written in check mode); null without O(textfile_dir).
  returned: always
  type: str
  sample: /var/lib/node_exporter/textfile_collector/deploysafe_preflight_pre-deployment_checklist.prom
reports:
  description: Path of each report by format (also in check mode, where nothing is written).
  returned: always
  type: dict
  sample: {"json": "/run/report/checklist.json", "html": "/run/report/checklist.html"}
verdict:
  description: The checklist's own verdict (C(pass) for go, C(fail) for no-go, C(pending) otherwise).
  returned: always
  type: dict
  sample: {"status": "pending", "summary": "checklist pending", "evidence": {"artifacts": [], "findings": {}, "measurements": []}}
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.deploysafe.preflight.plugins.module_utils.checklist.publish import report_argument_spec
from ansible_collections.deploysafe.preflight.plugins.module_utils.checklist.module_support import run_report


def main():
    module = AnsibleModule(
        argument_spec=dict(
            run_dir=dict(type="path", required=True),
            items=dict(type="list", elements="dict", default=[]),
            critical=dict(type="dict", default={}),
            max_age=dict(type="str", default="24h"),
            run_id=dict(type="str", default=""),
            **report_argument_spec("Pre-deployment checklist"),
            signoff_public_keys=dict(type="list", elements="str", default=[], aliases=["signoff_public_key"], no_log=False),
            signoff_hmac_secret=dict(type="str", no_log=True),
            textfile_dir=dict(type="path"),
        ),
        supports_check_mode=True,
    )
    result, error = run_report(module.params, module.check_mode)
    if error:
        module.fail_json(msg=error)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
