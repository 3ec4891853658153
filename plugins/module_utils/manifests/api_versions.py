# Copyright: (c) 2026, deploysafe.preflight contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Removed and deprecated Kubernetes API versions for a target Kubernetes version, from the Kubernetes
Deprecated API Migration Guide (kubernetes.io/docs/reference/using-api/deprecation-guide/): an object
whose apiVersion the target no longer serves fails to apply (`manifest.api-removed`, naming the release
that removed it and the replacement); one the target still serves but has deprecated warns
(`manifest.api-deprecated`)."""

from __future__ import annotations

import re
from typing import Dict, List, Optional, Tuple

from ansible_collections.deploysafe.preflight.plugins.module_utils.findings import Check, Finding, make_finding
from ansible_collections.deploysafe.preflight.plugins.module_utils.manifests.model import Document, ManifestError

API_REMOVED = Check("manifest.api-removed", "high", "apiVersion removed in the target Kubernetes version",
                    "Migrate the manifest to the replacement apiVersion named in the finding "
                    "(kubectl convert, or edit apiVersion and the changed fields).")
API_DEPRECATED = Check("manifest.api-deprecated", "low", "apiVersion deprecated in the target Kubernetes version",
                       "Migrate to the replacement apiVersion before the release that removes it.")
CHECKS = (API_REMOVED, API_DEPRECATED)

_WORKLOADS_1_16 = ("Deployment", "DaemonSet", "ReplicaSet", "StatefulSet")
# (apiVersion, kind) -> (deprecated in, removed in or "" while still served, replacement apiVersion)
_TABLE: List[Tuple[str, Tuple[str, ...], str, str, str]] = [
    ("extensions/v1beta1", _WORKLOADS_1_16[:3], "1.8", "1.16", "apps/v1"),
    ("apps/v1beta1", ("Deployment", "StatefulSet"), "1.9", "1.16", "apps/v1"),
    ("apps/v1beta2", _WORKLOADS_1_16, "1.9", "1.16", "apps/v1"),
    ("extensions/v1beta1", ("NetworkPolicy",), "1.9", "1.16", "networking.k8s.io/v1"),
    ("extensions/v1beta1", ("PodSecurityPolicy",), "1.11", "1.16", "policy/v1beta1"),
    ("extensions/v1beta1", ("Ingress",), "1.14", "1.22", "networking.k8s.io/v1"),
    ("networking.k8s.io/v1beta1", ("Ingress", "IngressClass"), "1.19", "1.22", "networking.k8s.io/v1"),
    ("admissionregistration.k8s.io/v1beta1", ("MutatingWebhookConfiguration", "ValidatingWebhookConfiguration"),
     "1.16", "1.22", "admissionregistration.k8s.io/v1"),
    ("apiextensions.k8s.io/v1beta1", ("CustomResourceDefinition",), "1.16", "1.22", "apiextensions.k8s.io/v1"),
    ("apiregistration.k8s.io/v1beta1", ("APIService",), "1.19", "1.22", "apiregistration.k8s.io/v1"),
    ("authentication.k8s.io/v1beta1", ("TokenReview",), "1.19", "1.22", "authentication.k8s.io/v1"),
    ("authorization.k8s.io/v1beta1", ("SubjectAccessReview", "LocalSubjectAccessReview", "SelfSubjectAccessReview"),
     "1.19", "1.22", "authorization.k8s.io/v1"),
    ("certificates.k8s.io/v1beta1", ("CertificateSigningRequest",), "1.19", "1.22", "certificates.k8s.io/v1"),
    ("coordination.k8s.io/v1beta1", ("Lease",), "1.19", "1.22", "coordination.k8s.io/v1"),
    ("rbac.authorization.k8s.io/v1beta1", ("ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding"),
     "1.17", "1.22", "rbac.authorization.k8s.io/v1"),
    ("scheduling.k8s.io/v1beta1", ("PriorityClass",), "1.14", "1.22", "scheduling.k8s.io/v1"),
    ("storage.k8s.io/v1beta1", ("CSIDriver", "CSINode", "StorageClass", "VolumeAttachment"), "1.19", "1.22",
     "storage.k8s.io/v1"),
    ("batch/v1beta1", ("CronJob",), "1.21", "1.25", "batch/v1"),
    ("discovery.k8s.io/v1beta1", ("EndpointSlice",), "1.21", "1.25", "discovery.k8s.io/v1"),
    ("events.k8s.io/v1beta1", ("Event",), "1.22", "1.25", "events.k8s.io/v1"),
    ("autoscaling/v2beta1", ("HorizontalPodAutoscaler",), "1.22", "1.25", "autoscaling/v2"),
    ("policy/v1beta1", ("PodDisruptionBudget",), "1.21", "1.25", "policy/v1"),
    ("policy/v1beta1", ("PodSecurityPolicy",), "1.21", "1.25", "Pod Security Admission (no replacement kind)"),
    ("node.k8s.io/v1beta1", ("RuntimeClass",), "1.22", "1.25", "node.k8s.io/v1"),
    ("autoscaling/v2beta2", ("HorizontalPodAutoscaler",), "1.23", "1.26", "autoscaling/v2"),
    ("flowcontrol.apiserver.k8s.io/v1beta1", ("FlowSchema", "PriorityLevelConfiguration"), "1.23", "1.26",
     "flowcontrol.apiserver.k8s.io/v1"),
    ("storage.k8s.io/v1beta1", ("CSIStorageCapacity",), "1.24", "1.27", "storage.k8s.io/v1"),
    ("flowcontrol.apiserver.k8s.io/v1beta2", ("FlowSchema", "PriorityLevelConfiguration"), "1.26", "1.29",
     "flowcontrol.apiserver.k8s.io/v1"),
    ("flowcontrol.apiserver.k8s.io/v1beta3", ("FlowSchema", "PriorityLevelConfiguration"), "1.29", "1.32",
     "flowcontrol.apiserver.k8s.io/v1"),
    # Deprecated, still served (GA APIs are not removed within a major version).
    ("v1", ("ComponentStatus",), "1.19", "", "none: query component health endpoints"),
    ("v1", ("Endpoints",), "1.33", "", "discovery.k8s.io/v1 EndpointSlice"),
]
LIFECYCLE: Dict[Tuple[str, str], Tuple[str, str, str]] = {
    (api, kind): (deprecated, removed, replacement)
    for api, kinds, deprecated, removed, replacement in _TABLE for kind in kinds
}


def parse_version(text: str) -> Tuple[int, int]:
    """(major, minor) of "1.36", "v1.36" or "v1.36.5"; ManifestError for anything else."""
    match = re.match(r"^v?(\d+)\.(\d+)(?:\.\d+)?(?:[-+].*)?$", str(text).strip())
    if not match:
        raise ManifestError(f"kubernetes_version {text!r} is not a Kubernetes version like 1.36")
    return int(match.group(1)), int(match.group(2))


def lifecycle(api_version: str, kind: str) -> Optional[Tuple[str, str, str]]:
    return LIFECYCLE.get((api_version, kind))


def check_api_version(doc: Document, target: str) -> List[Finding]:
    """api-removed when `target` no longer serves the object's apiVersion, api-deprecated when it
    serves it deprecated."""
    entry = lifecycle(doc.api_version, doc.kind)
    if entry is None:
        return []
    deprecated, removed, replacement = entry
    version = parse_version(target)
    where = doc.location("/apiVersion")
    if removed and version >= parse_version(removed):
        return [make_finding(API_REMOVED, f"{doc.ref()}: {doc.api_version} {doc.kind} was removed in Kubernetes "
                                          f"{removed} (target {target}); use {replacement}", where)]
    if version >= parse_version(deprecated):
        until = f", removed in {removed}" if removed else ""
        return [make_finding(API_DEPRECATED, f"{doc.ref()}: {doc.api_version} {doc.kind} is deprecated since "
                                             f"Kubernetes {deprecated}{until} (target {target}); use {replacement}",
                             where)]
    return []
