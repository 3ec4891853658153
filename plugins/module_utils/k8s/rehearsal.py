# Copyright: (c) 2026, deploysafe.preflight contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Deploy rehearsal: roll the release out in a throwaway namespace, measure it, always clean up.

Order: load manifests -> resolve every referenced ConfigMap/Secret (a missing one is reported before
anything is created) -> namespace -> copy/create references -> server-side apply -> wait for every
rollout -> pods Ready -> optional health URL -> delete the namespace (also on Ctrl-C/SIGTERM) unless
keep_on_failure and the rehearsal failed. check_mode: the same objects as a server-side dry-run.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Optional, Tuple

from ..signals import Interrupted, signals_raise
from ..verdict import FAIL, FAIL_ON, PASS, PENDING, gate_failed, make_verdict, measurement
from . import K8sError
from .connection import Connection, connect, k8s_auth_argument_spec
from .namespace import ThrowawayNamespace, new_run_id
from .objects import (
    apply_objects, into_namespace, load_objects, plan_references, provide_references, split_cluster_scoped,
    source_lookup,
)
from .observe import diagnostics, pods_ready, wait_for_rollouts, warning_events, workloads_of


@dataclass
class HealthCheck:
    url: str = ""
    service: str = ""          # through the API server's service proxy instead of a URL
    path: str = "/healthz"
    expected_status: List[int] = field(default_factory=lambda: [200])
    retries: int = 3
    timeout: float = 5.0
    validate_certs: bool = True


@dataclass
class RehearsalOptions:
    paths: List[str] = field(default_factory=list)
    content: Optional[str] = None
    source_namespace: Optional[str] = None
    configmaps: Dict[str, Dict[str, Any]] = field(default_factory=dict)
    secrets: Dict[str, Dict[str, Any]] = field(default_factory=dict)
    namespace_prefix: str = "rehearsal"
    run_id: str = ""
    ttl_seconds: int = 3600
    timeout: float = 300.0
    max_restarts: int = 0
    max_warning_events: Optional[int] = None
    health: HealthCheck = field(default_factory=HealthCheck)
    keep_on_failure: bool = False
    log_lines: int = 20
    cleanup_timeout: float = 120.0
    dry_run_namespace: str = "default"


def rehearsal_argument_spec(namespace_prefix: str) -> Dict[str, Any]:
    """Connection and rehearsal options of both rehearsal modules (doc fragments k8s_auth, k8s_rehearsal)."""
    spec = k8s_auth_argument_spec()
    spec.update(
        paths=dict(type="list", elements="path", default=[]),
        content=dict(type="str"),
        source_namespace=dict(type="str"),
        configmaps=dict(type="dict", default={}),
        secrets=dict(type="dict", default={}, no_log=True),
        namespace_prefix=dict(type="str", default=namespace_prefix),
        run_id=dict(type="str"),
        ttl_seconds=dict(type="int", default=3600),
        timeout=dict(type="int", default=300),
        max_restarts=dict(type="int", default=0),
        health_check_url=dict(type="str", default=""),
        health_check_service=dict(type="str", default=""),
        health_check_path=dict(type="str", default="/healthz"),
        health_check_expected_status=dict(type="list", elements="int", default=[200]),
        health_check_retries=dict(type="int", default=3),
        keep_on_failure=dict(type="bool", default=False),
        log_lines=dict(type="int", default=20),
        cleanup_timeout=dict(type="int", default=120),
        fail_on=dict(type="str", choices=list(FAIL_ON), default="fail"),
    )
    return spec


def rehearsal_options(params: Dict[str, Any]) -> Dict[str, Any]:
    """RehearsalOptions keyword arguments from the module parameters of rehearsal_argument_spec()."""
    names = ("paths", "content", "source_namespace", "configmaps", "secrets", "namespace_prefix", "ttl_seconds",
             "timeout", "max_restarts", "keep_on_failure", "log_lines", "cleanup_timeout")
    return dict({name: params[name] for name in names}, run_id=params["run_id"] or "",
                health=HealthCheck(url=params["health_check_url"], retries=params["health_check_retries"],
                                   expected_status=params["health_check_expected_status"],
                                   service=params["health_check_service"], path=params["health_check_path"]))


def run_task(params: Dict[str, Any], opts: RehearsalOptions, check_mode: bool, plan, rehearsal
             ) -> Tuple[Optional[str], Dict[str, Any]]:
    """What a rehearsal module does: connect, run plan (check mode) or rehearsal, apply fail_on.
    Returns (message to fail the task with, or None; the result)."""
    try:
        conn = connect(params)
        result = plan(conn, opts) if check_mode else rehearsal(conn, opts)
    except K8sError as exc:
        return str(exc), {}
    if gate_failed(result["verdict"]["status"], params["fail_on"]):
        return result["verdict"]["summary"], result
    return None, result


