"""An S3 repository on the harness MinIO over HTTPS (pgBackRest speaks no plain HTTP to S3): the role configures
it with the harness CA, takes a backup and proves a restore, in one run. Its own test environment: a second
archiving cluster, so that the local-repository stanza of the other tests keeps its archive_command."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from deploysafe_testenv import TestEnv
from pgbackrest_helpers import role_play


@pytest.fixture(scope="module")
def tls_env():
    env = TestEnv()
    try:
        env.start("postgres_archiving", "s3_tls")
        yield env["postgres_archiving"].data, env["s3_tls"].data
    finally:
        env.down()


def test_s3_repository_over_tls_backs_up_and_restores(tls_env, ansible_playbook, tmp_path):
    pg, s3 = tls_env
    base = Path(pg["home"]) / "pgbackrest"
    play = role_play(pg, base, pgbackrest_repo_type="s3", pgbackrest_repo_path="/pgbackrest",
                     pgbackrest_repo_s3_bucket=s3["bucket"], pgbackrest_repo_s3_endpoint=s3["endpoint_url"].split("://")[1],
                     pgbackrest_repo_s3_region=s3["region"], pgbackrest_repo_s3_key=s3["access_key"],
                     pgbackrest_repo_s3_key_secret=s3["secret_key"], pgbackrest_repo_s3_ca_file=s3["ca_file"],
                     pgbackrest_archive_timeout=30, pgbackrest_backup=True, pgbackrest_restore_verify=True,
                     preflight_run_dir=str(tmp_path / "run"))
    proc = ansible_playbook(play, "--diff")
    assert proc.returncode == 0, proc.stdout[-4000:]
    assert s3["secret_key"] not in proc.stdout + proc.stderr  # the file holds it; no diff of it is shown
    record = json.loads((tmp_path / "run" / "pgbackrest.json").read_text())
    verdict = record["verdict"]
    assert verdict["status"] == "pass", verdict["summary"]
    assert "s3://" + s3["bucket"] + "/pgbackrest" in verdict["summary"]
    assert {"pgbackrest_stanza", "pgbackrest_backup", "pgbackrest_restore_verify"} <= set(record["producer"]["modules"])
