# Copyright: (c) 2026, deploysafe.preflight contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Production dry-run (step 12): server-side apply every object of the release with dryRun=All against the
production namespace, diff the server's answer against the live object, and never touch it.

Order: load the manifests -> per object: read the live object, dry-run apply, compare (object_diff) ->
list the live objects of the managed kinds that carry the release's app label but are not in the
manifests (orphaned, informational) -> verdict and diff report. The real apply happens only when asked,
outside check mode, after a clean dry-run and a `go` of the checklist for this run (apply_gate)."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Tuple

from ..verdict import FAIL, FAIL_ON, PASS, PENDING, gate_failed, make_verdict, measurement
from . import K8sError
from .apply_gate import require_go
from .connection import Connection, api_error, connect, k8s_auth_argument_spec
from .dry_run_report import write_report
from .object_diff import CREATE, UNCHANGED, UPDATE, changed_paths, compare
from .objects import into_namespace, load_objects, ref, resource_for, server_side_apply, split_cluster_scoped

APP_LABEL = "app.kubernetes.io/name"


@dataclass
class DryRunOptions:
    namespace: str
    paths: List[str] = field(default_factory=list)
    content: Optional[str] = None
    app_label: str = APP_LABEL
    app_label_values: List[str] = field(default_factory=list)   # empty: the values the manifests carry
    report_dir: str = ""
    apply: bool = False
    decision_file: str = ""
    run_dir: str = ""
    run_id: str = ""


@dataclass
class ObjectPlan:
    """One object of the release: what the dry-run says would happen to it."""

    ref: str
    action: str                       # create | update | unchanged | error
    diff: str = ""
    before: Optional[Dict[str, Any]] = None
    after: Optional[Dict[str, Any]] = None
    changed_fields: List[str] = field(default_factory=list)
    error: str = ""

    def as_dict(self) -> Dict[str, Any]:
        return {"ref": self.ref, "action": self.action, "changed_fields": self.changed_fields,
                "error": self.error or None, "diff": self.diff}


def dry_run_argument_spec() -> Dict[str, Any]:
    """Options of the production_dry_run module (connection options from the k8s_auth doc fragment)."""
    spec = k8s_auth_argument_spec()
    spec.update(
        namespace=dict(type="str", required=True),
        paths=dict(type="list", elements="path", default=[]),
        content=dict(type="str"),
        app_label=dict(type="str", default=APP_LABEL),
        app_label_values=dict(type="list", elements="str", default=[]),
        report_dir=dict(type="path", default=""),
        apply=dict(type="bool", default=False),
        decision_file=dict(type="path", default=""),
        run_dir=dict(type="path", default=""),
        run_id=dict(type="str", default=""),
        fail_on=dict(type="str", choices=list(FAIL_ON), default="fail"),
    )
    return spec


def _read_live(conn: Connection, resource, obj: Dict[str, Any], namespace: str) -> Optional[Dict[str, Any]]:
    from kubernetes.dynamic.exceptions import NotFoundError
    name = obj["metadata"]["name"]
    try:
        return resource.get(name=name, namespace=namespace, _request_timeout=conn.request_timeout).to_dict()
    except NotFoundError:
        return None


def plan_object(conn: Connection, dyn, obj: Dict[str, Any], namespace: str) -> ObjectPlan:
    """Read the live object, dry-run apply the manifest, compare. API refusals (forbidden, invalid,
    immutable field, admission denial) become an `error` plan naming the object; an unreachable API
    server raises K8sError."""
    from kubernetes.dynamic.exceptions import DynamicApiError
    resource, name = resource_for(dyn, obj), obj["metadata"]["name"]
    plan = ObjectPlan(ref(obj), "error")
    try:
        live = _read_live(conn, resource, obj, namespace)
    except DynamicApiError as exc:
        plan.error = api_error(exc, "get", f"{resource.name}/{name}", namespace)
        return plan
    except Exception as exc:
        raise K8sError(api_error(exc, "get", f"{resource.name}/{name}", namespace)) from None
    try:
        answer = server_side_apply(conn, dyn, resource, obj, namespace, dry_run=True)
    except DynamicApiError as exc:
        verb = "patch" if getattr(exc, "status", None) in (401, 403) else "dry-run apply"
        plan.error = api_error(exc, verb, f"{resource.name}/{name}", namespace)
        return plan
    except Exception as exc:
        raise K8sError(api_error(exc, "dry-run apply", f"{resource.name}/{name}", namespace)) from None
    found = compare(plan.ref, live, answer, obj)
    plan.action, plan.diff, plan.before, plan.after = found["action"], found["diff"], found["before"], found["after"]
    if plan.action == UPDATE:
        plan.changed_fields = changed_paths(plan.before, plan.after)
    return plan


