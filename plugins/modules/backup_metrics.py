#!/usr/bin/python
# Copyright: (c) 2026, deploysafe.preflight contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: backup_metrics
short_description: Export a scheduled backup's status as Prometheus metrics for node_exporter's textfile collector
version_added: 0.1.0
description:
  - Reads the status file that the scheduled job of the C(deploysafe.preflight.backup_schedule) role writes after
    every run and writes its metrics to C(<textfile_dir>/deploysafe_backup_<name>.prom), where node_exporter's
    textfile collector (C(--collector.textfile.directory)) picks them up. The job of the role calls this module
    after each run; you rarely call it yourself.
  - The file is replaced atomically (a temporary name in the same directory that does not end in C(.prom), fsync,
    rename), so node_exporter never reads half a file. Mode C(0644).
  - 'Gauges, each labelled C(schedule), C(kind) and C(location): C(deploysafe_backup_last_success_timestamp_seconds),
    C(deploysafe_backup_last_verified_timestamp_seconds), C(deploysafe_backup_last_failure_timestamp_seconds)
    (Unix seconds, C(0) for never), C(deploysafe_backup_last_run_success) (C(1) or C(0)),
    C(deploysafe_backup_duration_seconds) (last run), C(deploysafe_backup_size_bytes) and
    C(deploysafe_backup_artifacts_kept) (last successful run; absent before the first success), and
    C(deploysafe_backup_max_age_seconds) (O(max_age), the threshold of the C(BackupTooOld) alert).'
  - The collection ships alert rules (C(files/prometheus/backup-alerts.yml)) and a Grafana dashboard
    (C(files/grafana/backup-dashboard.json)) for these metrics; see C(docs/backup-monitoring.md).
options:
  status_file:
    description: The status file of the scheduled job (C(backup_schedule_status_file)).
    type: path
    required: true
  textfile_dir:
    description: node_exporter's textfile collector directory; it must exist.
    type: path
    required: true
  max_age:
    description:
      - Age past which the last successful backup is too old (C(backup_schedule_max_age)); exported as
        C(deploysafe_backup_max_age_seconds) so that one alert rule serves schedules with different periods.
      - Numbers with units C(y), C(m) (months), C(d), C(h), as for M(deploysafe.preflight.backup_retention).
    type: str
    default: 26h
extends_documentation_fragment:
  - deploysafe.preflight.attributes
attributes:
  check_mode:
    support: full
    details: Computes the metrics and whether the file would change; writes nothing.
  diff_mode:
    support: full
    details: The C(.prom) file's text before and after.
seealso:
  - module: deploysafe.preflight.backup_retention
author:
  - deploysafe.preflight contributors (@deploysafe)
"""

EXAMPLES = r"""
- name: Export the status of the nightly schedule for node_exporter
  deploysafe.preflight.backup_metrics:
    status_file: /var/lib/deploysafe/backup-schedule/nightly.status.json
    textfile_dir: /var/lib/node_exporter/textfile_collector
    max_age: 26h
"""

RETURN = r"""
path:
  description: The C(.prom) file written (or that would be written in check mode).
  returned: success
  type: str
  sample: /var/lib/node_exporter/textfile_collector/deploysafe_backup_nightly.prom
metrics:
  description: The values written, by metric name (metrics without a value yet are left out).
  returned: success
  type: dict
  sample: {"deploysafe_backup_last_success_timestamp_seconds": 1764727200, "deploysafe_backup_last_run_success": 1,
           "deploysafe_backup_duration_seconds": 12.5, "deploysafe_backup_size_bytes": 1048576}
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.deploysafe.preflight.plugins.module_utils.retention import RetentionError
from ansible_collections.deploysafe.preflight.plugins.module_utils.retention.metrics import export_status_metrics


def main():
    module = AnsibleModule(
        argument_spec=dict(
            status_file=dict(type="path", required=True),
            textfile_dir=dict(type="path", required=True),
            max_age=dict(type="str", default="26h"),
        ),
        supports_check_mode=True,
    )
    p = module.params
    try:
        result = export_status_metrics(p["status_file"], p["textfile_dir"], max_age=p["max_age"],
                                       check_mode=module.check_mode)
    except RetentionError as exc:
        module.fail_json(msg=f"backup_metrics of {p['status_file']}: {exc}")
    diff = result.pop("diff")
    if module._diff:
        result["diff"] = diff
    module.exit_json(**result)


if __name__ == "__main__":
    main()
