#!/usr/bin/env python3
"""Manifest validation speed and agreement: deploysafe.preflight vs kube-score on 1,000 generated sets.

    PYTHONPATH=.collection:. .venv/bin/python benchmarks/validators/bench_manifests.py [--count 1000]

Each generated file holds a Deployment, a Service and (usually) a PodDisruptionBudget with defects
planted at random (seeded). Agreement is per (object, check) for the checks both tools have.
kubeconform downloads its JSON schemas at run time, which this machine cannot; it gets JSON schemas
written from the same bundled Kubernetes field schema ours uses (the default, 1.36) (so this compares speed and the
schema check's agreement, not schema sources). Some files carry a planted schema error.
"""

from __future__ import annotations

import argparse
import json
from collections import Counter
import os
import random
import subprocess
import tempfile
import time

import yaml

from ansible_collections.deploysafe.preflight.plugins.module_utils.manifests import validate_manifests
from ansible_collections.deploysafe.preflight.plugins.module_utils.manifests.k8s_schema import DEFAULT_VERSION, SCHEMAS

KINDS, MODELS = SCHEMAS[DEFAULT_VERSION].KINDS, SCHEMAS[DEFAULT_VERSION].MODELS

_QUANTITY_MAPS = {"limits", "requests", "hard", "capacity", "allocatable"}

# our check id -> kube-score check id
MAPPING = {
    "manifest.resources": "container-resources",
    "manifest.image-latest": "container-image-tag",
    "manifest.probes": "pod-probes",
    "manifest.privileged": "container-security-context-privileged",
    "manifest.read-only-root-fs": "container-security-context-readonlyrootfilesystem",
    "manifest.pdb": "deployment-has-poddisruptionbudget",
    "manifest.replicas": "deployment-replicas",
    "manifest.service-selector": "service-targets-pod",
    "manifest.seccomp": "container-seccomp-profile",
}
# our check id -> kube-linter check ids (any of them)
KUBE_LINTER = {
    "manifest.resources": ("unset-cpu-requirements", "unset-memory-requirements"),
    "manifest.image-latest": ("latest-tag",),
    "manifest.probes": ("no-liveness-probe", "no-readiness-probe"),
    "manifest.privileged": ("privileged-container",),
    "manifest.read-only-root-fs": ("no-read-only-root-fs",),
    "manifest.service-selector": ("dangling-service",),
    "manifest.privilege-escalation": ("privilege-escalation-container",),
    "manifest.run-as-non-root": ("run-as-non-root",),
}
DEFECTS = ("latest", "no-resources", "no-probes", "privileged", "writable-root", "one-replica", "no-pdb",
           "selector-typo", "no-seccomp", "uid-only")
# The workload of each set: mostly Deployments, some ReplicationControllers (issue 14: more workload kinds).
WORKLOAD = (("apps/v1", "Deployment"), ("v1", "ReplicationController"))


def manifest_set(i, defects, workload=WORKLOAD[0]):
    name = f"app{i}"
    sc = {"allowPrivilegeEscalation": False, "readOnlyRootFilesystem": "writable-root" not in defects,
          "capabilities": {"drop": ["ALL"]}, "runAsNonRoot": True, "runAsUser": 10001, "runAsGroup": 10001}
    if "uid-only" in defects:  # a non-zero runAsUser alone proves non-root: no finding expected from anyone
        del sc["runAsNonRoot"]
    if "privileged" in defects:
        sc["privileged"] = True
    if "no-seccomp" not in defects:
        sc["seccompProfile"] = {"type": "RuntimeDefault"}
    container = {"name": "app", "image": "registry.example/app:latest" if "latest" in defects else
                 "registry.example/app:1.2.3@sha256:" + "a" * 64,
                 "imagePullPolicy": "Always", "ports": [{"containerPort": 8080, "name": "http"}],
                 "securityContext": sc}
    if "no-resources" not in defects:
        container["resources"] = {"requests": {"cpu": "100m", "memory": "128Mi", "ephemeral-storage": "1Gi"},
                                  "limits": {"cpu": "1", "memory": "128Mi", "ephemeral-storage": "1Gi"}}
    if "no-probes" not in defects:
        container["readinessProbe"] = {"httpGet": {"path": "/ready", "port": "http"}}
        container["livenessProbe"] = {"httpGet": {"path": "/healthz", "port": "http"}}
    labels = {"app.kubernetes.io/name": name, "app.kubernetes.io/instance": name}
    selector = {"matchLabels": {"app": name}} if workload[1] == "Deployment" else {"app": name}
    docs = [{"apiVersion": workload[0], "kind": workload[1],
             "metadata": {"name": name, "namespace": "bench", "labels": labels},
             "spec": {"replicas": 1 if "one-replica" in defects else 3, "selector": selector,
                      "template": {"metadata": {"labels": {"app": name}}, "spec": {"containers": [container]}}}},
            {"apiVersion": "v1", "kind": "Service", "metadata": {"name": name, "namespace": "bench", "labels": labels},
             "spec": {"selector": {"app": name + ("x" if "selector-typo" in defects else "")},
                      "ports": [{"port": 80, "targetPort": "http"}]}}]
    if "no-pdb" not in defects:
        docs.append({"apiVersion": "policy/v1", "kind": "PodDisruptionBudget",
                     "metadata": {"name": name, "namespace": "bench"},
                     "spec": {"minAvailable": 1, "selector": {"matchLabels": {"app": name}}}})
    return docs


