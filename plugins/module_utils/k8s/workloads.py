# Copyright: (c) 2026, deploysafe.preflight contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Plain-dict logic about workloads: the ConfigMaps/Secrets a pod template needs, whether a rollout is
complete (the stricter form of `kubectl rollout status` from the rollback notes), and what a pod's
status says went wrong. Objects are API dicts (camelCase keys, as the dynamic client returns them)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Tuple

WORKLOAD_KINDS = ("Deployment", "StatefulSet", "DaemonSet", "Job")
# applied first, so that workloads find what they reference
SUPPORT_KINDS = ("ServiceAccount", "ConfigMap", "Secret", "PersistentVolumeClaim", "Role", "RoleBinding")


@dataclass(frozen=True)
class Reference:
    """A ConfigMap or Secret a pod template uses; optional ones do not block the pod."""

    kind: str          # ConfigMap | Secret
    name: str
    optional: bool
    used_by: str       # Kind/name of the workload


def pod_spec(obj: Dict[str, Any]) -> Dict[str, Any]:
    """The pod spec of a Pod, a workload, or a CronJob's job template ({} when there is none)."""
    kind, spec = obj.get("kind"), obj.get("spec") or {}
    if kind == "Pod":
        return spec
    if kind == "CronJob":
        spec = ((spec.get("jobTemplate") or {}).get("spec")) or {}
    return ((spec.get("template") or {}).get("spec")) or {}


def references(obj: Dict[str, Any]) -> List[Reference]:
    """Every ConfigMap/Secret the object's pods reference: env, envFrom, volumes (also projected) and
    imagePullSecrets."""
    spec = pod_spec(obj)
    owner = f"{obj.get('kind')}/{(obj.get('metadata') or {}).get('name')}"
    found: List[Reference] = []

    def add(kind, name, optional):
        if name:
            found.append(Reference(kind, str(name), bool(optional), owner))

    containers = (spec.get("initContainers") or []) + (spec.get("containers") or []) + \
        (spec.get("ephemeralContainers") or [])
    for container in containers:
        for env in container.get("env") or []:
            source = env.get("valueFrom") or {}
            for key, kind in (("configMapKeyRef", "ConfigMap"), ("secretKeyRef", "Secret")):
                ref = source.get(key)
                if ref:
                    add(kind, ref.get("name"), ref.get("optional"))
        for env_from in container.get("envFrom") or []:
            for key, kind in (("configMapRef", "ConfigMap"), ("secretRef", "Secret")):
                ref = env_from.get(key)
                if ref:
                    add(kind, ref.get("name"), ref.get("optional"))
    for volume in spec.get("volumes") or []:
        if volume.get("configMap"):
            add("ConfigMap", volume["configMap"].get("name"), volume["configMap"].get("optional"))
        if volume.get("secret"):
            add("Secret", volume["secret"].get("secretName"), volume["secret"].get("optional"))
        for source in (volume.get("projected") or {}).get("sources") or []:
            if source.get("configMap"):
                add("ConfigMap", source["configMap"].get("name"), source["configMap"].get("optional"))
            if source.get("secret"):
                add("Secret", source["secret"].get("name"), source["secret"].get("optional"))
    for pull in spec.get("imagePullSecrets") or []:
        add("Secret", pull.get("name"), False)
    return found


def _int(value: Any) -> int:
    return int(value or 0)


