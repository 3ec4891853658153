#!/usr/bin/python
# Copyright: (c) 2026, deploysafe.preflight contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: rollback_rehearsal
short_description: Rehearse rolling a release back (N, then N+1, then back to N) in a throwaway namespace, timed
version_added: 0.1.0
description:
  - In a namespace with a random suffix (labels C(deploysafe.io/rehearsal=rollback) and C(deploysafe.io/run-id), a TTL
    annotation), deploys version N, records the ReplicaSet (Deployments) or ControllerRevision (StatefulSets,
    DaemonSets) that holds its template, deploys the candidate N+1, then rolls back to N from that record the way
    C(kubectl rollout undo --to-revision) does (Deployments, a JSON patch of the ReplicaSet's template; StatefulSets and
    DaemonSets, the recorded template as a strategic merge patch) and waits for the rollback to complete.
  - Version N is what production runs, read from O(current_namespace), or given as O(current_paths)/O(current_content).
  - 'Verdict measurements: C(phase_seconds[deploy_current]), C(phase_seconds[deploy_candidate]),
    C(previous_version_available) (the recorded ReplicaSet/ControllerRevision still exists with N''s images after N+1
    rolled out; C(revisionHistoryLimit: 0) makes it disappear), C(rollback_uses_recorded_revision) (no manifest is
    re-applied), C(rollback_seconds) against O(max_rollback_seconds), C(images_restored), C(rollback_estimate_seconds)
    (observed seconds per replica times the production replica count, against the same SLA) and, with
    O(health_check_url), the health after the rollback.'
  - A candidate that never becomes Ready is rehearsed too (that is when a rollback is needed); it is reported in
    RV(candidate_problems) and C(candidate_rolled_out).
  - The namespace is always deleted (error, Ctrl-C, SIGTERM, SIGHUP included) unless O(keep_on_failure) and a failure.
  - With O(database), the database down-path is rehearsed after the workloads (see the option) and its measurements
    join the verdict; C(rollback_with_database_estimate_seconds) adds the down migration's time to the production
    estimate, against the same SLA. Without it the summary says the down-path was skipped.
options:
  paths:
    description: Manifest files or directories of the candidate (N+1).
    type: list
    elements: path
    default: []
  content:
    description: Manifest text of the candidate (N+1).
    type: str
  current_paths:
    description: Manifest files or directories of version N.
    type: list
    elements: path
    default: []
  current_content:
    description: Manifest text of version N.
    type: str
  current_namespace:
    description:
      - Live namespace to read version N from (its Deployments, StatefulSets and DaemonSets) and to copy referenced
        ConfigMaps/Secrets from. Its replica counts feed the production estimate.
    type: str
  max_rollback_seconds:
    description: The rollback SLA in seconds (default 30 minutes); the measured and the estimated time must stay within it.
    type: float
    default: 1800
    aliases: [sla]
  production_replicas:
    description: Production replica count per workload (C(Kind/name -> count)) for the estimate; default the rehearsal's.
    type: dict
    default: {}
  namespace_prefix:
    description: Prefix of the throwaway namespace's name; a random suffix is added.
    type: str
    default: rollback
extends_documentation_fragment:
  - deploysafe.preflight.k8s_auth
  - deploysafe.preflight.k8s_rehearsal
  - deploysafe.preflight.pg_down_path
  - deploysafe.preflight.s3.nested
  - deploysafe.preflight.verdict
  - deploysafe.preflight.attributes
attributes:
  check_mode:
    support: full
    details:
      - Reads version N and resolves references, creates nothing; the verdict is C(pending).
      - With O(database), reports which backup would be restored and which migrations would run
        (C(database.plan)); nothing is restored.
  diff_mode:
    support: none
    details: The namespace is created and removed in one run; there is no lasting state to diff.
author:
  - deploysafe.preflight contributors (@deploysafe)
"""

EXAMPLES = r"""
- name: Rehearse rolling back from the candidate to what production runs, within 10 minutes
  deploysafe.preflight.rollback_rehearsal:
    kubeconfig: ~/.kube/staging
    current_namespace: shop
    paths: [deploy/]
    max_rollback_seconds: 600
  register: rollback

- name: Rehearse the rollback and the database down-path from the newest verified backup
  deploysafe.preflight.rollback_rehearsal:
    current_namespace: shop
    paths: [deploy/]
    database:
      host: db-staging.internal
      user: postgres
      password: "{{ vault_pg_password }}"
      backup_location: /var/backups/shop
      identity_file: /etc/preflight/backup-key.txt
      up_migration: {sql_file: migrations/0042_up.sql}
      down_migration: {command: [alembic, downgrade, "-1"], env: {APP_ENV: rehearsal}}
  register: rollback

- name: Keep version N's schema for later rehearsals (the expected_schema format)
  ansible.builtin.copy:
    content: "{{ rollback.database.schema_before | to_nice_json }}"
    dest: schema/1.4.0.json
    mode: "0644"

- name: Rehearse with both versions given as manifests
  deploysafe.preflight.rollback_rehearsal:
    current_paths: [releases/1.4.0/]
    paths: [releases/1.5.0/]
    production_replicas: {Deployment/web: 12}
    fail_on: never
"""

RETURN = r"""
verdict:
  description: The evidence contract with the measurements listed in the description.
  returned: always
  type: dict
  sample: {"status": "pass", "summary": "rolled back 1 workload(s) to version N in 4.2s (SLA 1800s, production estimate 17s)",
           "evidence": {"artifacts": [], "findings": {},
                        "measurements": [{"name": "rollback_seconds", "value": 4.2, "unit": "s", "threshold": 1800,
                                          "comparison": "<=", "ok": true}]}}
