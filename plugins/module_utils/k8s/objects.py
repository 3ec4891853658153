# Copyright: (c) 2026, deploysafe.preflight contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Manifests into a rehearsal namespace: load them, find the ConfigMaps/Secrets they reference and
where each comes from, copy or create those (values never returned), and server-side apply."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any, Dict, Iterable, List, Mapping, Optional, Sequence, Tuple

from . import K8sError
from .connection import Connection, api_error
from .workloads import SUPPORT_KINDS, WORKLOAD_KINDS, Reference, references

FIELD_MANAGER = "deploysafe-preflight"
SKIPPED_KINDS = ("Namespace",)


def load_objects(paths: Iterable[str] = (), content: Optional[str] = None) -> List[Dict[str, Any]]:
    """Kubernetes objects from manifest files/directories and inline YAML. Unparsable input raises
    K8sError naming file and line: a rehearsal of half the manifests would prove nothing."""
    from ..manifests import load_manifests
    docs, findings, _read = load_manifests(paths, content, content_name="<content>")
    if findings:
        raise K8sError("cannot read the manifests: " + "; ".join(
            f"{f.location.file}:{f.location.line or '?'}: {f.message}" for f in findings[:5]))
    objects = []
    for doc in docs:
        if not isinstance(doc.obj, dict) or not doc.kind or not doc.api_version:
            raise K8sError(f"{doc.file}: document {doc.index + 1} has no apiVersion/kind")
        if not (doc.obj.get("metadata") or {}).get("name"):
            raise K8sError(f"{doc.file}: {doc.kind} (document {doc.index + 1}) has no metadata.name")
        objects.append(doc.obj)
    if not objects:
        raise K8sError("no Kubernetes objects in the given manifests")
    return objects


def ref(obj: Mapping[str, Any]) -> str:
    return f"{obj.get('kind')}/{(obj.get('metadata') or {}).get('name')}"


def into_namespace(objects: Sequence[Dict[str, Any]], namespace: str) -> Tuple[List[Dict[str, Any]], List[str]]:
    """Copies of the objects moved into namespace, ordered so that what workloads need comes first;
    and the refs left out (Namespace objects: the rehearsal brings its own)."""
    rank = {kind: i for i, kind in enumerate(SUPPORT_KINDS)}
    kept, skipped = [], []
    for obj in objects:
        if obj.get("kind") in SKIPPED_KINDS:
            skipped.append(ref(obj))
            continue
        moved = copy.deepcopy(obj)
        meta = moved.setdefault("metadata", {})
        meta["namespace"] = namespace
        for key in ("resourceVersion", "uid", "creationTimestamp", "managedFields", "generation", "selfLink"):
            meta.pop(key, None)
        moved.pop("status", None)
        kept.append(moved)
    kept.sort(key=lambda o: (rank.get(o.get("kind"), len(rank) + (o.get("kind") in WORKLOAD_KINDS)),))
    return kept, skipped


@dataclass
class ReferencePlan:
    """Where every referenced ConfigMap/Secret comes from; `missing` blocks the rehearsal."""

    in_manifests: List[Reference] = field(default_factory=list)
    given: List[Reference] = field(default_factory=list)
    copied: List[Reference] = field(default_factory=list)
    missing: List[Reference] = field(default_factory=list)
    absent_optional: List[Reference] = field(default_factory=list)

    def describe_missing(self) -> str:
        return ", ".join(f"{r.kind}/{r.name} (used by {r.used_by})" for r in self.missing)


def plan_references(objects: Sequence[Mapping[str, Any]], given_configmaps: Mapping[str, Any],
                    given_secrets: Mapping[str, Any], exists_in_source) -> ReferencePlan:
    """Resolve each reference: defined in the manifests, given as an option, or present in the source
    namespace (exists_in_source(kind, name) -> bool, or None when there is no source)."""
    defined = {(o.get("kind"), (o.get("metadata") or {}).get("name")) for o in objects}
    given = {("ConfigMap", n) for n in given_configmaps} | {("Secret", n) for n in given_secrets}
    plan, seen = ReferencePlan(), set()
    for obj in objects:
        for reference in references(dict(obj)):
            key = (reference.kind, reference.name)
            if key in seen:
                continue
            seen.add(key)
            if key in defined:
                plan.in_manifests.append(reference)
            elif key in given:
                plan.given.append(reference)
            elif exists_in_source is not None and exists_in_source(reference.kind, reference.name):
                plan.copied.append(reference)
            elif reference.optional:
                plan.absent_optional.append(reference)
            else:
                plan.missing.append(reference)
    return plan


def source_lookup(conn: Connection, namespace: Optional[str]):
    """exists_in_source for plan_references: reads the source namespace, None without one."""
    if not namespace:
        return None
    from kubernetes import client
    from kubernetes.client.rest import ApiException
    core = client.CoreV1Api(conn.api)

    def exists(kind: str, name: str) -> bool:
        read = core.read_namespaced_config_map if kind == "ConfigMap" else core.read_namespaced_secret
        try:
            read(name, namespace, _request_timeout=conn.request_timeout)
            return True
        except ApiException as exc:
            if exc.status == 404:
                return False
            raise K8sError(api_error(exc, "get", kind.lower() + "s", namespace)) from None
        except Exception as exc:
            raise K8sError(api_error(exc, "get", kind.lower() + "s", namespace)) from None
    return exists


