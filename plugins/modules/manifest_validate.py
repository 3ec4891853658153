#!/usr/bin/python
# Copyright: (c) 2026, deploysafe.preflight contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: manifest_validate
short_description: Validate Kubernetes manifests offline (schema and policy) and by server-side dry-run
version_added: 0.1.0
description:
  - Reads files, directories (C(*.yaml), C(*.yml), C(*.json)) and multi-document YAML, or rendered
    Helm/Kustomize output passed in O(content), and reports every problem with file, line and JSON pointer.
  - 'Offline schema: the field schemas of the core kinds of Kubernetes 1.36 (generated from the OpenAPI
    document of a real kube-apiserver 1.36) and 1.37 (from the kubernetes Python client 37 models) are
    bundled; O(kubernetes_version) picks one. Unknown fields, wrong types, missing required fields and
    apiVersions not served are C(manifest.schema). Kinds without a schema (CRDs, OpenShift kinds) are
    C(manifest.unknown-kind) unless their CRD is in the input or in O(crd_schemas). A set whose objects are
    all of unknown kinds checked nothing, so its verdict is C(pending), not C(pass); so is a set with no
    object at all.'
  - 'API versions: an apiVersion the target O(kubernetes_version) no longer serves is C(manifest.api-removed)
    (high), naming the release that removed it and the replacement (for example C(extensions/v1beta1)
    Deployment, removed in 1.16; C(batch/v1beta1) CronJob and C(policy/v1beta1) PodDisruptionBudget, 1.25);
    one it serves deprecated is C(manifest.api-deprecated) (low). Source: the Kubernetes Deprecated API
    Migration Guide.'
  - 'Workload kinds: the policy checks read the pod template of Deployment, StatefulSet, DaemonSet, ReplicaSet,
    ReplicationController, OpenShift DeploymentConfig (C(apps.openshift.io/v1)), Job, CronJob and Pod.'
  - 'Policy checks: C(manifest.resources), C(manifest.probes), security context (C(manifest.run-as-non-root),
    C(manifest.privileged), C(manifest.privilege-escalation), C(manifest.read-only-root-fs),
    C(manifest.capabilities), C(manifest.seccomp)), C(manifest.host-namespaces), C(manifest.host-path),
    C(manifest.image-latest), C(manifest.image-digest), availability (C(manifest.replicas), C(manifest.pdb),
    C(manifest.rolling-update)) and consistency (C(manifest.service-selector), C(manifest.probe-port),
    C(manifest.labels), C(manifest.namespace)).'
  - Malformed YAML (tabs, duplicate keys, unterminated strings) and non-UTF-8 files are C(manifest.parse-error)
    findings with file, line and column; the other files are still checked.
  - 'Server-side dry-run (see O(server_dry_run)): every object is also sent to the cluster as a server-side apply
    with C(dryRun=All) (C(manifest.dry-run)); nothing is persisted. The connection options are those of
    kubernetes.core and of the rehearsal modules (O(kubeconfig), O(context), O(host), O(api_key)...,
    with the E(K8S_AUTH_*) variables of an AWX Kubernetes credential). This needs the C(kubernetes) Python
    package. Credentials that may not C(patch) an object (RBAC C(403)) fail the task with
    C(forbidden: patch <resource> in namespace <namespace>): the dry-run needs the rights of the deploy.'