def health_measurements(health: HealthCheck, conn: Optional[Connection] = None, namespace: str = "") -> Dict[str, Any]:
    """Run the health check (URL, or service proxy) and return {summary, measurements prefixed with health_, ok}."""
    from ..health.http import HealthOptions, check_health
    if health.service:
        from .proxy import check_through_proxy
        return check_through_proxy(conn, namespace, health.service, health.path, health.expected_status, health.retries)
    result = check_health(HealthOptions(url=health.url, expected_status=health.expected_status,
                                        retries=health.retries, timeout=health.timeout,
                                        validate_certs=health.validate_certs, check_body=False))
    ms = [dict(m, name="health_" + m["name"]) for m in result["verdict"]["evidence"]["measurements"]
          if m["name"] in ("http_status", "latency_ms", "attempts")]
    ms.append(measurement("health_ok", result["verdict"]["status"] == PASS, "bool", True, "=="))
    return {"summary": result["verdict"]["summary"], "measurements": ms, "ok": result["verdict"]["status"] == PASS}


def prepare(conn: Connection, opts: RehearsalOptions) -> Dict[str, Any]:
    """Load, keep the namespaced objects and plan the references. Raises K8sError for bad input."""
    objects = load_objects(opts.paths, opts.content)
    objects, cluster_scoped = split_cluster_scoped(conn.dynamic(), objects)
    objects, skipped = into_namespace(objects, "placeholder")  # the real namespace is set when applying
    plan = plan_references(objects, opts.configmaps, opts.secrets, source_lookup(conn, opts.source_namespace))
    return {"objects": objects, "skipped": cluster_scoped + skipped, "plan": plan}


def dry_run(conn: Connection, opts: RehearsalOptions) -> Dict[str, Any]:
    """check_mode: every object as a server-side dry-run into dry_run_namespace; nothing is created."""
    prep = prepare(conn, opts)
    objects = into_namespace(prep["objects"], opts.dry_run_namespace)[0]
    rejected = apply_objects(conn, objects, opts.dry_run_namespace, dry_run=True)
    missing = prep["plan"].missing
    ms = [measurement("dry_run_rejected", len(rejected), "objects", 0, "=="),
          measurement("missing_references", len(missing), "count", 0, "==")]
    if rejected or missing:
        problems = [f"{ref}: {why}" for ref, why in rejected] + ([f"missing: {prep['plan'].describe_missing()}"] if missing else [])
        verdict = make_verdict(FAIL, "server-side dry-run: " + "; ".join(problems)[:1500], measurements=ms)
    else:
        verdict = make_verdict(PENDING, f"check mode: server-side dry-run accepted {len(objects)} object(s); "
                                        "nothing was rolled out", measurements=ms)
    return {"verdict": verdict, "changed": False, "applied": [], "dry_run_rejected": dict(rejected),
            "skipped": prep["skipped"], "missing_references": _refs(missing)}


def _refs(refs) -> List[Dict[str, Any]]:
    return [{"kind": r.kind, "name": r.name, "used_by": r.used_by} for r in refs]


def planned_result(opts: RehearsalOptions, prep: Dict[str, Any]) -> Dict[str, Any]:
    """The result skeleton; it already holds a `fail` verdict when a reference is missing (then nothing
    may be created)."""
    plan = prep["plan"]
    result = {"run_id": opts.run_id or new_run_id(), "namespace": None, "namespace_deleted": False, "kept": False,
              "skipped": prep["skipped"], "missing_references": _refs(plan.missing),
              "references": {"in_manifests": len(plan.in_manifests), "given": len(plan.given),
                             "copied": len(plan.copied)},
              "applied": [], "workloads": [], "changed": False}
    if plan.missing:
        result["verdict"] = make_verdict(
            FAIL, f"missing reference(s), nothing applied: {plan.describe_missing()}",
            measurements=[measurement("missing_references", len(plan.missing), "count", 0, "==")])
    return result


def in_throwaway_namespace(conn: Connection, opts: RehearsalOptions, kind: str, prep: Dict[str, Any],
                           work: Callable[[str], Dict[str, Any]]) -> Dict[str, Any]:
    """Unless a reference is missing (then a fail, and nothing is created): create the namespace, provide
    the references, run work(namespace) -> result keys (with a verdict), and delete the namespace whatever
    happens (error, Ctrl-C, SIGTERM, SIGHUP) unless keep_on_failure and the verdict is not a pass.
    Errors are re-raised with what became of the namespace."""
    result = planned_result(opts, prep)
    if "verdict" in result:
        return result
    ns = ThrowawayNamespace(conn, opts.namespace_prefix, result["run_id"], kind, opts.ttl_seconds)
    result["namespace"] = ns.name
    interrupted: Optional[str] = None
    error: Optional[str] = None
    failed = True
    try:
        with signals_raise():
            ns.create()
            result["changed"] = True
            result["copied"] = provide_references(conn, prep["plan"], ns.name, opts.source_namespace,
                                                  opts.configmaps, opts.secrets)
            result.update(work(ns.name))
            failed = result["verdict"]["status"] != PASS
    except Interrupted as exc:
        interrupted = exc.signal_name
    except KeyboardInterrupt:
        interrupted = "SIGINT"
    except K8sError as exc:
        error = str(exc)
    finally:
        if failed and opts.keep_on_failure and not interrupted and ns.created:
            result["kept"] = True
        else:
            cleanup = ns.delete(opts.cleanup_timeout)
            result["namespace_deleted"] = cleanup["gone"]
            result["cleanup"] = cleanup
    if interrupted or error:
        raise K8sError(f"{error or 'interrupted by ' + interrupted}; {_cleanup_note(ns, result)}")
    cleanup = result.get("cleanup")
    if cleanup and not cleanup["gone"]:
        v = result["verdict"]
        ms = v["evidence"]["measurements"] + [measurement("namespace_deleted", False, "bool", True, "==")]
        result["verdict"] = make_verdict(FAIL, f"{v['summary']}; cleanup: {cleanup['error']}",
                                         findings=v["evidence"]["findings"], measurements=ms)
    return result


