# Copyright: (c) 2026, deploysafe.preflight contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Server-side dry-run: send every object to the cluster as a server-side apply with dryRun=All.

The API server runs defaulting, its own schema (including installed CRDs) and admission webhooks,
and persists nothing. Uses the kubernetes Python client's dynamic client (discovery makes it
CRD-aware).
"""

from __future__ import annotations

import json
from typing import List, Optional, Sequence

from ansible_collections.deploysafe.preflight.plugins.module_utils.findings import Check, Finding, make_finding
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


def server_dry_run(docs: Sequence[Document], kubeconfig: str, context: Optional[str] = None,
                   default_namespace: str = "default", request_timeout: float = 30) -> List[Finding]:
    """One finding per object the API server rejects; ManifestError if the cluster is unreachable."""
    try:
        from kubernetes import config, dynamic
        from kubernetes.dynamic.exceptions import DynamicApiError, ResourceNotFoundError
    except ImportError:
        raise ManifestError("server-side dry-run needs the kubernetes Python package on the host running the "
                            "module (pip install kubernetes)") from None
    try:
        api = config.new_client_from_config(config_file=kubeconfig, context=context)
        client = dynamic.DynamicClient(api)
    except Exception as exc:  # config errors, connection refused, TLS errors: one clear message
        raise ManifestError(f"cannot reach the cluster of kubeconfig {kubeconfig}: {exc}") from None
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
            raise ManifestError(f"cluster discovery failed for {doc.api_version} {doc.kind}: {exc}") from None
        namespace = (doc.namespace or default_namespace) if resource.namespaced else None
        try:
            client.server_side_apply(resource, body=doc.obj, name=doc.name, namespace=namespace,
                                     field_manager=FIELD_MANAGER, force_conflicts=True, dry_run="All",
                                     _request_timeout=request_timeout)
        except DynamicApiError as exc:
            text = _message(exc)
            if exc.status == 404 and namespace in new_namespaces:
                out.append(make_finding(DRY_RUN_SKIPPED, f"{doc.ref()}: namespace {namespace} is created by this "
                                                         f"set and does not exist yet", doc.location("/metadata")))
            else:
                out.append(make_finding(DRY_RUN, f"{doc.ref()}: {text}", doc.location("")))
        except ValueError as exc:  # no metadata.name
            out.append(make_finding(DRY_RUN, f"{doc.ref()}: {exc}", doc.location("/metadata")))
        except Exception as exc:
            raise ManifestError(f"dry-run of {doc.ref()} failed: {exc}") from None
    return out
