"""playbooks/dr_drill.yml against the harness PostgreSQL and MinIO: the report shows equality, RTO and RPO
and passes; an unreachable RTO target fails naming the measured RTO; the source database and bucket are the
same before and after; no scratch database or bucket is left behind, also after a failing drill."""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest

from deploysafe_testenv.services.minio import s3_client
from test_predeploy import CLEARED, pg_env

REPO = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def source_bucket(s3):
    """The "production" bucket: 20 objects of different sizes, types and metadata."""
    client, name = s3_client(s3), "drill-src-" + secrets.token_hex(4)
    client.create_bucket(Bucket=name)
    for i in range(20):
        client.put_object(Bucket=name, Key=f"data/{i:02d}/object-{i}.bin", Body=os.urandom(100 * i + 1),
                          ContentType="application/octet-stream" if i % 2 else "text/plain", Metadata={"n": str(i)})
    yield name
    for page in client.get_paginator("list_object_versions").paginate(Bucket=name):
        for entry in (page.get("Versions") or []) + (page.get("DeleteMarkers") or []):
            client.delete_object(Bucket=name, Key=entry["Key"], VersionId=entry["VersionId"])
    client.delete_bucket(Bucket=name)


def run_drill(pg: dict, s3: dict, bucket: str, run_dir: Path, *args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in CLEARED}
    env.update(pg_env(pg), S3_ENDPOINT_URL=s3["endpoint_url"], AWS_ACCESS_KEY_ID=s3["access_key"],
               AWS_SECRET_ACCESS_KEY=s3["secret_key"], AWS_DEFAULT_REGION=s3["region"], DEPLOYSAFE_S3_BUCKET=bucket,
               DR_DRILL_RUN_DIR=str(run_dir), ANSIBLE_COLLECTIONS_PATH=str(REPO / ".collection"), ANSIBLE_NOCOLOR="1")
    return subprocess.run([str(Path(sys.executable).parent / "ansible-playbook"), "playbooks/dr_drill.yml",
                           "-i", "examples/testenv/inventory.yml", *args],
                          cwd=REPO, env=env, capture_output=True, text=True, timeout=600, check=False)


def source_state(pg: dict, s3: dict, bucket: str) -> dict:
    """Every table's row count and content hash, every object's key, sha256 and metadata, and which
    drill_* databases and drill-* buckets exist."""
    state = {"tables": {}, "objects": {}}
    kwargs = dict(host=pg["host"], port=pg["port"], user=pg["superuser"], password=pg["superpassword"])
    with psycopg.connect(**kwargs, dbname=pg["dbname"], autocommit=True) as conn:
        tables = conn.execute("SELECT schemaname, tablename FROM pg_catalog.pg_tables "
                              "WHERE schemaname NOT IN ('pg_catalog', 'information_schema')").fetchall()
        for schema, table in tables:
            state["tables"][f"{schema}.{table}"] = conn.execute(
                f'SELECT count(*), md5(coalesce(string_agg(md5(t::text), \'\' ORDER BY md5(t::text)), \'\')) '
                f'FROM "{schema}"."{table}" t').fetchone()
    with psycopg.connect(**kwargs, dbname="postgres", autocommit=True) as conn:
        state["drill_databases"] = [r[0] for r in conn.execute(
            "SELECT datname FROM pg_catalog.pg_database WHERE datname LIKE 'drill\\_%'").fetchall()]
    client = s3_client(s3)
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        for entry in page.get("Contents") or []:
            obj = client.get_object(Bucket=bucket, Key=entry["Key"])
            state["objects"][entry["Key"]] = (hashlib.sha256(obj["Body"].read()).hexdigest(), obj["ContentType"],
                                              obj["Metadata"])
    state["drill_buckets"] = [b["Name"] for b in client.list_buckets()["Buckets"] if b["Name"].startswith("drill-2")]
    return state


def report(run_dir: Path) -> dict:
    return json.loads((run_dir / "report" / "drill.json").read_text())


def measurements(item: dict) -> dict:
    return {m["name"]: m for m in item["evidence"]["measurements"]}


