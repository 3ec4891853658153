#!/usr/bin/python
# Copyright: (c) 2026, deploysafe.preflight contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: runtime_security_snapshot
short_description: Security snapshot of a live Kubernetes namespace, diffed against the last release's
version_added: 0.1.0
description:
  - Reads what a namespace runs (its pods, attributed to their Deployment, StatefulSet, DaemonSet, CronJob or Job,
    and the pod template of every workload none of whose pods runs), its ServiceAccounts, NetworkPolicies,
    RoleBindings and the ClusterRoleBindings naming its service accounts, and reports findings in the collection's
    findings model (JSON, SARIF, JUnit and Markdown reports, exemptions).
  - 'Checks: C(runtime.privileged) (critical), C(runtime.capabilities) (SYS_ADMIN, NET_ADMIN, ALL... added; high),
    C(runtime.privilege-escalation) (C(allowPrivilegeEscalation: true) set explicitly; medium),
    C(runtime.host-path) and C(runtime.host-namespaces) (hostNetwork, hostPID, hostIPC; high),
    C(runtime.run-as-root) (effective runAsUser 0; high), C(runtime.may-run-as-root) (medium),
    C(runtime.unused-token-automount) (medium), C(runtime.rbac-wildcard) (high; critical for C(*) verbs on C(*)
    resources), C(runtime.no-network-policy) (medium), C(runtime.secret-env) (medium).'
  - The user a container runs as is the effective one, the container's securityContext overriding the pod's.
    C(runAsNonRoot=true) or a C(runAsUser) above 0 is non-root, C(runAsUser=0) is root. With neither, the image's
    C(USER) decides, which the API server cannot see. That case is C(runtime.may-run-as-root).
  - A service-account token counts as unused when it is mounted (the pod's C(automountServiceAccountToken), else the
    ServiceAccount's, is not C(false)) and no RoleBinding of the namespace and no ClusterRoleBinding grants the
    service account anything. The API server's default bindings (label C(kubernetes.io/bootstrapping=rbac-defaults))
    do not count.
  - A pod is covered by a NetworkPolicy when the C(podSelector) of a NetworkPolicy in the namespace selects its labels
    (C(matchLabels), C(matchExpressions); C({}) selects every pod).
  - Every finding is located at the owning workload (C(Deployment/web)), never at a pod's generated name, and its
    C(fingerprint) is made of the check id and that identity (plus container, volume, variable or binding), without
    the namespace. Snapshots of two releases, or of staging and production, can therefore be compared.
  - The snapshot (namespace, time, what was inspected, every finding with its fingerprint) is written to
    O(snapshot_path). With O(baseline), the snapshot saved at the last release, findings are C(new) (not in the
    baseline), C(fixed) (in the baseline, gone now) or C(unchanged). Only new findings at or above
    O(severity_threshold) fail the verdict. A release that adds a privileged container fails even if the namespace
    already ran others.
  - Without O(baseline), or when the O(baseline) file does not exist yet (the first release), every finding counts as
    new. A missing baseline can only make the verdict stricter, never laxer.
  - 'A namespace with no running pod and no workload is C(pending) (nothing to inspect), never C(pass). Credentials
    that may not read something fail the task with C(forbidden: list <resource> in namespace <namespace>). Nothing
    is judged from a partial read.'
options:
  namespace:
    description: The namespace to inspect.
    type: str
    required: true
  snapshot_path:
    description:
      - File to write the snapshot to (JSON; the directory is created). Written atomically (temporary name, fsync,
        rename), on every run except in check mode. Keep the one of the release you ship as the next O(baseline).
      - Unset writes no snapshot.
    type: path
  baseline:
    description:
      - The snapshot saved at the last release (a file O(snapshot_path) wrote). Only findings that are not in it gate.
      - A file that is not a runtime security snapshot fails the task. A path that does not exist means no baseline.
    type: path
extends_documentation_fragment:
  - deploysafe.preflight.k8s_auth
  - deploysafe.preflight.findings
  - deploysafe.preflight.attributes
  - deploysafe.preflight.attributes.no_diff
attributes:
  check_mode:
    support: full
    details: Only reads from the API server, so the same checks run and the same verdict comes back. Neither the
      snapshot nor the reports are written (RV(snapshot.written) is false and RV(snapshot.note) says why).
notes:
  - The credentials need C(list) on pods, replicasets, deployments, statefulsets, daemonsets, jobs, cronjobs,
    serviceaccounts, networkpolicies, roles and rolebindings in the namespace. They also need C(list) on
    clusterrolebindings and C(get) on clusterroles. Secrets are never read.
  - Findings of O(sarif_inputs) join the snapshot and are diffed like the others. Expired exemptions
    (C(exemption.expired)) are not part of the snapshot and always count as new.
author:
  - deploysafe.preflight contributors (@deploysafe)
"""

EXAMPLES = r"""
- name: Snapshot production and compare it with the snapshot of the last release
  deploysafe.preflight.runtime_security_snapshot:
    kubeconfig: ~/.kube/production
    namespace: shop
    baseline: /var/lib/preflight/releases/2026-11-20/runtime_security/snapshot.json
    snapshot_path: /var/lib/preflight/releases/2026-12-03/runtime_security/snapshot.json
    report_dir: /var/lib/preflight/releases/2026-12-03/runtime_security
  register: runtime

- name: Show what this release added and what it fixed
  ansible.builtin.debug:
    msg: "new: {{ runtime.diff.new | map(attribute='message') | list }}; fixed: {{ runtime.diff.fixed | length }}"

- name: Snapshot with in-cluster credentials (AWX), recording the verdict only
  deploysafe.preflight.runtime_security_snapshot:
    namespace: shop
    severity_threshold: medium
    fail_on: never
"""

RETURN = r"""
findings:
  description: Every finding (exempted ones carry C(exempted_by)), most severe first.
  returned: always
  type: list
  elements: dict
  sample: [{"check_id": "runtime.privileged", "severity": "critical", "message": "Deployment/web: container app is privileged",
            "location": {"file": "Deployment/web", "pointer": "/spec/containers/0/securityContext/privileged"},
            "remediation": "Remove securityContext.privileged: true...", "evidence_redacted": "",
            "fingerprint": "3f1c0a9b7d2e4f60", "tool": "deploysafe.preflight"}]
passed:
  description: True when the verdict is C(pass).
  returned: always
  type: bool
counts:
  description: Non-exempted findings by severity (all of them, not only the new ones).
  returned: always
  type: dict
  sample: {"info": 0, "low": 0, "medium": 3, "high": 1, "critical": 1}
exempted:
  description: Number of findings covered by a live exemption.
  returned: always
  type: int
reports:
  description: Paths of the reports written to O(report_dir) (C(runtime_security.json), C(.sarif), C(.junit.xml), C(.md)).
  returned: always
  type: list
  elements: str
namespace:
  description: The namespace inspected.
  returned: always
  type: str
snapshot:
  description: Where the snapshot went.
  returned: always
  type: dict
  contains:
    path:
      description: O(snapshot_path), or null.
      type: str
      returned: always
    written:
      description: True once the snapshot was written; false in check mode or without O(snapshot_path).
      type: bool
      returned: always
    taken_at:
      description: When the namespace was read (UTC).
      type: str
      returned: always
    note:
      description: Why nothing was written.
      type: str
      returned: in check mode with O(snapshot_path)
  sample: {"path": "/var/lib/preflight/run/runtime_security/snapshot.json", "written": true, "taken_at": "2026-12-03T10:00:00Z"}
baseline:
  description: The baseline compared with (C(path), C(sha256), C(namespace), C(taken_at), C(findings)), or null.
  returned: always
  type: dict
diff:
  description: C(new) and C(fixed) findings (C(fingerprint), C(check_id), C(severity), C(message)) and the number C(unchanged).
  returned: always
  type: dict
  sample: {"new": [{"fingerprint": "3f1c0a9b7d2e4f60", "check_id": "runtime.privileged", "severity": "critical",
                    "message": "Deployment/web: container app is privileged"}], "fixed": [], "unchanged": 4}
inspected:
  description: Live C(pods) inspected, workload C(templates) inspected without a running pod, distinct C(workloads), C(bindings) read.
  returned: always
  type: dict
  sample: {"pods": 6, "templates": 1, "workloads": 3, "bindings": 2}
verdict:
  description:
    - The evidence contract. C(fail) when a new, non-exempted finding is at or above O(severity_threshold); the summary
      names those findings. C(pending) when there was nothing to inspect.
    - C(evidence.findings) counts all findings by severity and C(exempted). C(evidence.measurements) holds
      C(pods_inspected), C(workload_templates_inspected), C(new_findings), C(fixed_findings), C(unchanged_findings),
      C(pod_specs_inspected) and C(findings_at_or_above_threshold) (the new ones; must be 0).
    - C(evidence.artifacts) holds the snapshot and the reports with their sha256.
  returned: always
  type: dict
  sample: {"status": "fail", "summary": "namespace shop against the snapshot of 2026-11-20T09:00:00Z (1 new, 0 fixed, 4 unchanged;
             only new findings gate): 1 finding(s) at or above high; new: [critical] runtime.privileged Deployment/web: container
             app is privileged", "evidence": {"artifacts": [], "findings": {"critical": 2, "exempted": 0},
             "measurements": [{"name": "new_findings", "value": 1, "unit": "findings"}]}}
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.deploysafe.preflight.plugins.module_utils.deps import requires
from ansible_collections.deploysafe.preflight.plugins.module_utils.findings import FindingsError
from ansible_collections.deploysafe.preflight.plugins.module_utils.k8s import K8sError
from ansible_collections.deploysafe.preflight.plugins.module_utils.k8s.connection import connect
from ansible_collections.deploysafe.preflight.plugins.module_utils.k8s.runtime_security import (
    SnapshotOptions, runtime_security_argument_spec, take_snapshot,
)
from ansible_collections.deploysafe.preflight.plugins.module_utils.verdict import gate_failed, stamp_module_verdicts


def main():
    module = AnsibleModule(argument_spec=runtime_security_argument_spec(), supports_check_mode=True)
    stamp_module_verdicts(module, "runtime_security_snapshot")
    requires(module, "kubernetes")
    p = module.params
    opts = SnapshotOptions(namespace=p["namespace"], snapshot_path=p["snapshot_path"], baseline=p["baseline"],
                           severity_threshold=p["severity_threshold"], exemptions_file=p["exemptions_file"],
                           sarif_inputs=p["sarif_inputs"], report_dir=p["report_dir"],
                           report_formats=p["report_formats"])
    try:
        result = take_snapshot(connect(p), opts, module.check_mode)
    except (K8sError, FindingsError) as exc:
        module.fail_json(msg=str(exc))
    if gate_failed(result["verdict"]["status"], p["fail_on"]):
        module.fail_json(msg=result["verdict"]["summary"], **result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