def _json_schema(typ, field=""):
    scalar = {"str": {"type": "string"}, "bytes": {"type": "string"}, "datetime": {"type": "string"},
              "int": {"type": "integer"}, "bool": {"type": "boolean"}, "float": {"type": "number"}, "object": {}}
    if typ in scalar:
        return scalar[typ]
    if typ.startswith("List["):
        return {"type": ["array", "null"], "items": _json_schema(typ[5:-1])}
    if typ.startswith("Dict["):
        inner = _json_schema(typ[5:-1].split(", ", 1)[1])
        if field in _QUANTITY_MAPS:
            inner = {"type": ["string", "number"]}
        return {"type": ["object", "null"], "additionalProperties": inner}
    return {"$ref": f"#/definitions/{typ}"}


def write_kubeconform_schemas(directory):
    """One JSON schema file per bundled kind, named the way kubeconform looks them up."""
    definitions = {}
    for name, spec in MODELS.items():
        definitions[name] = {"type": ["object", "null"], "additionalProperties": False,
                             "properties": {f: _json_schema(t, f) for f, t in spec["f"].items()}}
        if spec["r"]:  # draft-04 forbids an empty required list
            definitions[name]["required"] = spec["r"]
    for key, model in KINDS.items():
        api_version, kind = key.split(" ")
        group, _, version = api_version.rpartition("/")
        suffix = f"-{group.split('.')[0]}-{version}" if group else f"-{version}"
        schema = {"$ref": f"#/definitions/{model}", "definitions": definitions}
        with open(os.path.join(directory, f"{kind.lower()}{suffix}.json"), "w") as handle:
            json.dump(schema, handle)