phases:
  description: Seconds of each phase (C(deploy_current), C(deploy_candidate), C(rollback)); null when it did not complete.
  returned: when the namespace was created
  type: dict
  sample: {"deploy_current": 5.1, "deploy_candidate": 6.0, "rollback": 4.2}
revisions:
  description: The recorded version N per workload (C(kind), C(name), C(revision), C(images)).
  returned: when version N rolled out
  type: dict
rollback_estimate_seconds:
  description: Estimated production rollback time.
  returned: when the rollback ran
  type: float
  sample: 16.8
candidate_problems:
  description: Why the candidate did not roll out, if it did not.
  returned: when the candidate was applied
  type: list
  elements: str
workloads:
  description: Rollback progress per workload.
  returned: always
  type: list
  elements: dict
namespace:
  description: Name of the throwaway namespace (null when nothing was created).
  returned: always
  type: str
namespace_deleted:
  description: True once the namespace was deleted and is gone.
  returned: always
  type: bool
missing_references:
  description: Referenced ConfigMaps/Secrets found nowhere.
  returned: always
  type: list
  elements: dict
diagnostics:
  description: On failure, events, statuses of the pods that are not Ready and log tails.
  returned: on failure after applying
  type: dict
rollback_with_database_estimate_seconds:
  description: The production rollback estimate plus the down migration's measured time.
  returned: when the rollback and the down migration both ran
  type: float
  sample: 18.2
database:
  description:
    - The database down-path with O(database) - the keys M(deploysafe.preflight.migration_rehearsal) returns, described
      there (C(plan), C(scratch_db), C(scratch_dropped), C(timings), C(steps), C(schema_differences),
      C(changed_tables), C(untouched_tables), C(untouched_tables_changed), C(touched_tables_changed),
      C(constraint_violations), C(schema_before), C(error)), without the verdict, which is merged into RV(verdict).
    - C(skipped=true) without O(database).
  returned: always
  type: dict
  sample: {"plan": {"backup": {"artifact": "/var/backups/shop/pg-shop-20261203T020000Z.dump.zst.age",
                              "verification": "pass"}},
           "timings": {"restore": 2.6, "up": 0.4, "down": 0.3}, "scratch_dropped": true,
           "schema_differences": [], "untouched_tables_changed": []}
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.deploysafe.preflight.plugins.module_utils.verdict import stamp_module_verdicts
from ansible_collections.deploysafe.preflight.plugins.module_utils.deps import requires
from ansible_collections.deploysafe.preflight.plugins.module_utils.k8s.rehearsal import (
    rehearsal_argument_spec, rehearsal_options, run_task,
)
from ansible_collections.deploysafe.preflight.plugins.module_utils.k8s.rollback import (
    RollbackOptions, plan_only, rehearse_rollback,
)
from ansible_collections.deploysafe.preflight.plugins.module_utils.k8s.rollback_db import with_database
from ansible_collections.deploysafe.preflight.plugins.module_utils.pg import PgError
from ansible_collections.deploysafe.preflight.plugins.module_utils.pg.args import down_path_argument_spec
from ansible_collections.deploysafe.preflight.plugins.module_utils.pg.down_path import database_options, required_libraries
from ansible_collections.deploysafe.preflight.plugins.module_utils.s3.client import S3Conn, s3_argument_spec
from ansible_collections.deploysafe.preflight.plugins.module_utils.verdict import gate_failed


def main():
    argument_spec = rehearsal_argument_spec(namespace_prefix="rollback")
    argument_spec.update(
        current_paths=dict(type="list", elements="path", default=[]),
        current_content=dict(type="str"),
        current_namespace=dict(type="str"),
        max_rollback_seconds=dict(type="float", default=1800, aliases=["sla"]),
        production_replicas=dict(type="dict", default={}),
        database=down_path_argument_spec(),
        s3=dict(type="dict", options=s3_argument_spec()),
    )
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True,
                           required_one_of=[("paths", "content"), ("current_paths", "current_content", "current_namespace")],
                           mutually_exclusive=[("current_namespace", "current_paths"),
                                               ("current_namespace", "current_content")])
    stamp_module_verdicts(module, "rollback_rehearsal")
    requires(module, "kubernetes")
    p = module.params
    try:
        replicas = {str(k): int(v) for k, v in p["production_replicas"].items()}
    except (TypeError, ValueError):
        module.fail_json(msg="production_replicas must map Kind/name to a whole number of replicas")
    requires(module, *required_libraries(p["database"]))
    try:
        db_opts = database_options(p["database"], S3Conn.from_params(p["s3"] or {}), p["max_rollback_seconds"])
    except PgError as exc:
        module.fail_json(msg=f"rollback_rehearsal: {exc}")
    opts = RollbackOptions(current_paths=p["current_paths"], current_content=p["current_content"],
                           current_namespace=p["current_namespace"], max_rollback_seconds=p["max_rollback_seconds"],
                           production_replicas=replicas, **rehearsal_options(p))
    # the gate applies to the verdict with the database in it, below
    message, result = run_task(dict(p, fail_on="never"), opts, module.check_mode, plan_only, rehearse_rollback)
    if message:
        module.fail_json(msg=message, **result)
    try:
        result = with_database(result, db_opts, module.check_mode)
    except PgError as exc:
        module.fail_json(msg=f"rollback_rehearsal: {exc}", **result)
    if gate_failed(result["verdict"]["status"], p["fail_on"]):
        module.fail_json(msg=result["verdict"]["summary"], **result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