def label_values(objects: List[Dict[str, Any]], label: str) -> List[str]:
    """The values of the app label on the release's objects (metadata.labels), sorted."""
    return sorted({str(v) for o in objects for k, v in ((o.get("metadata") or {}).get("labels") or {}).items()
                   if k == label and v})


def find_orphans(conn: Connection, dyn, objects: List[Dict[str, Any]], namespace: str, label: str,
                 values: List[str]) -> Tuple[List[str], List[str]]:
    """(orphaned refs, kinds that could not be listed and why): live objects of the kinds the release
    manages, carrying label in values, that the manifests do not hold. Nothing is deleted."""
    from kubernetes.dynamic.exceptions import DynamicApiError
    if not values:
        return [], []
    selector = f"{label} in ({','.join(values)})"
    wanted = {(o["apiVersion"], o["kind"]) for o in objects}
    names = {(o["kind"], o["metadata"]["name"]) for o in objects}
    orphans, unchecked = [], []
    for api_version, kind in sorted(wanted):
        resource = resource_for(dyn, {"apiVersion": api_version, "kind": kind})
        try:
            items = resource.get(namespace=namespace, label_selector=selector,
                                 _request_timeout=conn.request_timeout).to_dict().get("items") or []
        except DynamicApiError as exc:
            unchecked.append(api_error(exc, "list", resource.name, namespace))
            continue
        except Exception as exc:
            raise K8sError(api_error(exc, "list", resource.name, namespace)) from None
        orphans += [f"{kind}/{i['metadata']['name']}" for i in items if (kind, i["metadata"]["name"]) not in names]
    return sorted(orphans), unchecked


def verdict_of(plans: List[ObjectPlan], orphans: List[str], unchecked: List[str], elapsed_ms: float,
               namespace: str, artifacts: List[Dict[str, Any]]) -> Dict[str, Any]:
    """pass when every object dry-runs cleanly; fail naming each refused object with the API's message."""
    count = {a: sum(p.action == a for p in plans) for a in (CREATE, UPDATE, UNCHANGED, "error")}
    ms = [measurement("objects_create", count[CREATE], "objects"),
          measurement("objects_update", count[UPDATE], "objects"),
          measurement("objects_unchanged", count[UNCHANGED], "objects"),
          measurement("objects_rejected", count["error"], "objects", 0, "=="),
          measurement("objects_orphaned", len(orphans), "objects"),
          measurement("dry_run_ms", round(elapsed_ms, 1), "ms")]
    findings = {"rejected": count["error"], "orphaned": len(orphans)}
    if count["error"]:
        summary = "the production dry-run was refused: " + "; ".join(p.error for p in plans if p.error)
        return make_verdict(FAIL, summary[:2000], artifacts=artifacts, findings=findings, measurements=ms)
    summary = (f"server-side dry-run of {len(plans)} object(s) against namespace {namespace}: {count[CREATE]} create, "
               f"{count[UPDATE]} update, {count[UNCHANGED]} unchanged; {len(orphans)} orphaned"
               + (f" ({', '.join(orphans[:10])})" if orphans else "")
               + (f"; orphans not checked: {'; '.join(unchecked)}" if unchecked else ""))
    if not plans:
        return make_verdict(PENDING, f"no namespaced object to dry-run against namespace {namespace}", measurements=ms)
    return make_verdict(PASS, summary, artifacts=artifacts, findings=findings, measurements=ms)


def apply_release(conn: Connection, dyn, objects: List[Dict[str, Any]], plans: List[ObjectPlan],
                  namespace: str) -> List[str]:
    """The real server-side apply of every object; returns the refs the server actually changed (created,
    or stored with a new resourceVersion). A refusal stops it, naming what was already applied."""
    changed: List[str] = []
    for obj, plan in zip(objects, plans):
        resource = resource_for(dyn, obj)
        try:
            # read right before the write: a controller's status update since the dry-run is not our change
            live = _read_live(conn, resource, obj, namespace)
            stored = server_side_apply(conn, dyn, resource, obj, namespace)
        except Exception as exc:  # a refusal or a lost connection: either way, say what is already applied
            done = f"; already applied and changed: {', '.join(changed)}" if changed else "; nothing was changed before it"
            raise K8sError(api_error(exc, "apply", f"{resource.name}/{obj['metadata']['name']}", namespace) + done) from None
        if live is None or (stored.get("metadata") or {}).get("resourceVersion") != live["metadata"].get("resourceVersion"):
            changed.append(plan.ref)
    return changed


