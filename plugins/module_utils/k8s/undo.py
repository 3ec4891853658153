# Copyright: (c) 2026, deploysafe.preflight contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Roll one live workload back to a given or the previous revision (the workload_rollback module):
kubernetes.core's k8s_rollback done like `kubectl rollout undo --to-revision`, for Deployments,
StatefulSets and DaemonSets, with a dry-run diff, no change when already there, and a wait."""

from __future__ import annotations

import time
from typing import Any, Dict, Optional

from . import K8sError
from .connection import Connection, api_error
from .history import clean_template, find_revision, history, roll_back
from .observe import WorkloadProgress, wait_for_rollouts


def read_workload(conn: Connection, kind: str, name: str, namespace: str) -> Dict[str, Any]:
    from kubernetes.client.rest import ApiException
    from kubernetes.dynamic.exceptions import NotFoundError
    try:
        return conn.dynamic().resources.get(api_version="apps/v1", kind=kind).get(
            name=name, namespace=namespace, _request_timeout=conn.request_timeout).to_dict()
    except (NotFoundError, ApiException) as exc:
        if getattr(exc, "status", None) == 404:
            raise K8sError(f"{kind}/{name} not found in namespace {namespace}") from None
        raise K8sError(api_error(exc, "get", f"{kind.lower()}s/{name}", namespace)) from None
    except Exception as exc:
        raise K8sError(api_error(exc, "get", f"{kind.lower()}s/{name}", namespace)) from None


def rollback_workload(conn: Connection, kind: str, name: str, namespace: str, to_revision: int = 0,
                      revision_name: Optional[str] = None, check_mode: bool = False, wait: bool = True,
                      wait_timeout: float = 300) -> Dict[str, Any]:
    """Roll back and return {changed, revision, target, diff, rollout_seconds, message}."""
    live = read_workload(conn, kind, name, namespace)
    revisions = history(conn, namespace, live)
    target = find_revision(revisions, name=revision_name, number=None if revision_name else to_revision)
    if target is None:
        known = ", ".join(f"{r.number} ({r.name})" for r in revisions) or "none"
        wanted = revision_name or (f"revision {to_revision}" if to_revision else "a previous revision")
        raise K8sError(f"{kind}/{name}: cannot find {wanted} in its history (revisions: {known}); "
                       "revisionHistoryLimit may have pruned it")
    before = clean_template(live["spec"]["template"])
    result = {"changed": False, "target": target.as_dict(), "rollout_seconds": None,
              "diff": {"before": {"template": before}, "after": {"template": before}}}
    if before == target.template:
        result["message"] = f"{kind}/{name} already runs the template of {target.kind} {target.name}"
        return result
    patched = roll_back(conn, namespace, live, target, dry_run=check_mode)
    result.update(changed=True, diff={"before": {"template": before}, "after": {"template": patched["template"]}})
    if check_mode or not wait:
        result["message"] = f"{kind}/{name} {'would be' if check_mode else 'was'} rolled back to {target.kind} {target.name}"
        return result
    started = time.monotonic()
    progress = WorkloadProgress(kind, name, "apps/v1", started)
    obs = wait_for_rollouts(conn, namespace, [progress], wait_timeout)
    if not obs.complete:
        raise K8sError(f"{kind}/{name} was rolled back to {target.kind} {target.name}, but the rollout did not "
                       f"complete: {'; '.join(obs.problems)}")
    result.update(rollout_seconds=progress.seconds,
                  message=f"{kind}/{name} rolled back to {target.kind} {target.name} in {progress.seconds:.1f}s")
    return result
