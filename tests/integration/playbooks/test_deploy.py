"""playbooks/deploy.yml refuses to apply without a go of the very run it names: no run id, manifests that are
not the signed ones, or a checklist decision that is not go. No cluster is needed: each refusal comes before
anything is read from one (the kubeconfig names a closed port), and the signed run's files stay untouched."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]
KUBECONFIG = """apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "https://127.0.0.1:9"}}]
users: [{name: u, user: {token: unused}}]
contexts: [{name: x, context: {cluster: c, user: u}}]
current-context: x
"""


def playbook(name: str, tmp: Path, *args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFLIGHT_", "PG", "DEPLOYSAFE_", "S3_", "AWS_"))}
    env.update(ANSIBLE_COLLECTIONS_PATH=str(REPO / ".collection"), ANSIBLE_NOCOLOR="1", KUBECONFIG="",
               ANSIBLE_LOCAL_TEMP=str(tmp / "ansible-tmp"))
    return subprocess.run([str(Path(sys.executable).parent / "ansible-playbook"), f"playbooks/{name}", *args],
                          cwd=REPO, env=env, capture_output=True, text=True, timeout=300, check=False)


def digest(run_dir: Path) -> dict:
    return {str(p.relative_to(run_dir)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(run_dir.rglob("*")) if p.is_file() and "deploy" not in p.parts}


@pytest.fixture(scope="module")
def signed_run(tmp_path_factory):
    """A predeploy run of one manifest (decision pending: nothing signed off) -> (run_dir, run_id, manifests)."""
    tmp = tmp_path_factory.mktemp("deploy")
    manifests = tmp / "manifests"
    manifests.mkdir()
    (manifests / "cm.yml").write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: shop}\ndata: {a: b}\n")
    (tmp / "kubeconfig").write_text(KUBECONFIG)
    run_dir = tmp / "run"
    proc = playbook("predeploy.yml", tmp, "-e", f"preflight_run_dir={run_dir}", "-e", "preflight_fail_on=never",
                    "-e", f"preflight_manifests={manifests}")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return run_dir, json.loads((run_dir / "run.json").read_text())["run_id"], manifests


def deploy(signed_run, tmp_path, **extra) -> subprocess.CompletedProcess:
    run_dir, run_id, manifests = signed_run
    variables = {"preflight_run_dir": str(run_dir), "preflight_run_id": run_id, "preflight_manifests": str(manifests),
                 "preflight_k8s_namespace": "shop", "preflight_kubeconfig": str(run_dir.parent / "kubeconfig"),
                 **extra}
    return playbook("deploy.yml", tmp_path, "-e", json.dumps(variables))


def test_without_a_run_id_nothing_runs(signed_run, tmp_path):
    before = digest(signed_run[0])
    proc = deploy(signed_run, tmp_path, preflight_run_id="")
    assert proc.returncode != 0
    assert "deploy.yml needs preflight_run_id" in proc.stdout
    assert digest(signed_run[0]) == before


def test_other_manifests_than_the_signed_ones_are_refused(signed_run, tmp_path):
    other = tmp_path / "other"
    other.mkdir()
    (other / "cm.yml").write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: shop}\ndata: {a: c}\n")
    before = digest(signed_run[0])
    proc = deploy(signed_run, tmp_path, preflight_manifests=str(other))
    assert proc.returncode != 0
    assert "was started for another release: manifests_sha256 differ" in proc.stdout
    assert digest(signed_run[0]) == before


def test_a_decision_that_is_not_go_refuses_the_apply(signed_run, tmp_path):
    run_dir = signed_run[0]
    before = digest(run_dir)
    proc = deploy(signed_run, tmp_path)
    assert proc.returncode != 0
    assert "apply refused: the checklist decision" in proc.stdout and "is pending, not go" in proc.stdout
    # nothing recorded over the signed run, no verdict for a refused apply
    assert digest(run_dir) == before
    assert not (run_dir / "deploy" / "production_dry_run.json").exists()
