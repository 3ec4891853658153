# Copyright: (c) 2026, deploysafe.preflight contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Rollback rehearsal: in a throwaway namespace deploy version N (given, or read from the live
namespace), then the candidate N+1, then roll back to N from the recorded ReplicaSet/ControllerRevision
(never by re-applying manifests) and time each phase against the SLA."""

from __future__ import annotations

import copy
import time
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional

from ..verdict import FAIL, PASS, PENDING, make_verdict, measurement
from . import K8sError
from .connection import Connection, api_error
from .history import Revision, clean_template, current_revision, find_revision, history, images, roll_back
from .objects import apply_objects, into_namespace, load_objects, plan_references, source_lookup, split_cluster_scoped
from .observe import WorkloadProgress, diagnostics, wait_for_rollouts, workloads_of
from .rehearsal import RehearsalOptions, health_measurements, in_throwaway_namespace, planned_result

ROLLBACK_KINDS = ("Deployment", "StatefulSet", "DaemonSet")
LIVE_DROP = ("kubectl.kubernetes.io/last-applied-configuration", "deployment.kubernetes.io/revision",
             "deprecated.daemonset.template.generation")


@dataclass
class RollbackOptions(RehearsalOptions):
    """paths/content of RehearsalOptions hold the candidate (N+1); version N comes from current_*."""

    current_paths: List[str] = field(default_factory=list)
    current_content: Optional[str] = None
    current_namespace: Optional[str] = None       # read version N from this live namespace
    max_rollback_seconds: float = 1800.0
    production_replicas: Dict[str, int] = field(default_factory=dict)   # "Kind/name" -> replicas


def live_objects(conn: Connection, namespace: str) -> List[Dict[str, Any]]:
    """Deployments, StatefulSets and DaemonSets of a live namespace as manifests (no status, no server
    fields): what production runs, to rehearse rolling back to it."""
    dyn = conn.dynamic()
    out = []
    for kind in ROLLBACK_KINDS:
        try:
            items = dyn.resources.get(api_version="apps/v1", kind=kind).get(
                namespace=namespace, _request_timeout=conn.request_timeout).to_dict()["items"]
        except Exception as exc:
            raise K8sError(api_error(exc, "list", kind.lower() + "s", namespace)) from None
        for item in items:
            meta = item["metadata"]
            annotations = {k: v for k, v in (meta.get("annotations") or {}).items() if k not in LIVE_DROP}
            spec = copy.deepcopy(item["spec"])
            for claim in spec.get("volumeClaimTemplates") or []:
                claim.pop("status", None)
            out.append({"apiVersion": "apps/v1", "kind": kind, "spec": spec,
                        "metadata": {"name": meta["name"], "labels": meta.get("labels") or {},
                                     "annotations": annotations}})
    if not out:
        raise K8sError(f"namespace {namespace} has no Deployment, StatefulSet or DaemonSet to rehearse a rollback of")
    return out


def _read(conn: Connection, namespace: str, kind: str, name: str) -> Dict[str, Any]:
    try:
        return conn.dynamic().resources.get(api_version="apps/v1", kind=kind).get(
            name=name, namespace=namespace, _request_timeout=conn.request_timeout).to_dict()
    except Exception as exc:
        raise K8sError(api_error(exc, "get", f"{kind}/{name}", namespace)) from None


def _phase(conn: Connection, opts: RehearsalOptions, namespace: str, objects) -> Dict[str, Any]:
    placed = into_namespace(objects, namespace)[0]
    started = time.monotonic()
    rejected = apply_objects(conn, placed, namespace)
    if rejected:
        return {"rejected": rejected, "seconds": None, "obs": None, "workloads": []}
    workloads = workloads_of(placed, started)
    obs = wait_for_rollouts(conn, namespace, workloads, opts.timeout, opts.max_restarts)
    return {"rejected": [], "seconds": round(time.monotonic() - started, 2) if obs.complete else None,
            "obs": obs, "workloads": workloads}


def availability(conn: Connection, namespace: str, workload: Dict[str, Any], recorded: Revision,
                 settle: float = 10.0) -> Optional[str]:
    """None when the recorded revision still exists under the workload with the same images, else why not.
    Waits (bounded by settle) for old ReplicaSets to scale to zero first: only then may the controller
    prune history beyond revisionHistoryLimit, and a check before that would be optimistic."""
    kind, name = workload["kind"], workload["metadata"]["name"]
    limit = (workload.get("spec") or {}).get("revisionHistoryLimit")
    if kind == "Deployment":
        deadline = time.monotonic() + settle
        while time.monotonic() < deadline:
            old = [r for r in history(conn, namespace, workload) if r.template != clean_template(workload["spec"]["template"])]
            if not old or all(_rs_scaled_down(conn, namespace, r.name) for r in old):
                break
            time.sleep(0.5)
        time.sleep(1.0)  # the cleanup runs in the controller's next sync after the scale-down
    found = find_revision(history(conn, namespace, workload), name=recorded.name)
    if found is None:
        why = f" (revisionHistoryLimit {limit})" if limit is not None else ""
        return f"{kind}/{name}: previous version unavailable, {recorded.kind} {recorded.name} is gone{why}"
    if found.images != recorded.images:
        return f"{kind}/{name}: {recorded.kind} {recorded.name} now holds images {found.images}, not {recorded.images}"
    return None


def _rs_scaled_down(conn: Connection, namespace: str, name: str) -> bool:
    try:
        rs = _read(conn, namespace, "ReplicaSet", name)
    except K8sError:
        return True  # already gone
    return not (rs.get("spec") or {}).get("replicas") and not (rs.get("status") or {}).get("replicas")


def estimate(progress: List[WorkloadProgress], replicas: Dict[str, int], production: Dict[str, int]) -> Optional[float]:
    """Production rollback estimate: per workload, the observed seconds per rehearsal replica times the
    production replica count (the rolling update replaces pods a few at a time); the slowest workload."""
    values = []
    for w in progress:
        if w.seconds is None:
            return None
        here = max(1, replicas.get(w.ref, 1))
        values.append(w.seconds / here * max(here, production.get(w.ref, here)))
    return round(max(values), 2) if values else None


def _prepare(conn: Connection, opts: RollbackOptions) -> Dict[str, Any]:
    """Both versions loaded and moved into a placeholder namespace, references planned across both."""
    source = opts.source_namespace or opts.current_namespace
    opts.source_namespace = source
    current = live_objects(conn, opts.current_namespace) if opts.current_namespace else \
        load_objects(opts.current_paths, opts.current_content)
    candidate = load_objects(opts.paths, opts.content)
    dyn = conn.dynamic()
    current, skipped = split_cluster_scoped(dyn, current)
    candidate, skipped_too = split_cluster_scoped(dyn, candidate)
    current, ns_skipped = into_namespace(current, "placeholder")
    candidate = into_namespace(candidate, "placeholder")[0]
    plan = plan_references(current + candidate, opts.configmaps, opts.secrets, source_lookup(conn, source))
    production = dict(opts.production_replicas)
    if opts.current_namespace:
        production = {**{f"{o['kind']}/{o['metadata']['name']}": int(o["spec"].get("replicas") or 1)
                         for o in current}, **production}
    return {"objects": current, "candidate": candidate, "skipped": skipped + skipped_too + ns_skipped,
            "plan": plan, "production": production}


def plan_only(conn: Connection, opts: RollbackOptions) -> Dict[str, Any]:
    """check_mode: read version N, load the candidate, resolve references; create nothing."""
    prep = _prepare(conn, opts)
    result = planned_result(opts, prep)
    if "verdict" in result:
        return result
    ms = [measurement("missing_references", 0, "count", 0, "=="),
          measurement("workloads_to_roll_back", sum(o["kind"] in ROLLBACK_KINDS for o in prep["objects"]), "count")]
    result["verdict"] = make_verdict(PENDING, "check mode: versions read and references resolved; nothing was "
                                              "rolled out or back", measurements=ms)
    return result


def rehearse_rollback(conn: Connection, opts: RollbackOptions) -> Dict[str, Any]:
    """The rollback rehearsal; returns the module result."""
    prep = _prepare(conn, opts)
    return in_throwaway_namespace(conn, opts, "rollback", prep, lambda namespace: _rehearse(
        conn, opts, namespace, prep["objects"], prep["candidate"], prep["production"]))


def _fail(summary: str, ms, out: Dict[str, Any], conn=None, namespace=None, obs=None, lines=0) -> Dict[str, Any]:
    if obs is not None:
        out["diagnostics"] = diagnostics(conn, namespace, obs, lines)
    out["verdict"] = make_verdict(FAIL, summary[:2000], measurements=ms)
    return out


def _rehearse(conn, opts: RollbackOptions, namespace, current, candidate, production) -> Dict[str, Any]:
    out: Dict[str, Any] = {"phases": {}, "revisions": {}}
    ms: List[Dict[str, Any]] = []
    first = _phase(conn, opts, namespace, current)
    if first["rejected"] or not first["obs"].complete:
        why = "; ".join(e for ref, e in first["rejected"]) or "; ".join(first["obs"].problems)
        return _fail(f"version N did not roll out, nothing to roll back to: {why}",
                     [measurement("phase_seconds[deploy_current]", None, "s", opts.timeout, "<=")], out,
                     conn, namespace, first["obs"], opts.log_lines)
    out["phases"]["deploy_current"] = first["seconds"]
    ms.append(measurement("phase_seconds[deploy_current]", first["seconds"], "s", opts.timeout, "<="))
    targets = [w for w in first["workloads"] if w.kind in ROLLBACK_KINDS]
    if not targets:
        return _fail("version N has no Deployment, StatefulSet or DaemonSet to roll back", ms, out)
    recorded: Dict[str, Revision] = {}
    replicas: Dict[str, int] = {}
    for w in targets:
        live = _read(conn, namespace, w.kind, w.name)
        replicas[w.ref] = int((live.get("spec") or {}).get("replicas") or (live.get("status") or {}).get("desiredNumberScheduled") or 1)
        rev = current_revision(conn, namespace, live)
        if rev is None:
            return _fail(f"{w.ref}: no recorded revision after version N rolled out", ms, out)
        recorded[w.ref] = rev
    out["revisions"]["current"] = {ref: r.as_dict() for ref, r in recorded.items()}

    second = _phase(conn, opts, namespace, candidate)
    if second["rejected"]:
        return _fail("the API server rejected the candidate: " + "; ".join(e for ref, e in second["rejected"]), ms, out)
    out["phases"]["deploy_candidate"] = second["seconds"]
    out["candidate_problems"] = second["obs"].problems
    # informational: a candidate that does not roll out is exactly when a rollback is needed
    ms.append(measurement("phase_seconds[deploy_candidate]", second["seconds"], "s"))
    ms.append(measurement("candidate_rolled_out", second["obs"].complete, "bool"))

    problems = []
    lives = {w.ref: _read(conn, namespace, w.kind, w.name) for w in targets}
    for w in targets:
        problem = availability(conn, namespace, lives[w.ref], recorded[w.ref])
        if problem:
            problems.append(problem)
    ms.append(measurement("previous_version_available", not problems, "bool", True, "=="))
    if problems:
        return _fail("; ".join(problems), ms, out)

    started = time.monotonic()
    progress = []
    for w in targets:
        live = _read(conn, namespace, w.kind, w.name)
        target = find_revision(history(conn, namespace, live), name=recorded[w.ref].name)
        if target is None:
            ms.append(measurement("rollback_seconds", None, "s", opts.max_rollback_seconds, "<="))
            return _fail(f"{w.ref}: previous version unavailable, {recorded[w.ref].kind} {recorded[w.ref].name} "
                         "vanished before the rollback", ms, out)
        roll_back(conn, namespace, live, target)
        progress.append(WorkloadProgress(w.kind, w.name, w.api_version, started))
    obs = wait_for_rollouts(conn, namespace, progress, max(opts.timeout, 1), opts.max_restarts)
    rollback_seconds = round(time.monotonic() - started, 2) if obs.complete else None
    out["phases"]["rollback"] = rollback_seconds
    out["workloads"] = [w.as_dict() for w in progress]
    ms.append(measurement("rollback_uses_recorded_revision", True, "bool", True, "=="))
    ms.append(measurement("rollback_seconds", rollback_seconds, "s", opts.max_rollback_seconds, "<="))
    ms += [measurement(f"rollback_seconds[{w.ref}]", w.seconds, "s") for w in progress]
    restored = []
    for w in targets:
        now = images(_read(conn, namespace, w.kind, w.name)["spec"]["template"])
        if now != recorded[w.ref].images:
            restored.append(f"{w.ref} runs {now}, expected {recorded[w.ref].images}")
    ms.append(measurement("images_restored", not restored, "bool", True, "=="))
    guess = estimate(progress, replicas, production)
    out["rollback_estimate_seconds"] = guess
    ms.append(measurement("rollback_estimate_seconds", guess, "s", opts.max_rollback_seconds, "<="))
    problems = list(obs.problems) + restored
    if obs.complete and (opts.health.url or opts.health.service):
        health = health_measurements(opts.health, conn, namespace)
        ms += health["measurements"]
        if not health["ok"]:
            problems.append("health after rollback: " + health["summary"])
    if rollback_seconds is not None and rollback_seconds > opts.max_rollback_seconds:
        problems.append(f"rollback took {rollback_seconds:.1f}s, over the SLA of {opts.max_rollback_seconds:.0f}s")
    if guess is not None and guess > opts.max_rollback_seconds:
        problems.append(f"estimated production rollback {guess:.0f}s is over the SLA of {opts.max_rollback_seconds:.0f}s")
    if problems or not obs.complete:
        return _fail("rollback rehearsal failed: " + "; ".join(problems or ["rollback incomplete"]), ms, out,
                     conn, namespace, obs, opts.log_lines)
    out["verdict"] = make_verdict(
        PASS, f"rolled back {len(progress)} workload(s) to version N in {rollback_seconds:.1f}s "
              f"(SLA {opts.max_rollback_seconds:.0f}s, production estimate {guess:.1f}s); "
              f"phases: N {first['seconds']:.1f}s, N+1 {second['seconds'] or 0:.1f}s"
              f"{'' if second['obs'].complete else ' (candidate did not roll out)'}", measurements=ms)
    return out