def provide_references(conn: Connection, plan: ReferencePlan, namespace: str, source_namespace: Optional[str],
                       given_configmaps: Mapping[str, Any], given_secrets: Mapping[str, Any]) -> List[str]:
    """Create the given and copied ConfigMaps/Secrets in namespace; returns their refs (never values)."""
    from kubernetes import client
    core, timeout = client.CoreV1Api(conn.api), conn.request_timeout
    made = []
    for reference in plan.given:
        body = {"metadata": {"name": reference.name}}
        if reference.kind == "ConfigMap":
            body["data"] = {str(k): str(v) for k, v in (given_configmaps[reference.name] or {}).items()}
        else:
            body["stringData"] = {str(k): str(v) for k, v in (given_secrets[reference.name] or {}).items()}
        _create(core, reference.kind, body, namespace, timeout)
        made.append(f"{reference.kind}/{reference.name}")
    for reference in plan.copied:
        read = core.read_namespaced_config_map if reference.kind == "ConfigMap" else core.read_namespaced_secret
        try:
            original = conn.api.sanitize_for_serialization(read(reference.name, source_namespace,
                                                                _request_timeout=timeout))
        except Exception as exc:
            raise K8sError(api_error(exc, "get", reference.kind.lower() + "s", source_namespace)) from None
        body = {"metadata": {"name": reference.name, "labels": (original.get("metadata") or {}).get("labels") or {}}}
        for key in ("data", "binaryData", "type", "immutable"):
            if key in original:
                body[key] = original[key]
        if body.get("type") == "kubernetes.io/service-account-token":
            continue  # bound to an account of the source namespace; cannot be copied meaningfully
        _create(core, reference.kind, body, namespace, timeout)
        made.append(f"{reference.kind}/{reference.name}")
    return made


def _create(core, kind: str, body: Dict[str, Any], namespace: str, timeout: float) -> None:
    create = core.create_namespaced_config_map if kind == "ConfigMap" else core.create_namespaced_secret
    try:
        create(namespace, body, _request_timeout=timeout)
    except Exception as exc:
        # api_error never includes the request body, so secret values cannot leak into the message
        raise K8sError(api_error(exc, "create", kind.lower() + "s", namespace)) from None


def resource_for(dyn, obj: Mapping[str, Any]):
    from kubernetes.dynamic.exceptions import ResourceNotFoundError
    try:
        return dyn.resources.get(api_version=obj.get("apiVersion"), kind=obj.get("kind"))
    except ResourceNotFoundError:
        raise K8sError(f"{ref(obj)}: the cluster does not serve {obj.get('apiVersion')} {obj.get('kind')}") from None
    except Exception as exc:
        raise K8sError(api_error(exc, "discover", f"{obj.get('apiVersion')} {obj.get('kind')}")) from None


def split_cluster_scoped(dyn, objects: Sequence[Dict[str, Any]]) -> Tuple[List[Dict[str, Any]], List[str]]:
    """Namespaced objects, and the refs of cluster-scoped ones: a rehearsal never changes the cluster
    outside its namespace."""
    kept, skipped = [], []
    for obj in objects:
        if resource_for(dyn, obj).namespaced:
            kept.append(obj)
        else:
            skipped.append(ref(obj))
    return kept, skipped


def server_side_apply(conn: Connection, dyn, resource, obj: Mapping[str, Any], namespace: str,
                      dry_run: bool = False) -> Dict[str, Any]:
    """One object's server-side apply (our field manager, conflicts forced) and the object the server
    returned: with dry_run, what it would store. API errors (DynamicApiError) are the caller's to judge."""
    out = dyn.server_side_apply(resource, body=dict(obj), name=obj["metadata"]["name"], namespace=namespace,
                                field_manager=FIELD_MANAGER, force_conflicts=True,
                                dry_run="All" if dry_run else None, _request_timeout=conn.request_timeout)
    return out.to_dict()


def apply_objects(conn: Connection, objects: Sequence[Dict[str, Any]], namespace: str,
                  dry_run: bool = False) -> List[Tuple[str, str]]:
    """Server-side apply every object (force conflicts, our field manager). Returns [(ref, error)] for
    rejected objects; an unreachable cluster raises K8sError."""
    from kubernetes.dynamic.exceptions import DynamicApiError
    dyn = conn.dynamic()
    rejected = []
    for obj in objects:
        resource = resource_for(dyn, obj)
        try:
            server_side_apply(conn, dyn, resource, obj, namespace, dry_run)
        except DynamicApiError as exc:
            if exc.status in (401, 403):
                raise K8sError(api_error(exc, "patch", resource.name, namespace)) from None
            rejected.append((ref(obj), api_error(exc, "apply", ref(obj), namespace)))
        except Exception as exc:
            raise K8sError(api_error(exc, "apply", ref(obj), namespace)) from None
    return rejected
