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
  - The database down-path is not part of this module; rehearse it with the down migration against a scratch restore
    (see the rollback_rehearsal role's documentation).
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
  - deploysafe.preflight.verdict
attributes:
  check_mode:
    support: full
    description: Reads version N and resolves references, creates nothing; the verdict is C(pending).
  diff_mode:
    support: none
    description: The namespace is created and removed in one run; there is no lasting state to diff.
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
"""

from ansible.module_utils.basic import AnsibleModule, missing_required_lib
from ansible_collections.deploysafe.preflight.plugins.module_utils.k8s import missing_libraries
from ansible_collections.deploysafe.preflight.plugins.module_utils.k8s.rehearsal import (
    rehearsal_argument_spec, rehearsal_options, run_task,
)
from ansible_collections.deploysafe.preflight.plugins.module_utils.k8s.rollback import (
    RollbackOptions, plan_only, rehearse_rollback,
)


def main():
    argument_spec = rehearsal_argument_spec(namespace_prefix="rollback")
    argument_spec.update(
        current_paths=dict(type="list", elements="path", default=[]),
        current_content=dict(type="str"),
        current_namespace=dict(type="str"),
        max_rollback_seconds=dict(type="float", default=1800, aliases=["sla"]),
        production_replicas=dict(type="dict", default={}),
    )
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True,
                           required_one_of=[("paths", "content"), ("current_paths", "current_content", "current_namespace")],
                           mutually_exclusive=[("current_namespace", "current_paths"),
                                               ("current_namespace", "current_content")])
    if missing_libraries():
        module.fail_json(msg=missing_required_lib(", ".join(missing_libraries())))
    p = module.params
    try:
        replicas = {str(k): int(v) for k, v in p["production_replicas"].items()}
    except (TypeError, ValueError):
        module.fail_json(msg="production_replicas must map Kind/name to a whole number of replicas")
    opts = RollbackOptions(current_paths=p["current_paths"], current_content=p["current_content"],
                           current_namespace=p["current_namespace"], max_rollback_seconds=p["max_rollback_seconds"],
                           production_replicas=replicas, **rehearsal_options(p))
    message, result = run_task(p, opts, module.check_mode, plan_only, rehearse_rollback)
    if message:
        module.fail_json(msg=message, **result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
