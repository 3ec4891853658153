# Copyright: (c) 2026, deploysafe.preflight contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Runtime security snapshot of a live namespace: read what runs (read_namespace), run the checks
(runtime_checks), diff against the last release's snapshot (runtime_snapshot), save the snapshot, and
turn it into findings reports and a verdict through the shared findings tail (findings.report).

Only reads from the API server (list/get); never reads a Secret's content: a Secret in an environment
variable is found from the pod spec's reference to it.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Tuple

from ..findings import Coverage, Finding, failing
from ..findings.exemptions import load_exemptions
from ..findings.report import findings_argument_spec, finish_scan
from ..findings.sarif_ingest import load_sarif
from ..verdict import make_verdict, measurement, utc_iso
from . import K8sError
from .connection import Connection, api_error, k8s_auth_argument_spec
from .observe import list_pods
from .runtime_checks import CHECKS, SA_GROUP, Binding, Inventory, Workload, check_inventory
from .runtime_snapshot import Baseline, diff_findings, load_baseline, snapshot_document, write_snapshot

# Top-level workloads whose pod template is inspected when none of their pods runs (a CronJob between
# runs, a Deployment scaled to 0): (kind, API group, list method, path of the pod template).
TEMPLATE_KINDS = (
    ("Deployment", "apps", "list_namespaced_deployment", ("spec", "template")),
    ("StatefulSet", "apps", "list_namespaced_stateful_set", ("spec", "template")),
    ("DaemonSet", "apps", "list_namespaced_daemon_set", ("spec", "template")),
    ("CronJob", "batch", "list_namespaced_cron_job", ("spec", "jobTemplate", "spec", "template")),
    ("Job", "batch", "list_namespaced_job", ("spec", "template")),
)
BOOTSTRAP_LABEL = "kubernetes.io/bootstrapping"   # the API server's default bindings (rbac-defaults)


@dataclass
class SnapshotOptions:
    namespace: str
    snapshot_path: Optional[str] = None
    baseline: Optional[str] = None
    severity_threshold: str = "high"
    exemptions_file: Optional[str] = None
    sarif_inputs: List[str] = field(default_factory=list)
    report_dir: Optional[str] = None
    report_formats: List[str] = field(default_factory=lambda: ["json", "sarif", "junit", "markdown"])


def runtime_security_argument_spec() -> Dict[str, Any]:
    """Options of the runtime_security_snapshot module (doc fragments k8s_auth and findings)."""
    spec = k8s_auth_argument_spec()
    spec.update(findings_argument_spec())
    spec.update(namespace=dict(type="str", required=True), snapshot_path=dict(type="path"),
                baseline=dict(type="path"))
    return spec


def _items(conn: Connection, api: Any, method: str, resource: str, namespace: Optional[str]) -> List[Dict[str, Any]]:
    """Every object of one list call as the API server's JSON (camelCase dicts)."""
    args = (namespace,) if namespace else ()
    try:
        found = getattr(api, method)(*args, _request_timeout=conn.request_timeout).items
    except Exception as exc:
        raise K8sError(api_error(exc, "list", resource, namespace)) from None
    return [conn.api.sanitize_for_serialization(o) for o in found]


def _controller(meta: Dict[str, Any]) -> Optional[Tuple[str, str]]:
    refs = [r for r in meta.get("ownerReferences") or [] if isinstance(r, dict)]
    ref = next((r for r in refs if r.get("controller")), refs[0] if refs else None)
    return (str(ref.get("kind")), str(ref.get("name"))) if ref else None


def owning_workload(meta: Dict[str, Any], parents: Dict[Tuple[str, str], Dict[str, Any]]) -> Optional[str]:
    """Kind/name of the workload a pod belongs to: its controller, lifted from a ReplicaSet to its
    Deployment and from a Job to its CronJob, so the name survives new releases (pod-template hashes)."""
    owner = _controller(meta)
    if not owner:
        return None
    parent = parents.get(owner)
    if owner[0] in ("ReplicaSet", "Job") and parent is not None:
        owner = _controller(parent.get("metadata") or {}) or owner
    return f"{owner[0]}/{owner[1]}"


def _dig(obj: Dict[str, Any], path: Tuple[str, ...]) -> Dict[str, Any]:
    for key in path:
        obj = obj.get(key) if isinstance(obj, dict) else None
    return obj if isinstance(obj, dict) else {}


