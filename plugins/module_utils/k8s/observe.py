# Copyright: (c) 2026, deploysafe.preflight contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Watch a namespace roll out: poll every workload until complete, failed or out of time, and gather
what explains a failure (Warning events, pod statuses, log tails)."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Sequence

from . import K8sError
from .connection import Connection, api_error
from .workloads import WORKLOAD_KINDS, pod_problem, pod_summary, rollout_state, why_not_ready

KWOK_NODE_ANNOTATION = "kwok.x-k8s.io/node"


@dataclass
class WorkloadProgress:
    kind: str
    name: str
    api_version: str
    started: float
    complete: bool = False
    seconds: Optional[float] = None
    message: str = "not observed yet"
    failure: Optional[str] = None

    @property
    def ref(self) -> str:
        return f"{self.kind}/{self.name}"

    def as_dict(self) -> Dict[str, Any]:
        return {"kind": self.kind, "name": self.name, "complete": self.complete, "rollout_seconds": self.seconds,
                "message": self.message, "failure": self.failure}


@dataclass
class Observation:
    workloads: List[WorkloadProgress]
    pods: List[Dict[str, Any]] = field(default_factory=list)
    timed_out: bool = False
    problems: List[str] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        return bool(self.workloads) and all(w.complete for w in self.workloads) and not self.problems


def workloads_of(objects: Sequence[Dict[str, Any]], started: float) -> List[WorkloadProgress]:
    return [WorkloadProgress(o["kind"], o["metadata"]["name"], o["apiVersion"], started)
            for o in objects if o.get("kind") in WORKLOAD_KINDS]


def list_pods(conn: Connection, namespace: str) -> List[Dict[str, Any]]:
    from kubernetes import client
    try:
        pods = client.CoreV1Api(conn.api).list_namespaced_pod(namespace, _request_timeout=conn.request_timeout)
    except Exception as exc:
        raise K8sError(api_error(exc, "list", "pods", namespace)) from None
    return [conn.api.sanitize_for_serialization(p) for p in pods.items]


def wait_for_rollouts(conn: Connection, namespace: str, workloads: List[WorkloadProgress], timeout: float,
                      max_restarts: int = 0, poll: float = 1.0) -> Observation:
    """Poll until every workload is complete, one fails for good (progress deadline, Job failed, a pod
    crash-looping beyond max_restarts or unable to pull), or timeout seconds pass. Each API request is
    bounded by the connection's request timeout, so a dead API server ends the wait too."""
    dyn = conn.dynamic()
    obs = Observation(workloads)
    deadline = time.monotonic() + timeout
    interval = min(0.2, poll)  # short first polls: rollout times are only as precise as the polling
    while True:
        for w in workloads:
            if w.complete or w.failure:
                continue
            try:
                resource = dyn.resources.get(api_version=w.api_version, kind=w.kind)
                obj = resource.get(name=w.name, namespace=namespace, _request_timeout=conn.request_timeout).to_dict()
            except Exception as exc:
                raise K8sError(api_error(exc, "get", w.ref, namespace)) from None
            done, w.message, w.failure = rollout_state(obj)
            if done:
                w.complete, w.seconds = True, round(time.monotonic() - w.started, 2)
        obs.pods = [pod_summary(p) for p in list_pods(conn, namespace)]
        obs.problems = [w.ref + ": " + w.failure for w in workloads if w.failure]
        obs.problems += [p for p in (pod_problem(s, max_restarts) for s in obs.pods) if p]
        if obs.problems or all(w.complete for w in workloads):
            return obs
        if time.monotonic() > deadline:
            obs.timed_out = True
            obs.problems = [f"{w.ref}: not complete after {timeout:.0f}s ({w.message})"
                            for w in workloads if not w.complete]
            obs.problems += [why_not_ready(s) for s in obs.pods
                             if not s["ready"] and s["phase"] not in ("Succeeded",)][:10]
            return obs
        time.sleep(interval)
        interval = min(poll, interval * 1.5)


def pods_ready(pods: Sequence[Dict[str, Any]]) -> Dict[str, int]:
    """Counts of serving pods (Job pods that Succeeded do not serve and are not counted)."""
    serving = [p for p in pods if p["phase"] != "Succeeded"]
    return {"total": len(serving), "ready": sum(1 for p in serving if p["ready"])}


def warning_events(conn: Connection, namespace: str, limit: int = 50) -> List[Dict[str, Any]]:
    """Warning events of the namespace, newest last: object, reason, message, count."""
    from kubernetes import client
    try:
        events = client.CoreV1Api(conn.api).list_namespaced_event(
            namespace, field_selector="type=Warning", _request_timeout=conn.request_timeout).items
    except Exception as exc:
        raise K8sError(api_error(exc, "list", "events", namespace)) from None
    out = []
    for ev in events:
        when = ev.last_timestamp or ev.event_time or ev.metadata.creation_timestamp
        out.append({"object": f"{ev.involved_object.kind}/{ev.involved_object.name}", "reason": ev.reason,
                    "message": (ev.message or "")[:300], "count": ev.count or 1,
                    "time": when.isoformat() if when else ""})
    out.sort(key=lambda e: e["time"])
    return out[-limit:]


def log_tails(conn: Connection, namespace: str, pods: Sequence[Dict[str, Any]], lines: int,
              limit: int = 5) -> Dict[str, str]:
    """Last lines of the containers of pods that are not Ready. Pods on simulated (kwok) nodes are
    skipped: the API server would dial a node address with nothing behind it."""
    if lines <= 0:
        return {}
    from kubernetes import client
    core = client.CoreV1Api(conn.api)
    try:
        simulated = {n.metadata.name for n in core.list_node(_request_timeout=conn.request_timeout).items
                     if KWOK_NODE_ANNOTATION in (n.metadata.annotations or {})}
    except Exception:
        simulated = set()  # cannot list nodes (RBAC): try the logs, errors are recorded per container
    tails: Dict[str, str] = {}
    for pod in [p for p in pods if not p["ready"] and p["phase"] != "Succeeded"][:limit]:
        for container in pod["containers"]:
            key = f"{pod['name']}/{container['name']}"
            if pod["node"] in simulated:
                tails[key] = "(no logs: simulated node)"
                continue
            try:
                tails[key] = core.read_namespaced_pod_log(
                    pod["name"], namespace, container=container["name"], tail_lines=lines,
                    previous=container["restarts"] > 0, _request_timeout=min(conn.request_timeout, 10))[-4000:]
            except Exception as exc:
                tails[key] = f"(no logs: {api_error(exc, 'get', 'pods/log', namespace)})"
    return tails


def diagnostics(conn: Connection, namespace: str, obs: Observation, log_lines: int) -> Dict[str, Any]:
    """Events, non-ready pod statuses and log tails; a failure to gather one part is noted, not raised."""
    out: Dict[str, Any] = {"pods": [p for p in obs.pods if not p["ready"]][:20]}
    try:
        out["events"] = warning_events(conn, namespace)
    except K8sError as exc:
        out["events"], out["events_error"] = [], str(exc)
    out["logs"] = log_tails(conn, namespace, obs.pods, log_lines)
    return out