options:
  crd_schemas:
    description:
      - Files holding CustomResourceDefinitions or JSON schemas with C(x-kubernetes-group-version-kind);
        custom resources of those kinds are validated against them (needs the C(jsonschema) package).
    type: list
    elements: path
    default: []
  server_dry_run:
    description:
      - Run the server-side dry-run. Unset (the default) means auto, a dry-run when any connection option
        (O(kubeconfig), O(context), O(host), O(api_key), O(validate_certs), O(ca_cert), O(client_cert),
        O(client_key), O(proxy)) or any E(K8S_AUTH_*) variable is set; so a kubeconfig alone switches it
        on, as before.
      - V(true) also dry-runs with nothing set, through in-cluster service-account auth or the default
        kubeconfig. V(false) never dry-runs, for example for an offline check in a job that carries an AWX
        Kubernetes credential.
    type: bool
  default_namespace:
    description:
      - Namespace the objects will be deployed to when they do not set one (for example C(helm -n)).
        When set, C(manifest.namespace) does not fire.
    type: str
    default: ""
  required_labels:
    description: Labels every workload and Service must carry (C(manifest.labels)).
    type: list
    elements: str
    default: [app.kubernetes.io/name, app.kubernetes.io/instance]
  max_file_size:
    description: Files larger than this many bytes are not parsed and are reported as C(manifest.unreadable).
    type: int
    default: 20971520
  kubernetes_version:
    description:
      - The Kubernetes version the manifests will be applied to, as V(1.36), V(v1.36) or V(v1.36.5).
      - It decides which apiVersions are removed or deprecated, and picks the bundled schema of that version
        (or the newest bundled one older than it; the oldest bundled one for older targets). RV(schema_version)
        says which schema was used.
      - Default V(1.36), the version of the Kubernetes control plane the collection is tested against, which
        the bundled 1.36 schema was generated from.
    type: str
extends_documentation_fragment:
  - deploysafe.preflight.k8s_manifests
  - deploysafe.preflight.k8s_auth
  - deploysafe.preflight.findings
  - deploysafe.preflight.attributes
  - deploysafe.preflight.attributes.no_diff
attributes:
  check_mode:
    support: full
    details: Validates and returns findings; writes no report. The dry-run never persists anything.
author:
  - deploysafe.preflight contributors (@deploysafe)
"""

EXAMPLES = r"""
- name: Validate the rendered chart against the staging cluster
  deploysafe.preflight.manifest_validate:
    content: "{{ lookup('ansible.builtin.pipe', 'helm template shop charts/shop -n shop') }}"
    default_namespace: shop
    kubeconfig: ~/.kube/staging
    context: staging
    severity_threshold: high
    report_dir: "{{ preflight_run_dir }}/manifest_validate"
  register: manifests

- name: Validate a directory offline with an exemption file
  deploysafe.preflight.manifest_validate:
    paths: [deploy/]
    crd_schemas: [deploy/crds/]
    exemptions_file: deploy/.preflight-exemptions.yml
    server_dry_run: false

- name: Dry-run in AWX, where the Kubernetes credential sets K8S_AUTH_HOST and K8S_AUTH_API_KEY
  deploysafe.preflight.manifest_validate:
    paths: [deploy/]
    default_namespace: shop
"""

RETURN = r"""
findings:
  description: Every finding (exempted ones carry C(exempted_by)), most severe first.
  returned: always
  type: list
  elements: dict
  sample: [{"check_id": "manifest.image-latest", "severity": "high",
            "message": "Deployment/web: container web image nginx uses latest",
            "location": {"file": "deploy/web.yaml", "line": 14, "pointer": "/spec/template/spec/containers/0/image"},
            "remediation": "Reference a released tag...", "evidence_redacted": "", "fingerprint": "9a0c1d2e3f405162",
            "tool": "deploysafe.preflight"}]
passed:
  description: True when no finding at or above O(severity_threshold) remains after exemptions.
  returned: always
  type: bool
  sample: true
counts:
  description: Non-exempted findings by severity.
  returned: always
  type: dict
  sample: {"info": 0, "low": 3, "medium": 1, "high": 0, "critical": 0}
exempted:
  description: Number of findings covered by a live exemption.
  returned: always
  type: int
  sample: 1
reports:
  description: Paths of the reports written to O(report_dir).
  returned: always
  type: list
  elements: str
  sample: [/var/lib/preflight/run/manifest_validate/manifest_validate.sarif]
documents:
  description: Number of Kubernetes objects read.
  returned: always
  type: int
  sample: 12
server_dry_run:
  description: Whether the objects were dry-run on the API server (see O(server_dry_run)).
  returned: always
  type: bool
  sample: true
kubernetes_version:
  description: The target Kubernetes version (O(kubernetes_version) or its default).
  returned: always
  type: str
  sample: "1.36"
