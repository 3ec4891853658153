# Copyright: (c) 2026, deploysafe.preflight contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Revision history of Deployments (ReplicaSets), StatefulSets and DaemonSets (ControllerRevisions),
and rollbacks the way `kubectl rollout undo --to-revision` does them.

A rollback is itself a new revision (the old ReplicaSet/ControllerRevision is reused and renumbered),
so a target is tracked by the name of its ReplicaSet/ControllerRevision (a hash of the template), not
by its number (see shared/notes/kubernetes-rollback.md)."""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Tuple

from . import K8sError
from .connection import Connection, api_error

REVISION = "deployment.kubernetes.io/revision"
REVISION_HISTORY = "deployment.kubernetes.io/revision-history"
HASH_LABEL = "pod-template-hash"
# kubectl keeps these Deployment annotations on a rollback and takes every other one from the ReplicaSet
ANNOTATIONS_KEPT = ("kubectl.kubernetes.io/last-applied-configuration", REVISION, REVISION_HISTORY, "deployment.kubernetes.io/desired-replicas",
                    "deployment.kubernetes.io/max-replicas", "deprecated.deployment.rollback.to")
HISTORY_KIND = {"Deployment": ("apps/v1", "ReplicaSet"), "StatefulSet": ("apps/v1", "ControllerRevision"),
                "DaemonSet": ("apps/v1", "ControllerRevision")}


@dataclass
class Revision:
    """One recorded version of a workload: the ReplicaSet or ControllerRevision holding its template."""

    kind: str            # ReplicaSet | ControllerRevision
    name: str
    number: int
    template: Dict[str, Any]
    images: List[str]
    former: Tuple[int, ...] = ()   # numbers a reused ReplicaSet had before (revision-history annotation)

    def as_dict(self) -> Dict[str, Any]:
        return {"kind": self.kind, "name": self.name, "revision": self.number, "images": self.images}


def clean_template(template: Dict[str, Any]) -> Dict[str, Any]:
    """The pod template without what the controller adds (pod-template-hash, null creationTimestamp)."""
    template = copy.deepcopy(template or {})
    meta = template.get("metadata") or {}
    (meta.get("labels") or {}).pop(HASH_LABEL, None)
    if meta.get("creationTimestamp") is None:
        meta.pop("creationTimestamp", None)
    return template


def images(template: Dict[str, Any]) -> List[str]:
    spec = (template or {}).get("spec") or {}
    return [c.get("image", "") for c in (spec.get("initContainers") or []) + (spec.get("containers") or [])]


def controlled_by(obj: Dict[str, Any], uid: str) -> bool:
    return any(o.get("controller") and o.get("uid") == uid for o in (obj.get("metadata") or {}).get("ownerReferences") or [])


def revision_of(kind: str, item: Dict[str, Any]) -> Revision:
    """A Revision from a ReplicaSet or ControllerRevision dict."""
    former: Tuple[int, ...] = ()
    if kind == "ReplicaSet":
        annotations = (item.get("metadata") or {}).get("annotations") or {}
        number = int(annotations.get(REVISION) or 0)
        former = tuple(int(n) for n in str(annotations.get(REVISION_HISTORY) or "").split(",") if n.strip().isdigit())
        template = clean_template((item.get("spec") or {}).get("template") or {})
    else:
        number = int(item.get("revision") or 0)
        template = clean_template(((item.get("data") or {}).get("spec") or {}).get("template") or {})
    return Revision(kind, item["metadata"]["name"], number, template, images(template), former)


def history(conn: Connection, namespace: str, workload: Dict[str, Any]) -> List[Revision]:
    """The workload's revisions, oldest first: only objects it controls (owner UID), as kubectl does."""
    api_version, kind = HISTORY_KIND[workload["kind"]]
    dyn = conn.dynamic()
    try:
        items = dyn.resources.get(api_version=api_version, kind=kind).get(
            namespace=namespace, _request_timeout=conn.request_timeout).to_dict()["items"]
    except Exception as exc:
        raise K8sError(api_error(exc, "list", kind.lower() + "s", namespace)) from None
    uid = workload["metadata"]["uid"]
    return sorted((revision_of(kind, i) for i in items if controlled_by(i, uid)), key=lambda r: r.number)


