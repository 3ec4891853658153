# Copyright: (c) 2026, deploysafe.preflight contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Server-side dry-run: send every object to the cluster as a server-side apply with dryRun=All.

The API server runs defaulting, its own schema (including installed CRDs) and admission webhooks,
and persists nothing. Connects with the Kubernetes connection options shared with the rehearsal
modules (k8s/connection.py: kubernetes.core's names and K8S_AUTH_* variables) and uses the dynamic
client (discovery makes it CRD-aware).
"""

from __future__ import annotations

import json
import os
from typing import Any, List, Mapping, Optional, Sequence

from ansible_collections.deploysafe.preflight.plugins.module_utils.findings import Check, Finding, make_finding
from ansible_collections.deploysafe.preflight.plugins.module_utils.k8s import K8sError
from ansible_collections.deploysafe.preflight.plugins.module_utils.k8s.connection import (
    AUTH_OPTIONS, api_error, connect,
)
from ansible_collections.deploysafe.preflight.plugins.module_utils.manifests.model import Document, ManifestError

DRY_RUN = Check("manifest.dry-run", "high", "The API server rejects the object (server-side dry-run)",
                "Fix the object as the API server's message says; it would fail at deploy time.")
DRY_RUN_SKIPPED = Check("manifest.dry-run-skipped", "low", "Object could not be dry-run before its dependency exists",
                        "Install the CRD or namespace first, or dry-run again after it exists.")
CHECKS = (DRY_RUN, DRY_RUN_SKIPPED)
FIELD_MANAGER = "deploysafe-preflight"


def _message(exc) -> str:
    body = getattr(exc, "body", None)
    if body:
        try:
            return str(json.loads(body).get("message") or body)[:500]
        except (ValueError, AttributeError):
            return str(body)[:500]
    return f"{getattr(exc, 'status', '')} {getattr(exc, 'reason', '') or exc}".strip()


def dry_run_wanted(params: Mapping[str, Any], setting: Optional[bool] = None,
                   environ: Optional[Mapping[str, str]] = None) -> bool:
    """Whether to dry-run: `setting` when given, else (auto) when any connection option or K8S_AUTH_*
    variable is set. Auto never dry-runs on in-cluster or default-kubeconfig auth alone: a validation
    that quietly starts talking to whatever cluster ~/.kube/config names would surprise."""
    if setting is not None:
        return setting
    environ = os.environ if environ is None else environ
    if any(name.startswith("K8S_AUTH_") and value for name, value in environ.items()):
        return True
    return any(params.get(option) not in (None, "") for option in AUTH_OPTIONS)


def server_dry_run(docs: Sequence[Document], connection: Mapping[str, Any], default_namespace: str = "default",
                   environ: Optional[Mapping[str, str]] = None) -> List[Finding]:
    """One finding per object the API server rejects.

    `connection` holds the k8s_auth options (module parameters; K8S_AUTH_* fill what is unset).
    ManifestError when the cluster cannot be reached or the credentials may not dry-run an object: that
    says nothing about the manifest, so it is neither a finding nor a silent pass.
    """
    try:
        from kubernetes.dynamic.exceptions import DynamicApiError, ResourceNotFoundError
    except ImportError:
        raise ManifestError("server-side dry-run needs the kubernetes Python package on the host running the "
                            "module (pip install kubernetes)") from None
    try:
        conn = connect(connection, environ)
    except K8sError as exc:
        raise ManifestError(f"server-side dry-run: {exc}") from None
    where = f"API server {conn.host} (auth from {conn.source})"
    try:
        client = conn.dynamic()  # reads the discovery documents
    except Exception as exc:  # connection refused, TLS, 401: one clear line
        raise ManifestError(f"server-side dry-run: {api_error(exc, 'discover', 'API groups')} [{where}]") from None
    crd_kinds = {((d.obj.get("spec") or {}).get("names") or {}).get("kind") for d in docs
                 if d.kind == "CustomResourceDefinition" and isinstance(d.obj, dict)}
    new_namespaces = {d.name for d in docs if d.kind == "Namespace"}
    out: List[Finding] = []
    for doc in docs:
        if not isinstance(doc.obj, dict) or not doc.kind or not doc.api_version:
            continue  # reported by the schema check
        try:
            resource = client.resources.get(api_version=doc.api_version, kind=doc.kind)
        except ResourceNotFoundError:
            if doc.kind in crd_kinds:
                out.append(make_finding(DRY_RUN_SKIPPED, f"{doc.ref()}: its CRD is part of this set and not yet "
                                                         f"installed", doc.location("/kind")))
            else:
                out.append(make_finding(DRY_RUN, f"{doc.ref()}: the cluster does not serve {doc.api_version} "
                                                 f"{doc.kind}", doc.location("/apiVersion")))
            continue
        except Exception as exc:
            problem = api_error(exc, "discover", f"{doc.api_version} {doc.kind}")
            raise ManifestError(f"server-side dry-run: {problem} [{where}]") from None
        namespace = (doc.namespace or default_namespace) if resource.namespaced else None
        try:
            client.server_side_apply(resource, body=doc.obj, name=doc.name, namespace=namespace,
                                     field_manager=FIELD_MANAGER, force_conflicts=True, dry_run="All",
                                     _request_timeout=conn.request_timeout)
        except DynamicApiError as exc:
            if exc.status in (401, 403):
                # server-side apply is a PATCH: RBAC needs `patch` on the resource, as the real deploy does
                problem = api_error(exc, "patch", resource.name, namespace)
                raise ManifestError(f"server-side dry-run of {doc.ref()} ({doc.location('').file}): {problem}; "
                                    f"use credentials allowed to deploy it, or server_dry_run: false "
                                    f"[{where}]") from None
            if exc.status == 404 and namespace in new_namespaces:
                out.append(make_finding(DRY_RUN_SKIPPED, f"{doc.ref()}: namespace {namespace} is created by this "
                                                         f"set and does not exist yet", doc.location("/metadata")))
            else:
                out.append(make_finding(DRY_RUN, f"{doc.ref()}: {_message(exc)}", doc.location("")))
        except ValueError as exc:  # no metadata.name
            out.append(make_finding(DRY_RUN, f"{doc.ref()}: {exc}", doc.location("/metadata")))
        except Exception as exc:
            raise ManifestError(f"server-side dry-run of {doc.ref()}: {api_error(exc, 'apply', doc.ref())} "
                                f"[{where}]") from None
    return out