def run_kubeconform(binary, directory, schemas):
    start = time.perf_counter()
    run = subprocess.run([binary, "-strict", "-output", "json", "-schema-location",
                          os.path.join(schemas, "{{ .ResourceKind }}{{ .KindSuffix }}.json"), directory],
                         capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - start
    invalid = set()
    for res in json.loads(run.stdout or "{}").get("resources") or []:
        if res.get("status") in ("statusInvalid", "statusError"):
            invalid.add(f"{res.get('kind')}/{res.get('name')}")
    return elapsed, invalid


def run_kube_linter(binary, directory):
    start = time.perf_counter()
    # only the mapped checks: --add-all-built-in includes schema-validation, which fetches schemas over
    # the network and stalls for seconds per object here
    checks = sorted({c for ids in KUBE_LINTER.values() for c in ids})
    run = subprocess.run([binary, "lint", "--do-not-auto-add-defaults", "--include", ",".join(checks),
                          "--format", "json", directory],
                         capture_output=True, text=True, check=False, stdin=subprocess.DEVNULL, timeout=900)
    elapsed = time.perf_counter() - start
    fired = set()
    for report in (json.loads(run.stdout or "{}").get("Reports") or []):
        obj = report["Object"]["K8sObject"]
        fired.add((f"{obj['GroupVersionKind']['Kind']}/{obj['Name']}", report["Check"]))
    return elapsed, fired


def run_kube_score(binary, files):
    start = time.perf_counter()
    run = subprocess.run([binary, "score", "-o", "json", "--kubernetes-version", "v1.33",
                          "--enable-optional-test", "container-seccomp-profile", *files],
                         capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - start
    fired = set()
    for obj in json.loads(run.stdout):
        key = f"{obj['type_meta']['kind']}/{obj['object_meta']['name']}"
        for check in obj.get("checks") or []:
            if not check.get("skipped") and check.get("grade", 10) <= 5:
                fired.add((key, check["check"]["id"]))
    return elapsed, fired


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--kube-score", default=os.path.expanduser("~/.cache/deploysafe-preflight/bin/kube-score"))
    parser.add_argument("--kube-linter", default=os.path.expanduser("~/.cache/deploysafe-preflight/bin/kube-linter"))
    parser.add_argument("--kubeconform", default=os.path.expanduser("~/.cache/deploysafe-preflight/bin/kubeconform"))
    args = parser.parse_args()
    rng = random.Random(7)
    with tempfile.TemporaryDirectory() as tmp:
        files = []
        for i in range(args.count):
            defects = {d for d in DEFECTS if rng.random() < 0.2}
            docs = manifest_set(i, defects, WORKLOAD[1] if rng.random() < 0.2 else WORKLOAD[0])
            if rng.random() < 0.1:  # schema error: a misspelt field
                docs[0]["spec"]["template"]["spec"]["containers"][0]["imagePullPolicyy"] = "Always"
            path = os.path.join(tmp, f"app{i:04d}.yaml")
            with open(path, "w") as handle:
                yaml.safe_dump_all(docs, handle, sort_keys=False)
            files.append(path)
        print(f"loadavg before: {open('/proc/loadavg').read().split()[:3]}")
        start = time.perf_counter()
        findings, documents, _ = validate_manifests([tmp])
        ours_s = time.perf_counter() - start
        ours = {(f.message.split(":")[0], MAPPING[f.check_id]) for f in findings if f.check_id in MAPPING}
        result = {"files": len(files), "documents": documents, "ours_s": round(ours_s, 2),
                  "ours_findings_total": len(findings)}
        if os.path.exists(args.kube_score):
            ks_s, theirs = run_kube_score(args.kube_score, files)
            theirs = {t for t in theirs if t[1] in MAPPING.values()}
            per_check = {}
            for ours_id, ks_id in MAPPING.items():
                a = {k for k in ours if k[1] == ks_id}
                b = {k for k in theirs if k[1] == ks_id}
                per_check[f"{ours_id} ~ {ks_id}"] = {"both": len(a & b), "only_ours": len(a - b),
                                                     "only_kube_score": len(b - a)}
            result.update(kube_score_s=round(ks_s, 2), ratio_ours_over_kube_score=round(ours_s / ks_s, 2),
                          agreement=per_check)
        if os.path.exists(args.kube_linter):
            kl_s, fired = run_kube_linter(args.kube_linter, tmp)
            ours_kl = {(f.message.split(":")[0], f.check_id) for f in findings if f.check_id in KUBE_LINTER}
            per_check = {}
            for ours_id, kl_ids in KUBE_LINTER.items():
                a = {k for k, c in ours_kl if c == ours_id}
                b = {k for k, c in fired if c in kl_ids}
                per_check[f"{ours_id} ~ {'/'.join(kl_ids)}"] = {"both": len(a & b), "only_ours": len(a - b),
                                                                 "only_kube_linter": len(b - a)}
            result.update(kube_linter_s=round(kl_s, 2), ratio_ours_over_kube_linter=round(ours_s / kl_s, 2),
                          kube_linter_agreement=per_check)
        if os.path.exists(args.kubeconform):
            schemas = tempfile.mkdtemp(dir=tmp.rsplit("/", 1)[0])
            write_kubeconform_schemas(schemas)
            kc_s, invalid = run_kubeconform(args.kubeconform, tmp, schemas)
            ours_schema = {f.message.split(":")[0] for f in findings if f.check_id == "manifest.schema"}
            result.update(kubeconform_s=round(kc_s, 2), ratio_ours_over_kubeconform=round(ours_s / kc_s, 2),
                          schema_agreement={"both": len(ours_schema & invalid), "only_ours": len(ours_schema - invalid),
                                            "only_kubeconform": len(invalid - ours_schema)})
        result["loadavg_after"] = open("/proc/loadavg").read().split()[:3]
        result["ours_by_check"] = dict(sorted(Counter(f.check_id for f in findings).items()))
        print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
