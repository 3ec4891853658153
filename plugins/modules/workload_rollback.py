#!/usr/bin/python
# Copyright: (c) 2026, deploysafe.preflight contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: workload_rollback
short_description: Roll a Deployment, StatefulSet or DaemonSet back to a given or the previous revision
version_added: 0.1.0
description:
  - What C(kubectl rollout undo --to-revision) does, as a module. Deployments are patched with the template of the
    ReplicaSet of the revision (without C(pod-template-hash)) and its annotations the way kubectl does; StatefulSets
    and DaemonSets with the template of their ControllerRevision. Only history the workload controls (owner UID)
    counts.
  - Unlike kubernetes.core's C(k8s_rollback) it handles StatefulSets, rolls back to any revision still in the history,
    reports C(changed=false) when the workload already runs the target template, shows the template diff in check
    mode (a server-side dry-run, so defaulting and admission are included) and waits for the rollout.
  - A rollback is itself a new revision, renumbering the target. A Deployment's ReplicaSet keeps its former numbers
    in C(deployment.kubernetes.io/revision-history), so O(to_revision) still finds it and a second run is unchanged;
    for StatefulSets and DaemonSets use O(revision_name) to target a revision stably.
options:
  kind:
    description: Kind of the workload.
    type: str
    required: true
    choices: [Deployment, StatefulSet, DaemonSet]
  name:
    description: Name of the workload.
    type: str
    required: true
  namespace:
    description: Namespace of the workload.
    type: str
    required: true
  to_revision:
    description: Revision number to roll back to; V(0) means the revision before the newest.
    type: int
    default: 0
  revision_name:
    description: Name of the ReplicaSet or ControllerRevision to roll back to (instead of O(to_revision)).
    type: str
  wait:
    description: Wait until the rollout of the rolled-back template is complete.
    type: bool
    default: true
  wait_timeout:
    description: Seconds to wait for the rollout.
    type: int
    default: 300
extends_documentation_fragment:
  - deploysafe.preflight.k8s_auth
attributes:
  check_mode:
    support: full
    description: Sends the patch as a server-side dry-run and returns the template diff; nothing changes.
  diff_mode:
    support: full
    description: The pod template before and after.
author:
  - deploysafe.preflight contributors (@deploysafe)
"""

EXAMPLES = r"""
- name: Roll the web Deployment back to the previous revision and wait
  deploysafe.preflight.workload_rollback:
    kind: Deployment
    name: web
    namespace: shop

- name: Show what rolling the database back to a recorded revision would change
  deploysafe.preflight.workload_rollback:
    kind: StatefulSet
    name: db
    namespace: shop
    revision_name: db-7c9d6b5f4
  check_mode: true
  diff: true
"""

RETURN = r"""
target:
  description: The revision rolled back to (C(kind), C(name), C(revision), C(images)).
  returned: always
  type: dict
  sample: {"kind": "ReplicaSet", "name": "web-6d4cf56db6", "revision": 2, "images": ["registry.example.com/web:1.4.0"]}
rollout_seconds:
  description: Seconds from the patch until the rollout completed (null in check mode, without wait, or when unchanged).
  returned: always
  type: float
  sample: 12.4
message:
  description: What happened.
  returned: always
  type: str
  sample: Deployment/web rolled back to ReplicaSet web-6d4cf56db6 in 12.4s
diff:
  description: The pod template before and after.
  returned: when diff mode is on
  type: dict
"""

from ansible.module_utils.basic import AnsibleModule, missing_required_lib
from ansible_collections.deploysafe.preflight.plugins.module_utils.k8s import K8sError, missing_libraries
from ansible_collections.deploysafe.preflight.plugins.module_utils.k8s.connection import connect, k8s_auth_argument_spec
from ansible_collections.deploysafe.preflight.plugins.module_utils.k8s.undo import rollback_workload


def main():
    argument_spec = k8s_auth_argument_spec()
    argument_spec.update(
        kind=dict(type="str", required=True, choices=["Deployment", "StatefulSet", "DaemonSet"]),
        name=dict(type="str", required=True),
        namespace=dict(type="str", required=True),
        to_revision=dict(type="int", default=0),
        revision_name=dict(type="str"),
        wait=dict(type="bool", default=True),
        wait_timeout=dict(type="int", default=300),
    )
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    if missing_libraries():
        module.fail_json(msg=missing_required_lib(", ".join(missing_libraries())))
    p = module.params
    if p["to_revision"] < 0:
        module.fail_json(msg=f"to_revision must be 0 (the previous revision) or a revision number, not {p['to_revision']}")
    try:
        result = rollback_workload(connect(p), p["kind"], p["name"], p["namespace"], p["to_revision"],
                                   p["revision_name"], module.check_mode, p["wait"], p["wait_timeout"])
    except K8sError as exc:
        module.fail_json(msg=str(exc))
    if not module._diff:
        result.pop("diff")
    module.exit_json(**result)


if __name__ == "__main__":
    main()
