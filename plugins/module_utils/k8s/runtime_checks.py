# Copyright: (c) 2026, deploysafe.preflight contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The runtime security checks over what a namespace runs. Pure functions over plain dicts (the API
server's JSON), so every rule is unit-testable without a cluster; runtime_security.py reads the
namespace and calls check_inventory().

Every finding is located at the owning workload (Deployment/web, CronJob/report, Pod/debug), never at
a pod's hash name, and carries a fingerprint made of the check id and that namespace-independent
identity (plus container, volume, variable or binding), so the snapshots of two releases, or of staging
and production, can be diffed.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any, Dict, Iterable, Iterator, List, Mapping, Optional, Sequence, Tuple

from ..findings import Check, Finding, Location, make_finding
from ..manifests.checks import DANGEROUS_CAPS
from .labels import selector_matches


def _c(check_id: str, severity: str, title: str, remediation: str) -> Check:
    return Check(f"runtime.{check_id}", severity, title, remediation)


PRIVILEGED = _c("privileged", "critical", "Privileged container running",
                "Remove securityContext.privileged: true; add back only the capability the container needs.")
CAPABILITIES = _c("capabilities", "high", "Container adds a dangerous capability (SYS_ADMIN, NET_ADMIN, ALL...)",
                  "Drop ALL capabilities and add back only harmless ones (NET_BIND_SERVICE).")
ESCALATION = _c("privilege-escalation", "medium", "Container sets allowPrivilegeEscalation: true",
                "Set securityContext.allowPrivilegeEscalation: false.")
HOST_PATH = _c("host-path", "high", "hostPath volume mounted",
               "Use a PersistentVolumeClaim, configMap, secret or emptyDir volume instead of the node's filesystem.")
HOST_NAMESPACES = _c("host-namespaces", "high", "Pod shares the node's network, PID or IPC namespace",
                     "Remove hostNetwork/hostPID/hostIPC.")
RUN_AS_ROOT = _c("run-as-root", "high", "Container runs as root (runAsUser: 0)",
                 "Run as a non-zero runAsUser and set runAsNonRoot: true.")
MAY_RUN_AS_ROOT = _c("may-run-as-root", "medium",
                     "Container may run as root (neither runAsNonRoot: true nor a non-zero runAsUser)",
                     "Set runAsNonRoot: true (pod or container securityContext) and a non-zero runAsUser; "
                     "otherwise the image's USER decides, which the API server cannot see.")
UNUSED_TOKEN = _c("unused-token-automount", "medium",
                  "Service-account token mounted into pods, but the service account is bound to no role",
                  "Set automountServiceAccountToken: false on the pod template or the ServiceAccount.")
RBAC_WILDCARD = _c("rbac-wildcard", "high", "Role with wildcard verbs or resources bound in the namespace",
                   "Grant the verbs and resources the subject needs, by name; never '*'.")
NO_NETWORK_POLICY = _c("no-network-policy", "medium", "No NetworkPolicy selects the pods",
                       "Add a NetworkPolicy whose podSelector selects these pods (default-deny plus the allowed "
                       "traffic).")
SECRET_ENV = _c("secret-env", "medium", "Secret exposed as an environment variable",
                "Mount the Secret as a file (secret volume) instead: environment variables leak into crash "
                "dumps, child processes and `kubectl describe`.")
CHECKS = (PRIVILEGED, CAPABILITIES, ESCALATION, HOST_PATH, HOST_NAMESPACES, RUN_AS_ROOT, MAY_RUN_AS_ROOT,
          UNUSED_TOKEN, RBAC_WILDCARD, NO_NETWORK_POLICY, SECRET_ENV)

# Groups that hold every service account (of the cluster, of one namespace); the default bindings to
# system:authenticated (discovery, basic-user) grant nothing a workload uses its token for.
SA_GROUP = "system:serviceaccounts"


@dataclass
class Workload:
    """One pod spec to inspect and the workload it belongs to.

    ref is the owning workload (Deployment/web); pointer the JSON pointer of the pod spec inside that
    object (/spec for a bare pod, /spec/template/spec for a template); pods the live pods it was seen in
    (empty when only the template was inspected, e.g. a CronJob between runs or a Deployment at 0)."""

    ref: str
    spec: Dict[str, Any]
    labels: Dict[str, str] = field(default_factory=dict)
    pointer: str = "/spec"
    pods: List[str] = field(default_factory=list)


@dataclass
class Binding:
    """A RoleBinding of the namespace (or a ClusterRoleBinding naming its service accounts), resolved:
    the role it grants and that role's rules (None when the role does not exist: it grants nothing)."""

    ref: str                          # RoleBinding/app-admin
    role: str                         # ClusterRole/cluster-admin
    subjects: List[Dict[str, Any]]
    rules: Optional[List[Dict[str, Any]]] = None
    namespace: str = ""               # the RoleBinding's namespace ("" for a ClusterRoleBinding)


