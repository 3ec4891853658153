"""The rehearsal roles end to end through ansible-playbook: verdict recorded by verdict_gate, the gate
fails the play on a planted defect, the namespace is gone either way."""

from __future__ import annotations

import json

from rehearsal_helpers import ROLE_PLAY, app_deployment, manifests


def run_role(ansible_playbook, tmp_path, cluster, role, **role_vars):
    run_dir = tmp_path / "run"
    role_vars[f"{role}_kubeconfig"] = cluster["kubeconfig"]
    play = ROLE_PLAY.format(run_dir=run_dir, role=role, vars=json.dumps(role_vars))
    proc = ansible_playbook(play)
    path = run_dir / f"{role}.json"
    return proc, json.loads(path.read_text()) if path.exists() else None


def test_deploy_rehearsal_role_records_a_pass(ansible_playbook, tmp_path, cluster, admin_api, app):
    proc, record = run_role(ansible_playbook, tmp_path, cluster, "deploy_rehearsal",
                            deploy_rehearsal_content=manifests(app_deployment(replicas=1)),
                            deploy_rehearsal_health_check_url=app["url"] + "/healthz")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert record["verdict"]["status"] == "pass" and record["details"]["namespace_deleted"] is True
    assert record["details"]["workloads"][0]["complete"] is True


def test_rollback_rehearsal_role_gates_on_a_pruned_history(ansible_playbook, tmp_path, cluster, admin_api):
    proc, record = run_role(
        ansible_playbook, tmp_path, cluster, "rollback_rehearsal",
        rollback_rehearsal_current_content=manifests(app_deployment("registry.local/app:1", history_limit=0)),
        rollback_rehearsal_content=manifests(app_deployment("registry.local/app:2", history_limit=0)),
        rollback_rehearsal_timeout=60)
    assert proc.returncode != 0
    assert "rollback_rehearsal is fail (fail_on pending): Deployment/sample-app: previous version unavailable" \
        in proc.stdout
    assert record["verdict"]["status"] == "fail" and record["details"]["namespace_deleted"] is True
    assert "deploy_current" in record["details"]["phases"]