def rehearse(conn: Connection, opts: RehearsalOptions) -> Dict[str, Any]:
    """The deploy rehearsal. Returns the module result (verdict and what explains it)."""
    prep = prepare(conn, opts)
    return in_throwaway_namespace(conn, opts, "deploy", prep,
                                  lambda namespace: roll_out(conn, opts, namespace, prep["objects"]))


def _cleanup_note(ns: ThrowawayNamespace, result: Dict[str, Any]) -> str:
    if not ns.created:
        return "no namespace was created"
    if result["kept"]:
        return f"namespace {ns.name} kept (keep_on_failure)"
    if result["namespace_deleted"]:
        return f"namespace {ns.name} deleted"
    return f"namespace {ns.name} NOT deleted: {result['cleanup']['error']}"


def roll_out(conn: Connection, opts: RehearsalOptions, namespace: str, objects) -> Dict[str, Any]:
    """Apply into namespace and judge the rollout. Returns result keys (verdict, workloads, ...)."""
    placed = into_namespace(objects, namespace)[0]
    started = time.monotonic()
    rejected = apply_objects(conn, placed, namespace)
    out: Dict[str, Any] = {"applied": [f"{o['kind']}/{o['metadata']['name']}" for o in placed
                                       if f"{o['kind']}/{o['metadata']['name']}" not in dict(rejected)]}
    if rejected:
        out["verdict"] = make_verdict(
            FAIL, "the API server rejected: " + "; ".join(why for ref, why in rejected)[:1500],
            measurements=[measurement("rejected_objects", len(rejected), "objects", 0, "==")])
        return out
    workloads = workloads_of(placed, started)
    if not workloads:
        out["verdict"] = make_verdict(PENDING, "the manifests hold no Deployment, StatefulSet, DaemonSet or Job: "
                                               "nothing to roll out", measurements=[])
        return out
    obs = wait_for_rollouts(conn, namespace, workloads, opts.timeout, opts.max_restarts)
    out["workloads"] = [w.as_dict() for w in workloads]
    counts = pods_ready(obs.pods)
    events = warning_events(conn, namespace)
    out["warning_events"] = events
    restarts = sum(p["restarts"] for p in obs.pods)
    ms = [measurement(f"rollout_seconds[{w.ref}]", w.seconds, "s", opts.timeout, "<=") for w in workloads]
    ms += [measurement("workloads_complete", sum(w.complete for w in workloads), "count", len(workloads), "=="),
           measurement("pods_ready", counts["ready"], "pods", counts["total"], "=="),
           measurement("restarts", restarts, "count", opts.max_restarts, "<="),
           measurement("warning_events", sum(e["count"] for e in events), "count", opts.max_warning_events,
                       "<=" if opts.max_warning_events is not None else None)]
    problems = list(obs.problems)
    if obs.complete and counts["ready"] == counts["total"] and (opts.health.url or opts.health.service):
        health = health_measurements(opts.health, conn, namespace)
        ms += health["measurements"]
        out["health"] = health["summary"]
        if not health["ok"]:
            problems.append("health check: " + health["summary"])
    if problems or not obs.complete:
        out["diagnostics"] = diagnostics(conn, namespace, obs, opts.log_lines)
        summary = "rehearsal failed: " + "; ".join(problems or ["rollout incomplete"])
        out["verdict"] = make_verdict(FAIL, summary[:2000], findings={"problems": len(problems)}, measurements=ms)
        return out
    slowest = max(workloads, key=lambda w: w.seconds or 0)
    out["verdict"] = make_verdict(
        PASS, f"{len(workloads)} workload(s) rolled out in a throwaway namespace, {counts['ready']} pod(s) Ready "
              f"(slowest {slowest.ref}: {slowest.seconds:.1f}s)" + (", health check passed" if opts.health.url or opts.health.service else ""),
        findings={"problems": 0}, measurements=ms)
    return out
