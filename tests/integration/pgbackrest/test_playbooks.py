"""Step 4 of predeploy.yml and the DR drill, with pgBackRest evidence instead of pg_dump: the checklist item
pg_backup reads the same record name whichever path produced it; the drill reports RTO and RPO."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]
CLEARED = ("PGHOST", "PGPORT", "PGUSER", "PGPASSWORD", "PGDATABASE", "DEPLOYSAFE_PG_SUPERUSER",
           "DEPLOYSAFE_PG_SUPERPASSWORD", "S3_ENDPOINT_URL", "DEPLOYSAFE_S3_BUCKET", "DEPLOYSAFE_APP_URL",
           "DEPLOYSAFE_PROMETHEUS_URL", "KUBECONFIG", "PREFLIGHT_IMAGE", "PREFLIGHT_MANIFESTS", "PREFLIGHT_REPO")


def _run(playbook: str, pg: dict, run_dir: Path, *args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in CLEARED}
    env.update(PGHOST="127.0.0.1", PGPORT=str(pg["port"]), PGUSER=pg["superuser"], PGDATABASE="postgres",
               PGPASSWORD=pg["superpassword"], DEPLOYSAFE_PG_SUPERUSER=pg["superuser"],
               DEPLOYSAFE_PG_SUPERPASSWORD=pg["superpassword"], PREFLIGHT_RUN_DIR=str(run_dir),
               DR_DRILL_RUN_DIR=str(run_dir), ANSIBLE_COLLECTIONS_PATH=str(REPO / ".collection"), ANSIBLE_NOCOLOR="1")
    return subprocess.run([str(Path(sys.executable).parent / "ansible-playbook"), playbook, *args], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=600, check=False)


def test_predeploy_step_4_with_pgbackrest_records_the_pg_backup_item(stanza, tmp_path):
    pg, config = stanza["pg"], stanza["runner"].config.path
    proc = _run("playbooks/predeploy.yml", pg, tmp_path / "run", "-i", "examples/testenv/inventory.yml",
                "--tags", "pg_backup", "-e", "preflight_pg_backup_method=pgbackrest",
                "-e", f"preflight_pgbackrest_config={config}", "-e", "preflight_fail_on=never")
    assert proc.returncode == 0, proc.stdout[-4000:]
    record = json.loads((tmp_path / "run" / "pg_backup.json").read_text())
    assert record["verdict"]["status"] == "pass", record["verdict"]["summary"]
    assert {"pgbackrest_backup", "pgbackrest_restore_verify"} <= set(record["producer"]["modules"])
    report = json.loads((tmp_path / "run" / "report" / "checklist.json").read_text())
    item = next(i for i in report["items"] if i["name"] == "pg_backup")
    assert item["status"] == "pass"
    assert pg["superpassword"] not in proc.stdout + (tmp_path / "run" / "report" / "checklist.html").read_text()


def test_dr_drill_with_pgbackrest_reports_rto_and_rpo(stanza, tmp_path):
    pg, config = stanza["pg"], stanza["runner"].config.path
    proc = _run("playbooks/dr_drill.yml", pg, tmp_path / "drill", "-i", "examples/testenv/inventory.yml", "-e", "dr_drill_pg_method=pgbackrest",
                "-e", f"dr_drill_pgbackrest_config={config}", "-e", "S3_ENDPOINT_URL=",
                "-e", "dr_drill_s3_endpoint_url=", "-e", "dr_drill_rpo_target=600")
    assert proc.returncode == 0, proc.stdout[-4000:]
    drill = json.loads((tmp_path / "drill" / "report" / "drill.json").read_text())
    assert drill["decision"] == "pass", drill["decision_reason"]
    names = [i["name"] for i in drill["items"]]
    assert names == ["pgbr_backup", "pgbr_restore_verify", "rto_rpo"]
    timing = {m["name"]: m for m in drill["items"][-1]["evidence"]["measurements"]}
    assert timing["rto"]["value"] > 0 and timing["rpo"]["ok"]
    print(f"\nDR drill (pgBackRest): {drill['decision_reason']}")
