#!/usr/bin/python
# Copyright: (c) 2026, deploysafe.preflight contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: migration_rehearsal
short_description: Rehearse a database down migration against a scratch restore of the newest verified backup
version_added: 0.1.0
description:
  - The database down-path of M(deploysafe.preflight.rollback_rehearsal) on its own, without Kubernetes (for
    example in the pipeline of every migration change). It takes the same O(database) option group, so one variable
    serves both.
  - O(database) is required here; the verdict carries the C(database_*) measurements described under it.
options:
  max_rollback_seconds:
    description: The rollback SLA in seconds; the down migration's measured time must stay within it.
    type: float
    default: 1800
    aliases: [sla]
extends_documentation_fragment:
  - deploysafe.preflight.pg_down_path
  - deploysafe.preflight.s3.nested
  - deploysafe.preflight.verdict.fail_on
  - deploysafe.preflight.verdict
  - deploysafe.preflight.attributes
  - deploysafe.preflight.attributes.no_diff
attributes:
  check_mode:
    support: full
    details: Reports which backup would be restored and which migrations would run (RV(plan)); restores nothing, the
      verdict is C(pending).
author:
  - deploysafe.preflight contributors (@deploysafe)
"""

EXAMPLES = r"""
- name: Prove migration 0042 can be rolled back, from the newest verified backup
  deploysafe.preflight.migration_rehearsal:
    database:
      host: db-staging.internal
      user: postgres
      password: "{{ vault_pg_password }}"
      backup_location: /var/backups/shop
      up_migration: {sql_file: migrations/0042_up.sql}
      down_migration: {sql_file: migrations/0042_down.sql}
    max_rollback_seconds: 600
  register: down_path
"""

RETURN = r"""
verdict:
  description: The evidence contract with the C(database_*) measurements.
  returned: always
  type: dict
  sample: {"status": "pass", "summary": "database down-path: up and down migration ran, schema back to version N, ...",
           "evidence": {"measurements": [{"name": "database_down_seconds", "value": 0.3, "unit": "s",
                                          "threshold": 600, "comparison": "<=", "ok": true}]}}
plan:
  description: The backup chosen (C(artifact), C(time), C(verification)...) and the migrations.
  returned: always
  type: dict
scratch_db:
  description: Name of the scratch database.
  returned: when it was created
  type: str
scratch_dropped:
  description: True once the scratch database was dropped.
  returned: when it was created
  type: bool
timings:
  description: Seconds of C(restore), C(up) and C(down).
  returned: when the restore ran
  type: dict
  sample: {"restore": 2.6, "up": 0.4, "down": 0.3}
steps:
  description: Per step C(ok), C(seconds), and on error C(error), C(sqlstate), C(constraint), C(table), C(output_tail).
  returned: when a migration ran
  type: dict
schema_differences:
  description: C(object), C(kind), C(name), C(problem) (missing, unexpected, differs), C(expected), C(actual).
  returned: when both migrations ran
  type: list
  elements: dict
changed_tables:
  description: Tables the up migration changed (excluded from the data comparison).
  returned: when both migrations ran
  type: list
  elements: str
untouched_tables:
  description: Tables whose row counts and content hashes must be unchanged.
  returned: when both migrations ran
  type: list
  elements: str
untouched_tables_changed:
  description: Untouched tables whose row count or content differs afterwards.
  returned: when both migrations ran
  type: list
  elements: dict
touched_tables_changed:
  description: Changed tables whose content differs afterwards (informational).
  returned: when both migrations ran
  type: list
  elements: dict
constraint_violations:
  description: Foreign key and check constraints with violating rows after the down migration.
  returned: when both migrations ran
  type: list
  elements: dict
schema_before:
  description: Version N's schema as restored, in the O(database.expected_schema) format.
  returned: when the restore ran
  type: dict
error:
  description: Why the down-path stopped early (a restore or connection error).
  returned: on such an error
  type: str
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.deploysafe.preflight.plugins.module_utils.deps import requires
from ansible_collections.deploysafe.preflight.plugins.module_utils.pg import PgError
from ansible_collections.deploysafe.preflight.plugins.module_utils.pg.args import down_path_argument_spec
from ansible_collections.deploysafe.preflight.plugins.module_utils.pg.down_path import (
    database_options, plan_down_path, rehearse_down_path, required_libraries)
from ansible_collections.deploysafe.preflight.plugins.module_utils.s3.client import S3Conn, s3_argument_spec
from ansible_collections.deploysafe.preflight.plugins.module_utils.verdict import FAIL_ON, gate_failed, stamp_module_verdicts


def main():
    module = AnsibleModule(argument_spec=dict(
        database=down_path_argument_spec(),
        s3=dict(type="dict", options=s3_argument_spec()),
        max_rollback_seconds=dict(type="float", default=1800, aliases=["sla"]),
        fail_on=dict(type="str", choices=list(FAIL_ON), default="fail"),
    ), supports_check_mode=True)
    stamp_module_verdicts(module, "migration_rehearsal")
    p = module.params
    if not p["database"]:
        module.fail_json(msg="migration_rehearsal: database is required (the connection, backup or backup_location, "
                             "down_migration)")
    requires(module, *required_libraries(p["database"]))
    try:
        opts = database_options(p["database"], S3Conn.from_params(p["s3"] or {}), p["max_rollback_seconds"])
        result = plan_down_path(opts) if module.check_mode else rehearse_down_path(opts)
    except PgError as exc:
        module.fail_json(msg=f"migration_rehearsal: {exc}")
    result["changed"] = False   # a scratch database that is gone again changes nothing
    if gate_failed(result["verdict"]["status"], p["fail_on"]):
        module.fail_json(msg=result["verdict"]["summary"], **result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
