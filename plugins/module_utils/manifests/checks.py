# Copyright: (c) 2026, deploysafe.preflight contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Per-object policy checks on workloads: resources, probes, security context, host access, images."""

from __future__ import annotations

from typing import Any, Dict, Iterator, List, Optional, Tuple

from ansible_collections.deploysafe.preflight.plugins.module_utils.findings import Check, Finding, make_finding
from ansible_collections.deploysafe.preflight.plugins.module_utils.manifests.model import Document


def _c(check_id: str, severity: str, title: str, remediation: str) -> Check:
    return Check(f"manifest.{check_id}", severity, title, remediation)


RESOURCES = _c("resources", "medium", "Container without CPU/memory requests and limits",
               "Set resources.requests.cpu/memory and resources.limits.cpu/memory on every container.")
PROBES = _c("probes", "medium", "Container without liveness or readiness probe",
            "Add livenessProbe and readinessProbe so failed pods restart and get no traffic.")
NON_ROOT = _c("run-as-non-root", "high", "Pod may run as root",
              "Set securityContext.runAsNonRoot: true (pod or container) and a non-zero runAsUser.")
PRIVILEGED = _c("privileged", "critical", "Privileged container", "Remove securityContext.privileged: true.")
ESCALATION = _c("privilege-escalation", "medium", "allowPrivilegeEscalation not false",
                "Set securityContext.allowPrivilegeEscalation: false on every container.")
READ_ONLY_FS = _c("read-only-root-fs", "low", "Root filesystem is writable",
                  "Set securityContext.readOnlyRootFilesystem: true and mount emptyDir where writes are needed.")
CAPABILITIES = _c("capabilities", "medium", "Capabilities not dropped (or dangerous ones added)",
                  "Set securityContext.capabilities.drop: [ALL] and add back only what is needed.")
SECCOMP = _c("seccomp", "medium", "No seccomp profile", "Set securityContext.seccompProfile.type: RuntimeDefault.")
HOST_NS = _c("host-namespaces", "high", "Pod shares host network, PID or IPC namespace",
             "Remove hostNetwork/hostPID/hostIPC.")
HOST_PATH = _c("host-path", "high", "hostPath volume", "Use a PersistentVolumeClaim, configMap or emptyDir instead.")
IMAGE_LATEST = _c("image-latest", "high", "Image uses the latest tag or no tag",
                  "Reference a released tag and preferably its digest (image:tag@sha256:...).")
IMAGE_DIGEST = _c("image-digest", "low", "Image not pinned by digest",
                  "Append @sha256:<digest> so every node runs the reviewed image.")
CHECKS = (RESOURCES, PROBES, NON_ROOT, PRIVILEGED, ESCALATION, READ_ONLY_FS, CAPABILITIES, SECCOMP, HOST_NS,
          HOST_PATH, IMAGE_LATEST, IMAGE_DIGEST)

# ReplicationController and OpenShift's DeploymentConfig (apps.openshift.io/v1) keep their pod template at
# spec.template like a Deployment; a CronJob's is at spec.jobTemplate.spec.template.
WORKLOAD_KINDS = ("Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job", "CronJob", "Pod",
                  "ReplicationController", "DeploymentConfig")
LONG_RUNNING = ("Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Pod", "ReplicationController",
                "DeploymentConfig")
DANGEROUS_CAPS = {"ALL", "SYS_ADMIN", "NET_ADMIN", "SYS_PTRACE", "SYS_MODULE", "DAC_READ_SEARCH", "NET_RAW"}


def pod_spec(doc: Document) -> Tuple[Optional[Dict[str, Any]], str]:
    """The pod spec of a workload and its JSON pointer, or (None, '')."""
    obj = doc.obj
    if not isinstance(obj, dict) or doc.kind not in WORKLOAD_KINDS:
        return None, ""
    path = {"Pod": ("spec",), "CronJob": ("spec", "jobTemplate", "spec", "template", "spec")}.get(
        doc.kind, ("spec", "template", "spec"))
    node: Any = obj
    for key in path:
        node = node.get(key) if isinstance(node, dict) else None
    return (node, "/" + "/".join(path)) if isinstance(node, dict) else (None, "")


def pod_labels(doc: Document) -> Dict[str, str]:
    obj = doc.obj
    if doc.kind == "Pod":
        meta = obj.get("metadata") or {}
    elif doc.kind == "CronJob":
        meta = ((((obj.get("spec") or {}).get("jobTemplate") or {}).get("spec") or {}).get("template") or {}).get("metadata") or {}
    else:
        meta = ((obj.get("spec") or {}).get("template") or {}).get("metadata") or {}
    labels = meta.get("labels") if isinstance(meta, dict) else None
    return {str(k): str(v) for k, v in labels.items()} if isinstance(labels, dict) else {}


def containers(spec: Dict[str, Any], base: str, init: bool = True) -> Iterator[Tuple[Dict[str, Any], str, bool]]:
    keys = ("containers", "initContainers") if init else ("containers",)
    for key in keys:
        items = spec.get(key)
        if isinstance(items, list):
            for i, c in enumerate(items):
                if isinstance(c, dict):
                    yield c, f"{base}/{key}/{i}", key == "initContainers"