schema_version:
  description: Kubernetes version of the bundled schema the objects were validated against.
  returned: always
  type: str
  sample: "1.36"
verdict:
  description:
    - The evidence contract; C(evidence.findings) holds counts by severity and C(exempted).
    - C(evidence.measurements) holds C(objects_checked) (objects validated against a schema; what a pass stands
      on), C(objects_read), C(objects_without_schema) and C(manifest_files_read).
  returned: always
  type: dict
  sample: {"status": "pass", "summary": "manifests: no finding at or above high (0 below threshold, 1 exempted)",
           "evidence": {"artifacts": [], "findings": {"high": 0, "exempted": 1},
                        "measurements": [{"name": "objects_read", "value": 12, "unit": "objects"},
                                         {"name": "objects_checked", "value": 12, "unit": "objects"}]}}
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.deploysafe.preflight.plugins.module_utils.findings import FindingsError
from ansible_collections.deploysafe.preflight.plugins.module_utils.findings.report import (
    findings_argument_spec, finish_scan,
)
from ansible_collections.deploysafe.preflight.plugins.module_utils.k8s import K8sError
from ansible_collections.deploysafe.preflight.plugins.module_utils.k8s.connection import k8s_auth_argument_spec
from ansible_collections.deploysafe.preflight.plugins.module_utils.manifests import (
    ManifestError, all_checks, manifest_evidence, validate_manifests,
)
from ansible_collections.deploysafe.preflight.plugins.module_utils.manifests.dry_run import dry_run_wanted
from ansible_collections.deploysafe.preflight.plugins.module_utils.manifests.k8s_schema import DEFAULT_VERSION, schema_for
from ansible_collections.deploysafe.preflight.plugins.module_utils.verdict import stamp_module_verdicts, gate_failed


def main():
    argument_spec = dict(
        paths=dict(type="list", elements="path", default=[]),
        content=dict(type="str"),
        crd_schemas=dict(type="list", elements="path", default=[]),
        server_dry_run=dict(type="bool"),
        default_namespace=dict(type="str", default=""),
        required_labels=dict(type="list", elements="str",
                             default=["app.kubernetes.io/name", "app.kubernetes.io/instance"]),
        max_file_size=dict(type="int", default=20 * 1024 * 1024),
        kubernetes_version=dict(type="str"),
    )
    argument_spec.update(k8s_auth_argument_spec())
    argument_spec.update(findings_argument_spec())
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True,
                           required_one_of=[("paths", "content")])
    stamp_module_verdicts(module, "manifest_validate")
    p = module.params
    dry_run = dry_run_wanted(p, p["server_dry_run"])
    target = p["kubernetes_version"] or DEFAULT_VERSION
    try:
        versions = dict(kubernetes_version=target, schema_version=schema_for(target)[0])
        findings, documents, files = validate_manifests(
            p["paths"], p["content"], crd_schema_files=p["crd_schemas"], connection=p if dry_run else None,
            required_labels=p["required_labels"], default_namespace=p["default_namespace"],
            max_file_bytes=p["max_file_size"], kubernetes_version=target)
        coverage, measurements = manifest_evidence(findings, documents, files)
        result = finish_scan(findings, all_checks(), "manifests", threshold=p["severity_threshold"],
                             exemptions_file=p["exemptions_file"], sarif_inputs=p["sarif_inputs"],
                             report_dir=None if module.check_mode else p["report_dir"],
                             report_basename="manifest_validate", report_formats=p["report_formats"],
                             coverage=coverage, measurements=measurements)
    except (ManifestError, FindingsError, K8sError) as exc:
        module.fail_json(msg=str(exc), server_dry_run=dry_run)
    if gate_failed(result["verdict"]["status"], p["fail_on"]):
        module.fail_json(msg=result["verdict"]["summary"], documents=documents, server_dry_run=dry_run,
                         **versions, **result)
    module.exit_json(documents=documents, server_dry_run=dry_run, **versions, **result)


if __name__ == "__main__":
    main()