def rollout_state(obj: Dict[str, Any]) -> Tuple[bool, str, Optional[str]]:
    """(complete, progress message, terminal failure or None) for a workload.

    Stricter than `kubectl rollout status`: every kind must have observed its latest generation;
    StatefulSets also need updateRevision == currentRevision; DaemonSets numberUnavailable == 0.
    spec.replicas is re-read on every call (an HPA may change it)."""
    kind, spec, status = obj.get("kind"), obj.get("spec") or {}, obj.get("status") or {}
    generation = _int((obj.get("metadata") or {}).get("generation"))
    if kind != "Job" and _int(status.get("observedGeneration")) < generation:
        return False, "waiting for the controller to observe the new spec", None
    if kind == "Deployment":
        want = _int(spec.get("replicas", 1))
        for cond in status.get("conditions") or []:
            if cond.get("type") == "Progressing" and cond.get("reason") == "ProgressDeadlineExceeded":
                return False, "", f"progress deadline exceeded: {cond.get('message', '')}"
        updated, total, available = (_int(status.get(k)) for k in ("updatedReplicas", "replicas", "availableReplicas"))
        if updated < want:
            return False, f"{updated} of {want} replicas updated", None
        if total > updated:
            return False, f"{total - updated} old replicas pending termination", None
        if available < want:
            return False, f"{available} of {want} updated replicas available", None
        return True, f"{available}/{want} replicas available", None
    if kind == "StatefulSet":
        want = _int(spec.get("replicas", 1))
        if (spec.get("updateStrategy") or {}).get("type") == "OnDelete":
            return False, "", "updateStrategy OnDelete: pods change only when deleted by hand"
        counts = {k: _int(status.get(k)) for k in ("readyReplicas", "updatedReplicas", "availableReplicas")}
        partition = _int(((spec.get("updateStrategy") or {}).get("rollingUpdate") or {}).get("partition"))
        if counts["readyReplicas"] < want:
            return False, f"{counts['readyReplicas']} of {want} replicas ready", None
        if counts["updatedReplicas"] < want - partition:
            return False, f"{counts['updatedReplicas']} of {want - partition} replicas updated", None
        if not partition and status.get("updateRevision") != status.get("currentRevision"):
            return False, "waiting for the update revision to become current", None
        if counts["availableReplicas"] < want:
            return False, f"{counts['availableReplicas']} of {want} replicas available", None
        return True, f"{counts['readyReplicas']}/{want} replicas ready", None
    if kind == "DaemonSet":
        if (spec.get("updateStrategy") or {}).get("type") == "OnDelete":
            return False, "", "updateStrategy OnDelete: pods change only when deleted by hand"
        desired = _int(status.get("desiredNumberScheduled"))
        updated, available = _int(status.get("updatedNumberScheduled")), _int(status.get("numberAvailable"))
        if updated < desired:
            return False, f"{updated} of {desired} pods updated", None
        if available < desired or _int(status.get("numberUnavailable")):
            return False, f"{available} of {desired} pods available", None
        return True, f"{available}/{desired} pods available", None
    if kind == "Job":
        for cond in status.get("conditions") or []:
            if cond.get("status") != "True":
                continue
            if cond.get("type") == "Failed":
                return False, "", f"job failed: {cond.get('reason', '')} {cond.get('message', '')}".strip()
            if cond.get("type") == "Complete":
                return True, f"{_int(status.get('succeeded'))} pod(s) succeeded", None
        return False, f"{_int(status.get('active'))} active, {_int(status.get('succeeded'))} succeeded", None
    return True, "not a workload", None


def pod_ready(pod: Dict[str, Any]) -> bool:
    return any(c.get("type") == "Ready" and c.get("status") == "True"
               for c in (pod.get("status") or {}).get("conditions") or [])


def pod_summary(pod: Dict[str, Any]) -> Dict[str, Any]:
    """Name, phase, readiness, restarts and per-container state with its reason: what explains a failure."""
    status = pod.get("status") or {}
    containers = []
    for cs in (status.get("initContainerStatuses") or []) + (status.get("containerStatuses") or []):
        state_name, state = next(iter((cs.get("state") or {"unknown": {}}).items()))
        last = (cs.get("lastState") or {}).get("terminated") or {}
        containers.append({
            "name": cs.get("name"), "ready": bool(cs.get("ready")), "restarts": _int(cs.get("restartCount")),
            "state": state_name, "reason": (state or {}).get("reason", ""),
            "message": str((state or {}).get("message", ""))[:300],
            "last_exit_code": last.get("exitCode"), "image": cs.get("image"),
        })
    not_ready = [c for c in status.get("conditions") or [] if c.get("status") != "True"]
    return {
        "name": (pod.get("metadata") or {}).get("name"), "phase": status.get("phase"), "ready": pod_ready(pod),
        "node": (pod.get("spec") or {}).get("nodeName"), "restarts": sum(c["restarts"] for c in containers),
        "containers": containers,
        "conditions": [f"{c.get('type')}={c.get('status')} {c.get('reason') or ''}".strip() for c in not_ready],
    }


def pod_problem(summary: Dict[str, Any], max_restarts: int) -> Optional[str]:
    """A terminal problem visible in a pod summary: crash loop beyond the restart budget, image pull
    failure, config error. None while the pod may still become Ready."""
    for c in summary["containers"]:
        if c["reason"] in ("CrashLoopBackOff",) and c["restarts"] > max_restarts:
            return (f"pod {summary['name']}: container {c['name']} is crash-looping ({c['restarts']} restarts, "
                    f"last exit code {c['last_exit_code']})")
        if c["reason"] in ("ErrImagePull", "ImagePullBackOff", "InvalidImageName", "CreateContainerConfigError",
                           "CreateContainerError", "RunContainerError"):
            return f"pod {summary['name']}: container {c['name']} {c['reason']}: {c['message']}".rstrip(": ")
    return None


def why_not_ready(summary: Dict[str, Any]) -> str:
    """Short reason a pod is not Ready, from its conditions and container states."""
    parts = [f"{c['name']} {c['state']}{' ' + c['reason'] if c['reason'] else ''}" for c in summary["containers"]
             if not c["ready"] and c["state"] != "terminated"]
    return f"pod {summary['name']} {summary['phase']}: " + ("; ".join(parts + summary["conditions"]) or "not ready")
