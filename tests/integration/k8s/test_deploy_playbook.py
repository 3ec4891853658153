"""playbooks/deploy.yml end to end on the real control plane: with a go of the run it names, the release is
applied, the verdict goes to <run_dir>/deploy, and the signed run's files stay as they were."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

from kubernetes import client

from ansible_collections.deploysafe.preflight.plugins.module_utils.run import release_identity, start_or_join, store_run

REPO = Path(__file__).resolve().parents[3]


def digest(run_dir: Path) -> dict:
    return {str(p.relative_to(run_dir)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(run_dir.rglob("*")) if p.is_file() and "deploy" not in p.parts}


def test_a_go_of_the_named_run_applies_and_records_beside_the_signed_run(tmp_path, cluster, admin_api, namespace):
    release = tmp_path / "release"
    release.mkdir()
    (release / "cm.yml").write_text("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: shop-config\n"
                                    "  labels: {app.kubernetes.io/name: shop}\ndata: {mode: v2}\n")
    run_dir = tmp_path / "run"
    _changed, record, _before = start_or_join(str(run_dir), release=release_identity(manifests=[str(release)]))
    store_run(str(run_dir), record)
    # the checklist's go for this run, as the checklist role publishes it after the sign-off
    (run_dir / "report").mkdir()
    (run_dir / "report" / "checklist.json").write_text(json.dumps({"decision": "go", "run_id": record["run_id"]}))
    before = digest(run_dir)

    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFLIGHT_", "KUBECONFIG"))}
    env.update(ANSIBLE_COLLECTIONS_PATH=str(REPO / ".collection"), ANSIBLE_NOCOLOR="1",
               ANSIBLE_LOCAL_TEMP=str(tmp_path / "ansible-tmp"))
    variables = {"preflight_run_dir": str(run_dir), "preflight_run_id": record["run_id"],
                 "preflight_manifests": str(release), "preflight_k8s_namespace": namespace,
                 "preflight_kubeconfig": cluster["kubeconfig"]}
    proc = subprocess.run([str(Path(sys.executable).parent / "ansible-playbook"), "playbooks/deploy.yml",
                           "-e", json.dumps(variables)],
                          cwd=REPO, env=env, capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr

    live = client.CoreV1Api(admin_api).read_namespaced_config_map("shop-config", namespace)
    assert live.data == {"mode": "v2"}
    verdict = json.loads((run_dir / "deploy" / "production_dry_run.json").read_text())
    assert verdict["verdict"]["status"] == "pass"
    assert verdict["run_id"] == json.loads((run_dir / "deploy" / "run.json").read_text())["run_id"] != record["run_id"]
    assert (run_dir / "deploy" / "production_dry_run" / "production-dry-run.diff").is_file()
    assert digest(run_dir) == before   # the signed run is untouched
