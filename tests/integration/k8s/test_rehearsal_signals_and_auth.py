"""The namespace goes away on SIGTERM too; a frozen API server ends the rehearsal within the request
timeout; K8S_AUTH_* environment auth through ansible-playbook; in-cluster service-account auth with a
real token."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import uuid
from pathlib import Path

from kubernetes import client

from k8s_workloads import wait_for
from rehearsal_helpers import app_deployment, manifests, namespace_gone, namespaces_of_run

from ansible_collections.deploysafe.preflight.plugins.module_utils.k8s.connection import connect

SCRIPT = """
import sys
from ansible_collections.deploysafe.preflight.plugins.module_utils.k8s import K8sError
from ansible_collections.deploysafe.preflight.plugins.module_utils.k8s.connection import connect
from ansible_collections.deploysafe.preflight.plugins.module_utils.k8s.rehearsal import RehearsalOptions, rehearse
conn = connect({"kubeconfig": sys.argv[1], "request_timeout": int(sys.argv[4]) if len(sys.argv) > 4 else 30})
try:
    rehearse(conn, RehearsalOptions(content=open(sys.argv[2]).read(), run_id=sys.argv[3], timeout=300))
except K8sError as exc:
    print(exc)
    sys.exit(3)
"""


def test_sigterm_mid_rollout_still_deletes_the_namespace(cluster, admin_api, tmp_path):
    run_id = f"t-{uuid.uuid4().hex[:8]}"
    path = tmp_path / "app.yaml"
    path.write_text(manifests(app_deployment(simulate="never-ready", replicas=1)))
    proc = subprocess.Popen([sys.executable, "-c", SCRIPT, cluster["kubeconfig"], str(path), run_id],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        created = wait_for("rehearsal namespace", lambda: namespaces_of_run(admin_api, run_id), timeout=60)
        name = created[0].metadata.name
        wait_for("the deployment applied", lambda: client.AppsV1Api(admin_api).list_namespaced_deployment(name).items)
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=90)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 3, out + err
    assert f"interrupted by SIGTERM; namespace {name} deleted" in out
    assert namespace_gone(admin_api, name)


def test_api_server_frozen_mid_rollout_fails_within_the_request_timeout(cluster, tmp_path):
    """A second cluster (the session one must survive): SIGSTOP its API server once the Deployment is
    applied. TCP still connects, nothing answers; the rehearsal must end on its request timeout, not hang
    until the rollout timeout (300 s) or forever."""
    import time

    from kubernetes import config as kube_config

    from deploysafe_testenv import TestEnv

    env = TestEnv(tmp_path / "env")
    try:
        info = env.start("k8s")[0]
        apiserver_pid = info.pids[1]  # etcd, kube-apiserver, controller-manager, scheduler, kwok
        api = kube_config.new_client_from_config(config_file=info.data["kubeconfig"])
        run_id = f"t-{uuid.uuid4().hex[:8]}"
        path = tmp_path / "app.yaml"
        path.write_text(manifests(app_deployment(simulate="never-ready", replicas=1)))
        proc = subprocess.Popen([sys.executable, "-c", SCRIPT, info.data["kubeconfig"], str(path), run_id, "3"],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            name = wait_for("rehearsal namespace", lambda: namespaces_of_run(api, run_id), timeout=60)[0].metadata.name
            wait_for("the deployment applied", lambda: client.AppsV1Api(api).list_namespaced_deployment(name).items)
            os.kill(apiserver_pid, signal.SIGSTOP)
            frozen_at = time.monotonic()
            out, err = proc.communicate(timeout=120)
            took = time.monotonic() - frozen_at
        finally:
            os.kill(apiserver_pid, signal.SIGCONT)
            if proc.poll() is None:
                proc.kill()
        assert proc.returncode == 3, out + err
        assert "cannot reach the API server" in out and f"namespace {name} NOT deleted" in out
        assert took < 60, f"took {took:.0f}s after the API server froze"
    finally:
        env.down()


PLAY = """
- hosts: localhost
  connection: local
  gather_facts: false
  tasks:
    - deploysafe.preflight.deploy_rehearsal:
        content: {content}
        timeout: 60
        fail_on: never
      register: out
    - ansible.builtin.copy:
        content: "{{{{ out | to_json }}}}"
        dest: "{dest}"
"""


def test_module_authenticates_from_k8s_auth_environment(cluster, admin_api, ansible_playbook, tmp_path):
    dest = tmp_path / "result.json"
    play = PLAY.format(content=json.dumps(manifests(app_deployment(replicas=1))), dest=dest)
    env = {"K8S_AUTH_KUBECONFIG": cluster["kubeconfig"], "KUBECONFIG": str(tmp_path / "absent")}
    proc = ansible_playbook(play, extra_env=env)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    result = json.loads(dest.read_text())
    assert result["verdict"]["status"] == "pass", result["verdict"]["summary"]
    assert result["changed"] is True and namespace_gone(admin_api, result["namespace"])


def test_in_cluster_service_account_token_authenticates(cluster, admin_api, namespace, tmp_path):
    core = client.CoreV1Api(admin_api)
    core.create_namespaced_service_account(namespace, {"metadata": {"name": "preflight"}})
    request = {"spec": {"audiences": [], "expirationSeconds": 600}}
    token = core.create_namespaced_service_account_token("preflight", namespace, request).status.token
    sa_dir = tmp_path / "serviceaccount"
    sa_dir.mkdir()
    (sa_dir / "token").write_text(token)
    ca = admin_api.configuration.ssl_ca_cert
    (sa_dir / "ca.crt").write_text(Path(ca).read_text())
    host, port = cluster["server"].removeprefix("https://").rsplit(":", 1)
    env = {"KUBERNETES_SERVICE_HOST": host, "KUBERNETES_SERVICE_PORT": port}
    conn = connect({}, environ=env, service_account_dir=str(sa_dir))
    assert conn.source == "in-cluster"
    whoami = client.AuthenticationV1Api(conn.api).create_self_subject_review({"apiVersion": "authentication.k8s.io/v1",
                                                                             "kind": "SelfSubjectReview"})
    assert whoami.status.user_info.username == f"system:serviceaccount:{namespace}:preflight"
    assert os.environ.get("KUBERNETES_SERVICE_HOST") is None  # nothing leaked into this process
