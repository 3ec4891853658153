#!/usr/bin/python
# Copyright: (c) 2026, deploysafe.preflight contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: deploy_rehearsal
short_description: Rehearse a release in a throwaway Kubernetes namespace, timed, and always clean up
version_added: 0.1.0
description:
  - Creates a namespace with a random suffix (labels C(deploysafe.io/rehearsal=deploy) and C(deploysafe.io/run-id),
    annotations C(deploysafe.io/ttl-seconds) and C(deploysafe.io/expires-at) for a janitor), server-side applies
    the manifests into it, waits for the rollout of every Deployment, StatefulSet, DaemonSet and Job, checks
    that every serving pod is Ready, optionally calls a health URL, and deletes the namespace.
  - Every ConfigMap and Secret the pod templates reference (env, envFrom, volumes, projected volumes,
    imagePullSecrets) must come from the manifests, from O(configmaps)/O(secrets), or from O(source_namespace)
    (copied). A missing, non-optional reference fails the rehearsal before anything is created.
  - The namespace is deleted on success, on failure, on an error and on Ctrl-C, SIGTERM or SIGHUP, unless
    O(keep_on_failure) is set and the rehearsal failed. Cluster-scoped objects and Namespace objects in the
    manifests are never applied (listed in RV(skipped)).
  - A failure carries the Warning events, the statuses of the pods that are not Ready and their log tails.
options:
  namespace_prefix:
    description: Prefix of the throwaway namespace's name; a random suffix is added.
    type: str
    default: rehearsal
  max_warning_events:
    description: Warning events tolerated; unset records their number without judging it.
    type: int
  dry_run_namespace:
    description: Namespace the check-mode dry-run targets (it must exist). Default O(source_namespace), else V(default).
    type: str
extends_documentation_fragment:
  - deploysafe.preflight.k8s_auth
  - deploysafe.preflight.k8s_manifests
  - deploysafe.preflight.k8s_rehearsal
  - deploysafe.preflight.verdict
  - deploysafe.preflight.attributes
attributes:
  check_mode:
    support: full
    details: Server-side dry-run (C(dryRun=All)) of every object and the reference check; nothing is created.
      The verdict is C(pending) at best, since nothing was rolled out.
  diff_mode:
    support: none
    details: The namespace is created and removed in one run; there is no lasting state to diff.
author:
  - deploysafe.preflight contributors (@deploysafe)
"""

EXAMPLES = r"""
- name: Rehearse the release, copying its ConfigMaps and Secrets from production
  deploysafe.preflight.deploy_rehearsal:
    kubeconfig: ~/.kube/staging
    paths: [deploy/]
    source_namespace: shop
    timeout: 600
    health_check_url: https://shop-rehearsal.staging.example.com/healthz
  register: rehearsal

- name: Rehearse rendered manifests with the ConfigMap given inline, in-cluster credentials (AWX)
  deploysafe.preflight.deploy_rehearsal:
    content: "{{ lookup('ansible.builtin.pipe', 'helm template shop charts/shop') }}"
    configmaps:
      shop-config: {LOG_LEVEL: info}
    fail_on: never
"""

RETURN = r"""
verdict:
  description: The evidence contract. Measurements C(rollout_seconds[Kind/name]) per workload, C(workloads_complete),
    C(pods_ready), C(restarts), C(warning_events), C(health_*), or C(missing_references)/C(rejected_objects).
  returned: always
  type: dict
  sample: {"status": "pass", "summary": "2 workload(s) rolled out in a throwaway namespace, 4 pod(s) Ready (slowest Deployment/web: 6.1s)",
           "evidence": {"artifacts": [], "findings": {"problems": 0},
                        "measurements": [{"name": "rollout_seconds[Deployment/web]", "value": 6.1, "unit": "s",
                                          "threshold": 300, "comparison": "<=", "ok": true}]}}
namespace:
  description: Name of the throwaway namespace (null when nothing was created).
  returned: always
  type: str
  sample: rehearsal-3fa9c1
run_id:
  description: Run id in the namespace label.
  returned: always
  type: str
  sample: 20261203T081500Z-a1b2c3
namespace_deleted:
  description: True once the namespace was deleted and is gone.
  returned: always
  type: bool
  sample: true
kept:
  description: True when the namespace was kept because of O(keep_on_failure).
  returned: always
  type: bool
  sample: false
workloads:
  description: Per workload, whether its rollout completed, in how many seconds, and the last progress or failure.
  returned: always
  type: list
  elements: dict
  sample: [{"kind": "Deployment", "name": "web", "complete": true, "rollout_seconds": 6.1,
            "message": "3/3 replicas available", "failure": null}]
applied:
  description: Objects applied (C(Kind/name)).
  returned: always
  type: list
  elements: str
skipped:
  description: Objects not applied because they are cluster-scoped or Namespaces.
  returned: always
  type: list
  elements: str
missing_references:
  description: Referenced ConfigMaps/Secrets found nowhere (C(kind), C(name), C(used_by)).
  returned: always
  type: list
  elements: dict
copied:
  description: ConfigMaps/Secrets created in the namespace (given or copied), by name only.
  returned: when the namespace was created
  type: list
  elements: str
warning_events:
  description: Warning events of the namespace (object, reason, message, count, time).
  returned: when workloads were applied
  type: list
  elements: dict
diagnostics:
  description: On failure, C(events), C(pods) (statuses of the pods that are not Ready) and C(logs) (tails).
  returned: on failure after applying
  type: dict
dry_run_rejected:
  description: In check mode, the objects the API server rejected and why.
  returned: check mode
  type: dict
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.deploysafe.preflight.plugins.module_utils.verdict import stamp_module_verdicts
from ansible_collections.deploysafe.preflight.plugins.module_utils.deps import requires
from ansible_collections.deploysafe.preflight.plugins.module_utils.k8s.rehearsal import (
    RehearsalOptions, dry_run, rehearsal_argument_spec, rehearsal_options, rehearse, run_task,
)


def main():
    argument_spec = rehearsal_argument_spec(namespace_prefix="rehearsal")
    argument_spec.update(
        max_warning_events=dict(type="int"),
        dry_run_namespace=dict(type="str"),
    )
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True,
                           required_one_of=[("paths", "content")])
    stamp_module_verdicts(module, "deploy_rehearsal")
    requires(module, "kubernetes")
    p = module.params
    opts = RehearsalOptions(max_warning_events=p["max_warning_events"],
                            dry_run_namespace=p["dry_run_namespace"] or p["source_namespace"] or "default",
                            **rehearsal_options(p))
    message, result = run_task(p, opts, module.check_mode, dry_run, rehearse)
    if message:
        module.fail_json(msg=message, **result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
