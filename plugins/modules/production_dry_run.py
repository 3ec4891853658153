#!/usr/bin/python
# Copyright: (c) 2026, deploysafe.preflight contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: production_dry_run
short_description: Server-side dry-run of a release against the production namespace, diffed against the live objects
version_added: 0.1.0
description:
  - Server-side applies every object of the release with C(dryRun=All) (field manager C(deploysafe-preflight),
    conflicts forced, as the real apply would) against O(namespace), reads the live object, and reports per object
    whether it would be created, updated (with a unified diff of the normalised YAML) or left unchanged.
    The live objects are never changed.
  - The diff leaves out C(status), C(metadata.managedFields), C(resourceVersion), C(generation), C(uid),
    C(creationTimestamp), and every field the manifest does not set that is equal on both sides (server defaults,
    other controllers' annotations). Secret values are never shown, only whether each key changes.
  - Live objects of the kinds the release manages that carry its app label (O(app_label)) but are not in the
    manifests are listed as RV(orphaned), for information; nothing is deleted.
  - An object the API server refuses (admission webhook denial, invalid object, immutable field such as a
    Deployment selector, RBAC denial) makes the verdict C(fail), naming the object and the API server's message.
  - With O(apply=true), outside check mode, after a clean dry-run, the release is really applied (server-side
    apply), but only when the checklist report (O(decision_file)) says C(go) for the current run
    (C(run.json) of O(run_dir)) and the manifests, given as O(paths), hash as the run recorded them when it
    started (C(release.manifests_sha256)), so a go is never spent on other files. Otherwise the task fails
    and nothing is applied.
  - Without O(apply), C(changed) is always false, since nothing is changed. With O(apply) it says whether the server changed
    an object (created it, or stored a new version), and in check mode whether the apply would.
  - Cluster-scoped objects and Namespace objects in the manifests are left out (RV(skipped)).
options:
  namespace:
    description: The production namespace. Objects of the manifests are moved into it whatever namespace they name.
    type: str
    required: true
  app_label:
    description: Label that marks the release's objects, for finding orphaned live objects.
    type: str
    default: app.kubernetes.io/name
  app_label_values:
    description: Values of O(app_label) that belong to the release. Empty means the values the manifests' objects carry.
    type: list
    elements: str
    default: []
  report_dir:
    description:
      - Directory for the diff report (C(production-dry-run.diff)) and its JSON form (C(production-dry-run.json)),
        written atomically and returned as artifacts with their sha256. Empty writes no report.
      - Nothing is written in check mode.
    type: path
    default: ""
  apply:
    description:
      - Really apply the release after a clean dry-run. Needs a C(go) decision of the checklist for the current run,
        O(run_dir), and the manifests as O(paths) with the hash the run recorded.
      - Never applies in check mode.
    type: bool
    default: false
  decision_file:
    description: The checklist report holding the decision. Default C(<run_dir>/report/checklist.json).
    type: path
    default: ""
  run_dir:
    description: The run directory; its C(run.json) names the current run the C(go) must belong to.
    type: path
    default: ""
  run_id:
    description: The current run (checked against C(run.json) when O(run_dir) is set too).
    type: str
    default: ""
extends_documentation_fragment:
  - deploysafe.preflight.k8s_auth
  - deploysafe.preflight.k8s_manifests
  - deploysafe.preflight.verdict
  - deploysafe.preflight.verdict.FAIL_ON
  - deploysafe.preflight.attributes
attributes:
  check_mode:
    support: full
    details: The same server-side dry-run and diff (they change nothing); no report is written and nothing is applied.
      With O(apply) the go decision is checked and C(changed) says whether the apply would change objects.
  diff_mode:
    support: full
    details: Per object that would be created or updated, the live object and the dry-run result (normalised, Secret values redacted).
author:
  - deploysafe.preflight contributors (@deploysafe)
"""

EXAMPLES = r"""
- name: What would the release change in production?
  deploysafe.preflight.production_dry_run:
    kubeconfig: ~/.kube/production
    namespace: shop
    paths: [deploy/]
    report_dir: /var/tmp/preflight/run-42/production_dry_run
  register: dry_run

- name: Apply it, once the checklist of this run said go
  deploysafe.preflight.production_dry_run:
    namespace: shop
    content: "{{ lookup('ansible.builtin.pipe', 'helm template shop charts/shop') }}"
    run_dir: /var/tmp/preflight/run-42
    apply: true
"""

RETURN = r"""
verdict:
  description: The evidence contract. Measurements C(objects_create), C(objects_update), C(objects_unchanged),
    C(objects_rejected) (must be 0), C(objects_orphaned), C(dry_run_ms); the report files as artifacts.
  returned: always
  type: dict
  sample: {"status": "pass", "summary": "server-side dry-run of 2 object(s) against namespace shop: 0 create, 1 update, 1 unchanged; 0 orphaned",
           "evidence": {"artifacts": [{"path": "/var/tmp/preflight/run-42/production_dry_run/production-dry-run.diff",
                                       "sha256": "9f2c...", "size_bytes": 812, "kind": "diff"}],
                        "findings": {"rejected": 0, "orphaned": 0},
                        "measurements": [{"name": "objects_update", "value": 1, "unit": "objects"}]}}
namespace:
  description: The production namespace.
  returned: success
  type: str
  sample: shop
objects:
  description: Per object its C(ref) (C(Kind/name)), C(action) (C(create), C(update), C(unchanged) or C(error)),
    C(changed_fields) (dotted paths), C(error) (the API server's refusal) and C(diff) (unified diff, live to dry-run).
  returned: success
  type: list
  elements: dict
  sample: [{"ref": "Deployment/web", "action": "update", "changed_fields": ["spec.template.spec.containers[0].image"],
            "error": null, "diff": "--- Deployment/web (live)\n+++ Deployment/web (dry-run)\n..."}]
orphaned:
  description: Live objects (C(Kind/name)) of the managed kinds with the release's app label that the manifests do not hold.
  returned: success
  type: list
  elements: str
orphans_unchecked:
  description: Why a kind could not be listed for orphans (for example an RBAC denial).
  returned: success
  type: list
  elements: str
skipped:
  description: Objects left out because they are cluster-scoped or Namespaces.
  returned: success
  type: list
  elements: str
app_label_selector:
  description: The label selector orphans were searched with (null when the manifests carry no app label).
  returned: success
  type: str
  sample: app.kubernetes.io/name in (web)
report:
  description: Paths of the diff report (C(diff)) and its JSON form (C(json)); planned only in check mode.
  returned: success
  type: dict
apply:
  description: With O(apply), the C(go) that allowed it (C(decision_file), C(run_id), C(reason), C(manifests_sha256)), whether the release
    was C(applied), the C(changed_objects), and why it was C(refused).
  returned: when apply is true
  type: dict
diff:
  description: Per object to create or update, C(before) (live) and C(after) (dry-run), with headers.
  returned: when diff mode is on
  type: list
  elements: dict
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.deploysafe.preflight.plugins.module_utils.deps import requires
from ansible_collections.deploysafe.preflight.plugins.module_utils.k8s.dry_run import dry_run_argument_spec, run_task
from ansible_collections.deploysafe.preflight.plugins.module_utils.verdict import stamp_module_verdicts


def main():
    module = AnsibleModule(argument_spec=dry_run_argument_spec(), supports_check_mode=True,
                           required_one_of=[("paths", "content")])
    stamp_module_verdicts(module, "production_dry_run")
    requires(module, "kubernetes", "yaml")
    message, result = run_task(module.params, module.check_mode, module._diff)
    if message:
        module.fail_json(msg=message, **result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