def _sc(node: Dict[str, Any]) -> Dict[str, Any]:
    sc = node.get("securityContext")
    return sc if isinstance(sc, dict) else {}


def split_image(image: str) -> Tuple[str, str, str]:
    """(repository, tag, digest) of an image reference."""
    rest, digest = (image.split("@", 1) + [""])[:2]
    last = rest.rsplit("/", 1)[-1]
    tag = last.partition(":")[2] if ":" in last else ""
    repo = rest[: len(rest) - len(tag) - 1] if tag else rest
    return repo, tag, digest


def check_workload(doc: Document) -> List[Finding]:
    spec, base = pod_spec(doc)
    if spec is None:
        return []
    out: List[Finding] = []
    ref = doc.ref()

    def add(check: Check, message: str, pointer: str) -> None:
        out.append(make_finding(check, f"{ref}: {message}", doc.location(pointer)))

    pod_sc = _sc(spec)
    for flag in ("hostNetwork", "hostPID", "hostIPC"):
        if spec.get(flag) is True:
            add(HOST_NS, f"{flag}: true", f"{base}/{flag}")
    for i, vol in enumerate(spec.get("volumes") or []):
        if isinstance(vol, dict) and vol.get("hostPath") is not None:
            path = (vol.get("hostPath") or {}).get("path", "?") if isinstance(vol.get("hostPath"), dict) else "?"
            add(HOST_PATH, f"volume {vol.get('name', i)} mounts host path {path}", f"{base}/volumes/{i}/hostPath")
    pod_seccomp = (pod_sc.get("seccompProfile") or {}).get("type") if isinstance(pod_sc.get("seccompProfile"), dict) else None
    for c, ptr, is_init in containers(spec, base):
        name = c.get("name", "?")
        sc = _sc(c)
        image = str(c.get("image") or "")
        if image:
            tag, digest = split_image(image)[1:]
            if not digest and tag in ("", "latest"):
                add(IMAGE_LATEST, f"container {name} image {image} {'has no tag' if not tag else 'uses latest'}",
                    f"{ptr}/image")
            elif not digest:
                add(IMAGE_DIGEST, f"container {name} image {image} is not pinned by digest", f"{ptr}/image")
        res = c.get("resources") if isinstance(c.get("resources"), dict) else {}
        missing = [f"{kind}.{r}" for kind in ("requests", "limits") for r in ("cpu", "memory")
                   if not isinstance(res.get(kind), dict) or res[kind].get(r) in (None, "")]
        if missing:
            add(RESOURCES, f"container {name} has no {', '.join(missing)}", f"{ptr}/resources")
        if doc.kind in LONG_RUNNING and not is_init:
            absent = [p for p in ("livenessProbe", "readinessProbe") if not c.get(p)]
            if absent:
                add(PROBES, f"container {name} has no {' or '.join(absent)}", ptr)
        if sc.get("privileged") is True:
            add(PRIVILEGED, f"container {name} is privileged", f"{ptr}/securityContext/privileged")
        non_root = sc.get("runAsNonRoot", pod_sc.get("runAsNonRoot"))
        user = sc.get("runAsUser", pod_sc.get("runAsUser"))
        if user == 0:
            add(NON_ROOT, f"container {name} runs as uid 0", f"{ptr}/securityContext")
        elif non_root is not True and not (isinstance(user, int) and not isinstance(user, bool) and user > 0):
            # a non-zero runAsUser (pod or container level) already proves the process is not root
            add(NON_ROOT, f"container {name} does not set runAsNonRoot: true or a non-zero runAsUser",
                f"{ptr}/securityContext")
        if sc.get("privileged") is True:  # privileged always allows escalation (the API rejects false with it)
            add(ESCALATION, f"container {name} is privileged, which always allows privilege escalation",
                f"{ptr}/securityContext/privileged")
        elif sc.get("allowPrivilegeEscalation") is not False:
            add(ESCALATION, f"container {name} does not set allowPrivilegeEscalation: false", f"{ptr}/securityContext")
        if sc.get("readOnlyRootFilesystem") is not True:
            add(READ_ONLY_FS, f"container {name} has a writable root filesystem", f"{ptr}/securityContext")
        caps = sc.get("capabilities") if isinstance(sc.get("capabilities"), dict) else {}
        drop = {str(x).upper() for x in caps.get("drop") or []}
        added = {str(x).upper() for x in caps.get("add") or []} & DANGEROUS_CAPS
        if added:
            out.append(make_finding(CAPABILITIES, f"{ref}: container {name} adds {', '.join(sorted(added))}",
                                    doc.location(f"{ptr}/securityContext/capabilities/add"), severity="high"))
        elif "ALL" not in drop:
            add(CAPABILITIES, f"container {name} does not drop ALL capabilities", f"{ptr}/securityContext")
        seccomp = (sc.get("seccompProfile") or {}).get("type") if isinstance(sc.get("seccompProfile"), dict) else None
        if (seccomp or pod_seccomp) not in ("RuntimeDefault", "Localhost"):
            add(SECCOMP, f"container {name} has seccompProfile {seccomp or pod_seccomp or 'unset'}",
                f"{ptr}/securityContext")
    return out
