"""Manifests and helpers for the rehearsal tests (no traffic to pod IPs: health checks go to the
sample app on loopback)."""

from __future__ import annotations

import json

import yaml
from kubernetes import client
from kubernetes.client.rest import ApiException

from k8s_workloads import SIMULATE, sample_deployment

from ansible_collections.deploysafe.preflight.plugins.module_utils.k8s.connection import connect


# A play running one role of the collection on localhost with a run directory (format: run_dir, role,
# vars as JSON).
ROLE_PLAY = """
- hosts: localhost
  connection: local
  gather_facts: false
  vars:
    preflight_run_dir: "{run_dir}"
  roles:
    - role: deploysafe.preflight.{role}
      vars: {vars}
"""

def admin_connection(cluster):
    return connect({"kubeconfig": cluster["kubeconfig"], "request_timeout": 15})


def manifests(*objects) -> str:
    return yaml.safe_dump_all(list(objects), sort_keys=False)


def app_deployment(image="registry.local/sample-app:1.0.0", replicas=2, simulate=None, config_map=None,
                   secret=None, history_limit=5):
    dep = sample_deployment(image=image, replicas=replicas, pod_annotations={SIMULATE: simulate} if simulate else None)
    dep["spec"]["revisionHistoryLimit"] = history_limit
    container = dep["spec"]["template"]["spec"]["containers"][0]
    if config_map:
        container["envFrom"] = [{"configMapRef": {"name": config_map}}]
    if secret:
        container.setdefault("env", []).append(
            {"name": "API_TOKEN", "valueFrom": {"secretKeyRef": {"name": secret, "key": "token"}}})
    return dep


def config_map(name, **data):
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}, "data": data}


def job(name="migrate"):
    return {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": name},
            "spec": {"backoffLimit": 0, "template": {"spec": {"restartPolicy": "Never", "containers": [
                {"name": "migrate", "image": "registry.local/sample-app:1.0.0"}]}}}}


def statefulset(image="registry.local/db:1.0", replicas=2):
    labels = {"app.kubernetes.io/name": "db"}
    return {"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {"name": "db", "labels": labels},
            "spec": {"replicas": replicas, "serviceName": "db", "selector": {"matchLabels": labels},
                     "template": {"metadata": {"labels": labels},
                                  "spec": {"containers": [{"name": "db", "image": image}]}}}}


def namespace_gone(admin_api, name) -> bool:
    try:
        client.CoreV1Api(admin_api).read_namespace(name)
    except ApiException as exc:
        return exc.status == 404
    return False


def namespaces_of_run(admin_api, run_id):
    return client.CoreV1Api(admin_api).list_namespace(label_selector=f"deploysafe.io/run-id={run_id}").items


def measured(verdict, name):
    return next(m for m in verdict["evidence"]["measurements"] if m["name"] == name)


MODULE_PLAY = """
- hosts: localhost
  connection: local
  gather_facts: false
  tasks:
    - deploysafe.preflight.{module}: {args}
      register: out
      ignore_errors: true
    - ansible.builtin.copy:
        content: "{{{{ out | to_json }}}}"
        dest: "{dest}"
      check_mode: false
      diff: false
"""


def run_module(ansible_playbook, tmp_path, module, args, *cli_args):
    """Run one task of the module (failures ignored) through ansible-playbook; (registered result, stdout)."""
    dest = tmp_path / "out.json"
    proc = ansible_playbook(MODULE_PLAY.format(module=module, args=json.dumps(args), dest=dest), *cli_args)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return json.loads(dest.read_text()), proc.stdout


def run_role(ansible_playbook, tmp_path, cluster, role, **role_vars):
    """Run the role with the admin kubeconfig and preflight_run_dir <tmp>/run; (process, its verdict record)."""
    run_dir = tmp_path / "run"
    role_vars[f"{role}_kubeconfig"] = cluster["kubeconfig"]
    proc = ansible_playbook(ROLE_PLAY.format(run_dir=run_dir, role=role, vars=json.dumps(role_vars)))
    path = run_dir / f"{role}.json"
    return proc, json.loads(path.read_text()) if path.exists() else None