@dataclass
class Inventory:
    """What runtime_security.py read from the namespace."""

    namespace: str
    workloads: List[Workload] = field(default_factory=list)
    service_accounts: Dict[str, Dict[str, Any]] = field(default_factory=dict)
    network_policies: List[Dict[str, Any]] = field(default_factory=list)
    bindings: List[Binding] = field(default_factory=list)


def fingerprint(check_id: str, identity: str) -> str:
    """Stable id of a runtime finding: the check and the object, without the namespace or pod names."""
    return hashlib.sha256(f"{check_id}\0{identity}".encode("utf-8", "surrogateescape")).hexdigest()[:16]


def _finding(check: Check, ref: str, detail: str, message: str, pointer: str = "",
             severity: Optional[str] = None) -> Finding:
    identity = f"{ref}/{detail}" if detail else ref
    return make_finding(check, f"{ref}: {message}", Location(file=ref, pointer=pointer), severity=severity,
                        fingerprint=fingerprint(check.check_id, identity))


def _security_context(node: Mapping[str, Any]) -> Dict[str, Any]:
    sc = node.get("securityContext")
    return sc if isinstance(sc, dict) else {}


def containers(spec: Mapping[str, Any], base: str) -> Iterator[Tuple[Dict[str, Any], str]]:
    """(container, JSON pointer) of every container, init container and ephemeral (debug) container."""
    for key in ("containers", "initContainers", "ephemeralContainers"):
        for i, c in enumerate(spec.get(key) or []):
            if isinstance(c, dict):
                yield c, f"{base}/{key}/{i}"


def effective_root(pod_spec: Mapping[str, Any], container: Mapping[str, Any]) -> str:
    """Whether a container runs as root, from the securityContext the kubelet applies: the container's
    runAsUser/runAsNonRoot override the pod's. "root" when the effective runAsUser is 0; "non-root" when it
    is above 0 or runAsNonRoot is true (the kubelet refuses to start a root process then); "unknown" when
    neither is set, since the image's USER then decides and the API server cannot see it."""
    pod_sc, sc = _security_context(pod_spec), _security_context(container)
    user = sc.get("runAsUser", pod_sc.get("runAsUser"))
    non_root = sc.get("runAsNonRoot", pod_sc.get("runAsNonRoot"))
    if isinstance(user, int) and not isinstance(user, bool):
        return "root" if user == 0 else "non-root"
    return "non-root" if non_root is True else "unknown"


def service_account_name(pod_spec: Mapping[str, Any]) -> str:
    return str(pod_spec.get("serviceAccountName") or pod_spec.get("serviceAccount") or "default")


def token_automounted(pod_spec: Mapping[str, Any], service_account: Optional[Mapping[str, Any]]) -> bool:
    """Kubernetes' rule: the pod's automountServiceAccountToken wins, else the ServiceAccount's, else true."""
    if isinstance(pod_spec.get("automountServiceAccountToken"), bool):
        return pod_spec["automountServiceAccountToken"]
    value = (service_account or {}).get("automountServiceAccountToken")
    return value if isinstance(value, bool) else True


def binds_service_account(binding: Binding, name: str, namespace: str) -> bool:
    """True when the binding's subjects include service account namespace/name, directly or through the
    group of all service accounts (system:serviceaccounts) or of its namespace."""
    for s in binding.subjects:
        kind = s.get("kind")
        if kind == "ServiceAccount" and s.get("name") == name \
                and (s.get("namespace") or binding.namespace) == namespace:
            return True
        if kind == "Group" and s.get("name") in (SA_GROUP, f"{SA_GROUP}:{namespace}"):
            return True
    return False


def wildcard_rules(rules: Iterable[Mapping[str, Any]]) -> List[str]:
    """The rules granting '*' verbs or '*' resources, each as 'verbs on resources'."""
    out = []
    for rule in rules or []:
        verbs = [str(v) for v in rule.get("verbs") or []]
        resources = [str(r) for r in rule.get("resources") or []]
        if "*" in verbs or "*" in resources:
            out.append(f"{','.join(verbs) or '-'} on {','.join(resources) or '-'}")
    return out


def selected_by_network_policy(labels: Mapping[str, str], policies: Sequence[Mapping[str, Any]]) -> List[str]:
    """Names of the namespace's NetworkPolicies whose podSelector selects pods with these labels."""
    return [str((p.get("metadata") or {}).get("name")) for p in policies
            if selector_matches((p.get("spec") or {}).get("podSelector"), labels)]