def test_drill_passes_with_equality_rto_and_rpo_and_leaves_the_source_alone(pg, s3, source_bucket, tmp_path):
    before = source_state(pg, s3, source_bucket)
    assert len(before["objects"]) == 20 and before["tables"]
    run_dir = tmp_path / "drill"
    proc = run_drill(pg, s3, source_bucket, run_dir)
    assert proc.returncode == 0, proc.stdout[-4000:]
    model = report(run_dir)
    items = {i["name"]: i for i in model["items"]}
    assert model["decision"] == "pass", model["decision_reason"]
    assert all(i["status"] == "pass" for i in items.values()) and len(items) == 11
    # equality: every table compared against the backup's manifest, every object re-read and hashed
    tables = measurements(items["pg_restore_verify"])["tables_compared"]["value"]
    assert tables == len(before["tables"]), items["pg_restore_verify"]["summary"]
    assert "all 20 objects" in items["s3_restore_verify"]["summary"]
    timing = measurements(items["rto_rpo"])
    rto, rpo = timing["rto"], timing["rpo"]
    assert rto["unit"] == rpo["unit"] == "s" and rto["ok"] and rpo["ok"]
    assert 0 < rto["value"] < 900 and rto["threshold"] == 900
    assert 0 < rpo["value"] < 600 and rpo["threshold"] == 86400  # the backup was taken by this drill
    backups = [a for a in items["rto_rpo"]["evidence"]["artifacts"] if a["kind"].startswith("backup:")]
    assert sorted(a["kind"] for a in backups) == ["backup:postgresql", "backup:s3"]
    assert all(len(a["sha256"]) == 64 for a in backups)
    for suffix in (".md", ".html", ".junit.xml"):
        assert f"RTO {rto['value']} s" in (run_dir / "report" / f"drill{suffix}").read_text()
    print(f"\nDR drill: RTO {rto['value']} s, RPO {rpo['value']} s")
    # the source is unchanged and the scratch copies are gone
    after = source_state(pg, s3, source_bucket)
    assert after == before
    assert pg["superpassword"] not in (run_dir / "report" / "drill.html").read_text()


def test_missed_rto_target_fails_with_the_measured_rto_and_cleans_up(pg, s3, source_bucket, tmp_path):
    before = source_state(pg, s3, source_bucket)
    run_dir = tmp_path / "drill"
    proc = run_drill(pg, s3, source_bucket, run_dir, "-e", "dr_drill_rto_target=0.001")
    assert proc.returncode != 0
    model = report(run_dir)
    timing = next(i for i in model["items"] if i["name"] == "rto_rpo")
    rto = measurements(timing)["rto"]
    assert model["decision"] == "fail" and timing["status"] == "fail" and not rto["ok"]
    assert f"RTO {rto['value']} s exceeds the target 0.001 s" in model["decision_reason"]
    assert f"DR drill is fail (fail_on pending)" in proc.stdout and f"RTO {rto['value']} s" in proc.stdout
    assert [i["name"] for i in model["items"] if i["status"] != "pass"] == ["rto_rpo"]
    assert source_state(pg, s3, source_bucket) == before  # source unchanged, no scratch copy left
    assert "Traceback" not in proc.stdout


def test_a_step_that_errors_stops_the_drill_and_the_scratch_copies_are_still_removed(pg, s3, source_bucket, tmp_path):
    """Told to use the source bucket as its scratch bucket, the drill refuses (it is not tagged as scratch),
    records the error, leaves the later steps pending, drops the scratch database it had made, and never
    empties the source."""
    before = source_state(pg, s3, source_bucket)
    run_dir = tmp_path / "drill"
    proc = run_drill(pg, s3, source_bucket, run_dir, "-e", f"dr_drill_scratch_bucket={source_bucket}")
    assert proc.returncode != 0
    model = report(run_dir)
    status = {i["name"]: (i["status"], i["summary"]) for i in model["items"]}
    assert status["pg_scratch_copy"][0] == "pass"
    assert status["s3_scratch_copy"][0] == "fail" and "is not a scratch bucket" in status["s3_scratch_copy"][1]
    assert status["pg_restore"] == ("pending", "not run: the drill stopped after s3_scratch_copy")
    assert status["rto_rpo"][0] == "pending" and model["decision"] == "fail"
    assert "could not remove the scratch copies" in proc.stdout  # the source is refused as a scratch bucket
    after = source_state(pg, s3, source_bucket)
    assert after == before  # the source bucket is whole, and the scratch database was dropped
    assert "Traceback" not in proc.stdout