def production_dry_run(conn: Connection, opts: DryRunOptions, check_mode: bool = False,
                       want_diff: bool = False) -> Dict[str, Any]:
    """The module's work. Returns the module result (verdict, objects, orphaned, report, apply...).
    Raises K8sError for bad input, an unreachable cluster, or an apply that is refused or fails."""
    if not opts.namespace.strip():
        raise K8sError("namespace is empty: name the production namespace to dry-run against")
    gate = require_go(opts.decision_file, opts.run_dir, opts.run_id, opts.paths, opts.content) if opts.apply else None
    loaded = load_objects(opts.paths, opts.content)
    dyn = conn.dynamic()
    namespaced, cluster_scoped = split_cluster_scoped(dyn, loaded)
    objects, skipped = into_namespace(namespaced, opts.namespace)
    started = time.monotonic()
    plans = [plan_object(conn, dyn, obj, opts.namespace) for obj in objects]
    elapsed_ms = (time.monotonic() - started) * 1000
    values = opts.app_label_values or label_values(objects, opts.app_label)
    orphans, unchecked = find_orphans(conn, dyn, objects, opts.namespace, opts.app_label, values)
    result: Dict[str, Any] = {
        "changed": False, "namespace": opts.namespace, "objects": [p.as_dict() for p in plans],
        "orphaned": orphans, "orphans_unchecked": unchecked, "skipped": cluster_scoped + skipped,
        "app_label_selector": f"{opts.app_label} in ({','.join(values)})" if values else None,
    }
    provisional = verdict_of(plans, orphans, unchecked, elapsed_ms, opts.namespace, [])
    report = write_report(opts.report_dir, result, provisional, check_mode)
    result["report"] = report["paths"]
    result["verdict"] = verdict_of(plans, orphans, unchecked, elapsed_ms, opts.namespace, report["artifacts"])
    if want_diff:
        result["diff"] = [{"before_header": f"{p.ref} (live)", "after_header": f"{p.ref} (dry-run)",
                           "before": p.before or {}, "after": p.after or {}}
                          for p in plans if p.action in (CREATE, UPDATE)]
    if gate is not None:
        result["apply"] = dict(gate, applied=False, changed_objects=[], refused=None)
        if result["verdict"]["status"] != PASS:
            result["apply"]["refused"] = f"apply refused: the dry-run did not pass: {result['verdict']['summary']}"
        elif check_mode:  # what the apply would change, as check mode reports it; nothing is applied
            result["apply"]["changed_objects"] = [p.ref for p in plans if p.action in (CREATE, UPDATE)]
            result["changed"] = bool(result["apply"]["changed_objects"])
        else:
            result["apply"]["changed_objects"] = apply_release(conn, dyn, objects, plans, opts.namespace)
            result["apply"]["applied"] = True
            result["changed"] = bool(result["apply"]["changed_objects"])
    return result


def dry_run_options(params: Dict[str, Any]) -> DryRunOptions:
    """DryRunOptions from the module parameters of dry_run_argument_spec()."""
    names = ("namespace", "paths", "content", "app_label", "app_label_values", "report_dir", "apply",
             "decision_file", "run_dir", "run_id")
    return DryRunOptions(**{name: params[name] for name in names})


def run_task(params: Dict[str, Any], check_mode: bool, want_diff: bool) -> Tuple[Optional[str], Dict[str, Any]]:
    """What the module does: connect, dry-run (and apply when allowed), apply fail_on.
    Returns (message to fail the task with, or None; the result)."""
    try:
        result = production_dry_run(connect(params), dry_run_options(params), check_mode, want_diff)
    except K8sError as exc:
        return str(exc), {}
    refused = (result.get("apply") or {}).get("refused")
    if refused:
        return refused, result
    if gate_failed(result["verdict"]["status"], params["fail_on"]):
        return result["verdict"]["summary"], result
    return None, result