def current_revision(conn: Connection, namespace: str, workload: Dict[str, Any]) -> Optional[Revision]:
    """The revision the workload runs now: for a Deployment the ReplicaSet whose template is the live one,
    for a StatefulSet status.currentRevision, for a DaemonSet the highest revision (once rolled out)."""
    revisions = history(conn, namespace, workload)
    if workload["kind"] == "Deployment":
        live = clean_template(workload["spec"]["template"])
        matching = [r for r in revisions if r.template == live]
        return matching[-1] if matching else None
    if workload["kind"] == "StatefulSet":
        name = (workload.get("status") or {}).get("currentRevision")
        return next((r for r in revisions if r.name == name), None)
    return revisions[-1] if revisions else None


def find_revision(revisions: List[Revision], name: Optional[str] = None, number: Optional[int] = None) -> Optional[Revision]:
    """By name (a template hash: survives renumbering) or by number (0 = the one before the newest). A
    ReplicaSet reused by a rollback also answers to its former numbers (revision-history annotation)."""
    if name is not None:
        return next((r for r in revisions if r.name == name), None)
    if number == 0:
        return revisions[-2] if len(revisions) >= 2 else None
    return next((r for r in revisions if r.number == number), None) or \
        next((r for r in revisions if number in r.former), None)


def rollback_patch(workload: Dict[str, Any], target: Revision, rs_annotations: Optional[Dict[str, str]] = None):
    """(content type, body) that puts target's template back, like `kubectl rollout undo`.

    Deployment: a JSON patch replacing spec.template (without pod-template-hash) and the annotations
    (kept ones from the Deployment, the rest from the ReplicaSet). StatefulSet/DaemonSet: a strategic
    merge patch of the recorded template with `$patch: replace`."""
    if workload["kind"] == "Deployment":
        current = (workload.get("metadata") or {}).get("annotations") or {}
        annotations = {k: v for k, v in current.items() if k in ANNOTATIONS_KEPT}
        annotations.update({k: v for k, v in (rs_annotations or {}).items() if k not in ANNOTATIONS_KEPT})
        return "application/json-patch+json", [
            {"op": "replace", "path": "/spec/template", "value": target.template},
            {"op": "replace", "path": "/metadata/annotations", "value": annotations}]
    template = copy.deepcopy(target.template)
    template["$patch"] = "replace"
    return "application/strategic-merge-patch+json", {"spec": {"template": template}}


def roll_back(conn: Connection, namespace: str, workload: Dict[str, Any], target: Revision,
              dry_run: bool = False) -> Dict[str, Any]:
    """Patch workload back to target. Returns {changed, generation, template}; refuses a paused Deployment."""
    if workload["kind"] == "Deployment" and (workload.get("spec") or {}).get("paused"):
        raise K8sError(f"Deployment/{workload['metadata']['name']} is paused: resume it before rolling back")
    if clean_template(workload["spec"]["template"]) == target.template:
        return {"changed": False, "generation": workload["metadata"].get("generation")}
    dyn = conn.dynamic()
    rs_annotations = None
    if workload["kind"] == "Deployment":
        try:
            rs = dyn.resources.get(api_version="apps/v1", kind="ReplicaSet").get(
                name=target.name, namespace=namespace, _request_timeout=conn.request_timeout).to_dict()
        except Exception as exc:
            raise K8sError(api_error(exc, "get", f"replicasets/{target.name}", namespace)) from None
        rs_annotations = (rs.get("metadata") or {}).get("annotations") or {}
    content_type, body = rollback_patch(workload, target, rs_annotations)
    resource = dyn.resources.get(api_version="apps/v1", kind=workload["kind"])
    try:
        patched = resource.patch(body=body, name=workload["metadata"]["name"], namespace=namespace,
                                 content_type=content_type, dry_run="All" if dry_run else None,
                                 _request_timeout=conn.request_timeout).to_dict()
    except Exception as exc:
        raise K8sError(api_error(exc, "patch", resource.name, namespace)) from None
    return {"changed": True, "generation": patched["metadata"].get("generation"),
            "template": clean_template(patched["spec"]["template"])}