def read_workloads(conn: Connection, namespace: str) -> List[Workload]:
    """The pod specs to inspect: every pod not finished (Succeeded/Failed), attributed to its workload,
    then the template of every top-level workload none of whose pods runs."""
    from kubernetes import client
    apps, batch = client.AppsV1Api(conn.api), client.BatchV1Api(conn.api)
    pods = list_pods(conn, namespace)
    listed = {kind: _items(conn, apps if group == "apps" else batch, method, kind.lower() + "s", namespace)
              for kind, group, method, _path in TEMPLATE_KINDS}
    replica_sets = _items(conn, apps, "list_namespaced_replica_set", "replicasets", namespace)
    parents = {(kind, o["metadata"]["name"]): o for kind, objs in (("ReplicaSet", replica_sets), ("Job", listed["Job"]))
               for o in objs}
    workloads: List[Workload] = []
    for pod in pods:
        meta = pod.get("metadata") or {}
        if (pod.get("status") or {}).get("phase") in ("Succeeded", "Failed"):
            continue
        ref = owning_workload(meta, parents) or f"Pod/{meta.get('name')}"
        workloads.append(Workload(ref=ref, spec=pod.get("spec") or {}, labels=dict(meta.get("labels") or {}),
                                  pointer="/spec", pods=[str(meta.get("name"))]))
    running = {w.ref for w in workloads}
    for kind, _group, _method, path in TEMPLATE_KINDS:
        for obj in listed[kind]:
            ref = f"{kind}/{obj['metadata']['name']}"
            if ref in running or (kind == "Job" and _controller(obj["metadata"])):
                continue  # a CronJob's Job is judged by the CronJob's template
            template = _dig(obj, path)
            workloads.append(Workload(ref=ref, spec=template.get("spec") or {},
                                      labels=dict((template.get("metadata") or {}).get("labels") or {}),
                                      pointer="/" + "/".join(path) + "/spec"))
    return workloads


def concerns_namespace(subjects: List[Dict[str, Any]], namespace: str) -> bool:
    """True when a ClusterRoleBinding's subjects include a service account of the namespace (directly or
    through the service-account groups)."""
    return any((s.get("kind") == "ServiceAccount" and s.get("namespace") == namespace)
               or (s.get("kind") == "Group" and s.get("name") in (SA_GROUP, f"{SA_GROUP}:{namespace}"))
               for s in subjects or [])


def read_bindings(conn: Connection, namespace: str) -> List[Binding]:
    """The namespace's RoleBindings, and the ClusterRoleBindings that name its service accounts (not the
    API server's bootstrap defaults), each with the rules of the Role/ClusterRole it grants."""
    from kubernetes import client
    rbac = client.RbacAuthorizationV1Api(conn.api)
    roles = {r["metadata"]["name"]: r.get("rules") or [] for r in _items(conn, rbac, "list_namespaced_role", "roles", namespace)}
    cluster_roles: Dict[str, Optional[List[Dict[str, Any]]]] = {}

    def cluster_role_rules(name: str) -> Optional[List[Dict[str, Any]]]:
        if name not in cluster_roles:
            try:
                role = rbac.read_cluster_role(name, _request_timeout=conn.request_timeout)
                cluster_roles[name] = conn.api.sanitize_for_serialization(role).get("rules") or []
            except Exception as exc:
                if getattr(exc, "status", None) != 404:
                    raise K8sError(api_error(exc, "get", f"clusterroles/{name}")) from None
                cluster_roles[name] = None  # a dangling roleRef grants nothing
        return cluster_roles[name]

    out = []
    for rb in _items(conn, rbac, "list_namespaced_role_binding", "rolebindings", namespace):
        kind, name = rb["roleRef"]["kind"], rb["roleRef"]["name"]
        rules = roles.get(name) if kind == "Role" else cluster_role_rules(name)
        out.append(Binding(ref=f"RoleBinding/{rb['metadata']['name']}", role=f"{kind}/{name}",
                           subjects=rb.get("subjects") or [], rules=rules, namespace=namespace))
    for crb in _items(conn, rbac, "list_cluster_role_binding", "clusterrolebindings", None):
        if (crb["metadata"].get("labels") or {}).get(BOOTSTRAP_LABEL) == "rbac-defaults" \
                or not concerns_namespace(crb.get("subjects") or [], namespace):
            continue
        name = crb["roleRef"]["name"]
        out.append(Binding(ref=f"ClusterRoleBinding/{crb['metadata']['name']}", role=f"ClusterRole/{name}",
                           subjects=crb.get("subjects") or [], rules=cluster_role_rules(name)))
    return out


