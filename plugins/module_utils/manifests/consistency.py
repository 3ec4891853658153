# Copyright: (c) 2026, deploysafe.preflight contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Checks across the objects of one manifest set: availability (replicas, PodDisruptionBudget,
rollingUpdate) and consistency (Service selectors, probe ports, recommended labels, namespace)."""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Sequence

from ansible_collections.deploysafe.preflight.plugins.module_utils.findings import Check, Finding, make_finding
from ansible_collections.deploysafe.preflight.plugins.module_utils.k8s.labels import selector_matches
from ansible_collections.deploysafe.preflight.plugins.module_utils.manifests.model import Document
from ansible_collections.deploysafe.preflight.plugins.module_utils.manifests.checks import (
    containers, pod_labels, pod_spec,
)
from ansible_collections.deploysafe.preflight.plugins.module_utils.manifests.k8s_schema import CLUSTER_SCOPED

REPLICAS = Check("manifest.replicas", "medium", "Fewer than 2 replicas",
                 "Run at least 2 replicas (or an HPA with minReplicas >= 2) so one pod can be lost.")
PDB = Check("manifest.pdb", "medium", "No PodDisruptionBudget for a replicated workload",
            "Add a PodDisruptionBudget (minAvailable or maxUnavailable) selecting the workload's pods.")
ROLLING = Check("manifest.rolling-update", "medium", "Update strategy can take every pod down",
                "Use RollingUpdate with maxUnavailable below the replica count (e.g. 25%) and maxSurge > 0.")
SELECTOR = Check("manifest.service-selector", "high", "Service selects no workload's pods",
                 "Make the Service selector match the pod template labels of a workload in the same namespace.")
PROBE_PORT = Check("manifest.probe-port", "high", "Probe targets a port the container does not declare",
                   "Point the probe at a declared containerPort (by number or name).")
LABELS = Check("manifest.labels", "low", "Recommended labels missing",
               "Add the app.kubernetes.io/* recommended labels to the object metadata.")
NAMESPACE = Check("manifest.namespace", "low", "Namespace not set",
                  "Set metadata.namespace so the object does not land in whatever namespace the context uses.")
CHECKS = (REPLICAS, PDB, ROLLING, SELECTOR, PROBE_PORT, LABELS, NAMESPACE)
DEFAULT_REQUIRED_LABELS = ("app.kubernetes.io/name", "app.kubernetes.io/instance")
_REPLICATED = ("Deployment", "StatefulSet", "ReplicaSet", "ReplicationController", "DeploymentConfig")


def _selects(selector: Any, labels: Dict[str, str]) -> bool:
    """matchLabels/matchExpressions (PDB) or a plain map (Service) against pod labels."""
    if not isinstance(selector, dict) or not selector:
        return False
    if "matchLabels" in selector or "matchExpressions" in selector:
        return selector_matches(selector, labels)
    return all(labels.get(str(k)) == str(v) for k, v in selector.items())


def _percent_or_int(value: Any, replicas: int, round_up: bool = False) -> Optional[int]:
    """Absolute value of an int-or-percent; Kubernetes rounds maxSurge up and maxUnavailable down."""
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.endswith("%") and value[:-1].isdigit():
        scaled = int(value[:-1]) * replicas
        return -(-scaled // 100) if round_up else scaled // 100
    return None


def _min_replicas_from_hpa(doc: Document, docs: Sequence[Document]) -> Optional[int]:
    for hpa in docs:
        if hpa.kind != "HorizontalPodAutoscaler" or hpa.namespace != doc.namespace:
            continue
        spec = hpa.obj.get("spec") or {}
        target = spec.get("scaleTargetRef") or {}
        if target.get("kind") == doc.kind and target.get("name") == doc.name:
            return int(spec.get("minReplicas") or 1)
    return None


def check_set(docs: Sequence[Document], required_labels: Sequence[str] = DEFAULT_REQUIRED_LABELS,
              default_namespace: str = "") -> List[Finding]:
    out: List[Finding] = []
    objs = [d for d in docs if isinstance(d.obj, dict)]
    workloads = [d for d in objs if pod_spec(d)[0] is not None]
    pdbs = [d for d in objs if d.kind == "PodDisruptionBudget"]
    for doc in workloads:
        ref, spec, labels = doc.ref(), doc.obj.get("spec") or {}, pod_labels(doc)
        if doc.kind in _REPLICATED:
            replicas = spec.get("replicas", 1)
            hpa_min = _min_replicas_from_hpa(doc, objs)
            effective = hpa_min if hpa_min is not None else replicas
            if isinstance(effective, int) and effective < 2:
                why = f"HPA minReplicas {hpa_min}" if hpa_min is not None else f"replicas {replicas}"
                out.append(make_finding(REPLICAS, f"{ref}: {why}", doc.location("/spec/replicas")))
            elif not any(p.namespace == doc.namespace and _selects((p.obj.get("spec") or {}).get("selector"), labels)
                         for p in pdbs):
                out.append(make_finding(PDB, f"{ref}: no PodDisruptionBudget selects its pods", doc.location("/spec")))
            if doc.kind == "Deployment":
                out.extend(_rolling(doc, spec, replicas if isinstance(replicas, int) else 1))
        pspec, base = pod_spec(doc)
        for c, ptr, is_init in containers(pspec, base, init=False):
            out.extend(_probe_ports(doc, c, ptr))
    services = [d for d in objs if d.kind == "Service"]
    if workloads:
        for svc in services:
            sel = (svc.obj.get("spec") or {}).get("selector")
            if isinstance(sel, dict) and sel and not any(
                    w.namespace == svc.namespace and _selects(sel, pod_labels(w)) for w in workloads):
                shown = ",".join(f"{k}={v}" for k, v in sel.items())
                out.append(make_finding(SELECTOR, f"{svc.ref()}: selector {shown} matches no pod template in "
                                                  f"namespace {svc.namespace or '(unset)'}",
                                        svc.location("/spec/selector")))
    for doc in objs:
        if not doc.kind:
            continue
        labels = (doc.obj.get("metadata") or {}).get("labels") or {}
        if (doc in workloads or doc.kind == "Service") and required_labels:
            missing = [k for k in required_labels if not isinstance(labels, dict) or k not in labels]
            if missing:
                out.append(make_finding(LABELS, f"{doc.ref()}: missing labels {', '.join(missing)}",
                                        doc.location("/metadata")))
        if doc.kind not in CLUSTER_SCOPED and doc.kind != "CustomResourceDefinition" and not doc.namespace \
                and not default_namespace:
            out.append(make_finding(NAMESPACE, f"{doc.ref()}: metadata.namespace is not set",
                                    doc.location("/metadata")))
    return out


def _rolling(doc: Document, spec: Dict[str, Any], replicas: int) -> List[Finding]:
    strategy = spec.get("strategy") or {}
    if strategy.get("type") == "Recreate":
        return [make_finding(ROLLING, f"{doc.ref()}: strategy Recreate stops every pod before starting new ones",
                             doc.location("/spec/strategy/type"))]
    rolling = strategy.get("rollingUpdate") or {}
    unavailable = _percent_or_int(rolling.get("maxUnavailable", "25%"), replicas)
    surge = _percent_or_int(rolling.get("maxSurge", "25%"), replicas, round_up=True)
    if unavailable is not None and replicas > 0 and unavailable >= replicas:
        return [make_finding(ROLLING, f"{doc.ref()}: maxUnavailable {rolling.get('maxUnavailable')} allows all "
                                      f"{replicas} replica(s) down at once",
                             doc.location("/spec/strategy/rollingUpdate/maxUnavailable"))]
    if unavailable == 0 and surge == 0:
        return [make_finding(ROLLING, f"{doc.ref()}: maxUnavailable and maxSurge are both 0; the rollout cannot "
                                      f"progress", doc.location("/spec/strategy/rollingUpdate"))]
    return []


def _probe_ports(doc: Document, c: Dict[str, Any], ptr: str) -> List[Finding]:
    ports = [p for p in c.get("ports") or [] if isinstance(p, dict)]
    names = {str(p.get("name")) for p in ports if p.get("name")}
    numbers = {p.get("containerPort") for p in ports}
    out = []
    for probe in ("livenessProbe", "readinessProbe", "startupProbe"):
        spec = c.get(probe)
        if not isinstance(spec, dict):
            continue
        for action in ("httpGet", "tcpSocket", "grpc"):
            target = spec.get(action)
            if not isinstance(target, dict) or "port" not in target:
                continue
            port = target["port"]
            bad = (isinstance(port, str) and not port.isdigit() and port not in names) or \
                  (ports and isinstance(port, int) and port not in numbers)
            if bad:
                out.append(make_finding(PROBE_PORT, f"{doc.ref()}: container {c.get('name', '?')} {probe} uses port "
                                                    f"{port!r}, not among its ports "
                                                    f"{sorted(map(str, names | numbers)) or '(none declared)'}",
                                        doc.location(f"{ptr}/{probe}/{action}/port")))
    return out