def check_workload(w: Workload, inv: Inventory) -> List[Finding]:
    """Every pod-level and container-level finding of one pod spec."""
    spec, ref, base = w.spec, w.ref, w.pointer
    out: List[Finding] = []
    for flag in ("hostNetwork", "hostPID", "hostIPC"):
        if spec.get(flag) is True:
            out.append(_finding(HOST_NAMESPACES, ref, flag, f"{flag}: true", f"{base}/{flag}"))
    for i, vol in enumerate(spec.get("volumes") or []):
        if isinstance(vol, dict) and isinstance(vol.get("hostPath"), dict):
            name = vol.get("name", str(i))
            out.append(_finding(HOST_PATH, ref, f"volume:{name}",
                                f"volume {name} mounts host path {vol['hostPath'].get('path', '?')}",
                                f"{base}/volumes/{i}/hostPath"))
    for c, ptr in containers(spec, base):
        out += check_container(spec, c, ptr, ref)
    sa = service_account_name(spec)
    if token_automounted(spec, inv.service_accounts.get(sa)) \
            and not any(binds_service_account(b, sa, inv.namespace) for b in inv.bindings):
        out.append(_finding(UNUSED_TOKEN, ref, f"serviceaccount:{sa}",
                            f"mounts the token of service account {sa}, which no RoleBinding or "
                            f"ClusterRoleBinding grants anything", f"{base}/automountServiceAccountToken"))
    if not selected_by_network_policy(w.labels, inv.network_policies):
        shown = ",".join(f"{k}={v}" for k, v in sorted(w.labels.items())) or "no labels"
        out.append(_finding(NO_NETWORK_POLICY, ref, "", f"no NetworkPolicy selects its pods ({shown})", base))
    return out


def check_container(pod_spec: Mapping[str, Any], c: Mapping[str, Any], ptr: str, ref: str) -> List[Finding]:
    """Privilege, capabilities, user and Secret-in-environment findings of one container."""
    name = str(c.get("name", "?"))
    who = f"container:{name}"
    sc = _security_context(c)
    out: List[Finding] = []
    if sc.get("privileged") is True:
        out.append(_finding(PRIVILEGED, ref, who, f"container {name} is privileged", f"{ptr}/securityContext/privileged"))
    elif sc.get("allowPrivilegeEscalation") is True:  # privileged implies it; one finding is enough
        out.append(_finding(ESCALATION, ref, who, f"container {name} sets allowPrivilegeEscalation: true",
                            f"{ptr}/securityContext/allowPrivilegeEscalation"))
    caps = sc.get("capabilities") if isinstance(sc.get("capabilities"), dict) else {}
    added = sorted({str(x).upper() for x in caps.get("add") or []} & DANGEROUS_CAPS)
    if added:
        out.append(_finding(CAPABILITIES, ref, who, f"container {name} adds {', '.join(added)}",
                            f"{ptr}/securityContext/capabilities/add"))
    root = effective_root(pod_spec, c)
    if root == "root":
        out.append(_finding(RUN_AS_ROOT, ref, who, f"container {name} runs as uid 0", f"{ptr}/securityContext"))
    elif root == "unknown":
        out.append(_finding(MAY_RUN_AS_ROOT, ref, who, f"container {name} may run as root: neither runAsNonRoot: "
                                                       "true nor a non-zero runAsUser (pod or container)",
                            f"{ptr}/securityContext"))
    for i, env in enumerate(c.get("env") or []):
        ref_ = ((env.get("valueFrom") or {}).get("secretKeyRef") or {}) if isinstance(env, dict) else {}
        if ref_:
            out.append(_finding(SECRET_ENV, ref, f"{who}/env:{env.get('name')}",
                                f"container {name} reads key {ref_.get('key')} of Secret {ref_.get('name')} into "
                                f"environment variable {env.get('name')}", f"{ptr}/env/{i}/valueFrom/secretKeyRef"))
    for i, src in enumerate(c.get("envFrom") or []):
        secret = (src.get("secretRef") or {}) if isinstance(src, dict) else {}
        if secret:
            out.append(_finding(SECRET_ENV, ref, f"{who}/envFrom:{secret.get('name')}",
                                f"container {name} loads every key of Secret {secret.get('name')} into its "
                                f"environment (envFrom)", f"{ptr}/envFrom/{i}/secretRef"))
    return out


def check_bindings(inv: Inventory) -> List[Finding]:
    """A finding per binding that grants a role with wildcard verbs or resources."""
    out = []
    for b in inv.bindings:
        wild = wildcard_rules(b.rules or [])
        if not wild:
            continue
        everything = any("*" in (r.get("verbs") or []) and "*" in (r.get("resources") or []) for r in b.rules or [])
        out.append(_finding(RBAC_WILDCARD, b.ref, b.role,
                            f"grants {b.role}, whose rules use wildcards ({'; '.join(wild)[:300]}) to "
                            f"{', '.join(subject_names(b.subjects))[:300]}", "/roleRef",
                            severity="critical" if everything else None))
    return out


def subject_names(subjects: Iterable[Mapping[str, Any]]) -> List[str]:
    return [f"{s.get('kind')}/{s.get('name')}" for s in subjects or []]


def check_inventory(inv: Inventory) -> List[Finding]:
    """Every finding of the namespace, once per fingerprint (replicas of one workload give one finding)."""
    seen: Dict[str, Finding] = {}
    for finding in [f for w in inv.workloads for f in check_workload(w, inv)] + check_bindings(inv):
        seen.setdefault(finding.fingerprint, finding)
    return list(seen.values())