def read_namespace(conn: Connection, namespace: str) -> Inventory:
    """Everything the checks need from one namespace. Raises K8sError (`forbidden: list <resource> in
    namespace <ns>`) when the credentials may not read something: a partial read is never judged."""
    from kubernetes import client
    core, net = client.CoreV1Api(conn.api), client.NetworkingV1Api(conn.api)
    workloads = read_workloads(conn, namespace)
    service_accounts = {sa["metadata"]["name"]: sa for sa in
                        _items(conn, core, "list_namespaced_service_account", "serviceaccounts", namespace)}
    policies = _items(conn, net, "list_namespaced_network_policy", "networkpolicies", namespace)
    return Inventory(namespace=namespace, workloads=workloads, service_accounts=service_accounts,
                     network_policies=policies, bindings=read_bindings(conn, namespace))


def take_snapshot(conn: Connection, opts: SnapshotOptions, check_mode: bool = False,
                  now: Optional[float] = None) -> Dict[str, Any]:
    """Read, check, diff against the baseline, save the snapshot (not in check mode), report and judge.
    The verdict fails on new findings at or above the threshold only; returns the module result."""
    taken_at = utc_iso(now if now is not None else time.time())
    inv = read_namespace(conn, opts.namespace)
    findings: List[Finding] = check_inventory(inv)
    for path in opts.sarif_inputs:  # external results join the snapshot, so they are diffed too
        findings.extend(load_sarif(path))
    baseline = load_baseline(opts.baseline) if opts.baseline else None
    load_exemptions(opts.exemptions_file)  # a bad exemptions file fails before the snapshot is written
    diff = diff_findings(findings, baseline)
    inspected = {"pods": sum(len(w.pods) for w in inv.workloads),
                 "templates": sum(1 for w in inv.workloads if not w.pods),
                 "workloads": len({w.ref for w in inv.workloads}), "bindings": len(inv.bindings)}
    document = snapshot_document(opts.namespace, taken_at, conn.host, findings, inspected, diff, baseline)
    snapshot = {"path": opts.snapshot_path, "written": False, "taken_at": taken_at}
    artifacts = []
    if opts.snapshot_path and not check_mode:
        artifacts.append(write_snapshot(opts.snapshot_path, document))
        snapshot["written"] = True
    elif opts.snapshot_path:
        snapshot["note"] = "check mode: the snapshot was not written"
    new = diff.new_fingerprints
    specs = inspected["pods"] + inspected["templates"]
    coverage = Coverage("pod_specs_inspected", specs, "pod specs",
                        "" if specs else f"nothing to inspect: namespace {opts.namespace} runs no pod and has no workload")
    ms = [measurement("pods_inspected", inspected["pods"], "pods"),
          measurement("workload_templates_inspected", inspected["templates"], "templates"),
          measurement("new_findings", len(diff.new), "findings"),
          measurement("fixed_findings", len(diff.fixed), "findings"),
          measurement("unchanged_findings", len(diff.unchanged), "findings")]
    result = finish_scan(findings, CHECKS, _subject(opts.namespace, baseline, diff, opts.baseline),
                         threshold=opts.severity_threshold, exemptions_file=opts.exemptions_file,
                         report_dir=None if check_mode else opts.report_dir, report_basename="runtime_security",
                         report_formats=opts.report_formats, coverage=coverage, measurements=ms,
                         gate_on=lambda f: f.fingerprint in new, artifacts=artifacts)
    result["verdict"] = _naming_new(result, new, opts.severity_threshold)
    result.update(namespace=opts.namespace, snapshot=snapshot, inspected=inspected, diff=diff.describe(),
                  baseline=baseline.describe() if baseline else None,
                  changed=result["changed"] or snapshot["written"])
    return result


def _subject(namespace: str, baseline: Optional[Baseline], diff, path: Optional[str]) -> str:
    if baseline:
        return (f"namespace {namespace} against the snapshot of {baseline.taken_at or path} "
                f"({len(diff.new)} new, {len(diff.fixed)} fixed, {len(diff.unchanged)} unchanged; only new findings gate)")
    why = f"baseline {path} does not exist" if path else "no baseline"
    return f"namespace {namespace} ({why}: every finding counts as new)"


def _naming_new(result: Dict[str, Any], new: set, threshold: str) -> Dict[str, Any]:
    """The verdict with the new findings that fail it named in the summary (what this release added)."""
    verdict = result["verdict"]
    bad = failing([Finding.from_dict(d) for d in result["findings"] if d["fingerprint"] in new], threshold)
    if not bad:
        return verdict
    named = "; ".join(f"[{f.severity}] {f.check_id} {f.message}" for f in bad[:5]) + ("; ..." if len(bad) > 5 else "")
    return make_verdict(verdict["status"], f"{verdict['summary']}; new: {named}", **verdict["evidence"])
