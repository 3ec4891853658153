"""The harness starts real servers, they answer real requests, and they leave nothing behind."""

from __future__ import annotations

import hashlib
import base64
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psycopg
import pytest
from botocore.exceptions import ClientError

from deploysafe_testenv import TestEnv, ServiceError
from deploysafe_testenv.process import pid_alive, port_is_free
from deploysafe_testenv.services.minio import s3_client

REPO = Path(__file__).resolve().parents[3]


def _pg_connect(data, **override):
    params = dict(host=data["host"], port=data["port"], user=data["user"], password=data["password"],
                  dbname=data["dbname"], connect_timeout=5)
    params.update(override)
    return psycopg.connect(**params)


def test_postgres_answers_and_is_seeded(pg):
    with _pg_connect(pg) as conn:
        assert conn.execute("select 1").fetchone() == (1,)
        assert conn.execute("select count(*) from orders").fetchone()[0] == 3000
        fks = conn.execute("select count(*) from pg_constraint where contype = 'f'").fetchone()[0]
        assert fks >= 3


def test_postgres_rejects_wrong_password(pg):
    with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
        _pg_connect(pg, password="not-the-password")


def test_s3_put_get_with_checksum(s3):
    client = s3_client(s3)
    body = os.urandom(4096)
    digest = base64.b64encode(hashlib.sha256(body).digest()).decode()
    put = client.put_object(Bucket=s3["bucket"], Key="harness/probe.bin", Body=body, ChecksumSHA256=digest)
    assert put["ChecksumSHA256"] == digest
    got = client.get_object(Bucket=s3["bucket"], Key="harness/probe.bin", ChecksumMode="ENABLED")
    assert got["Body"].read() == body
    assert client.get_bucket_versioning(Bucket=s3["bucket"])["Status"] == "Enabled"


def test_s3_rejects_wrong_credentials(s3):
    client = s3_client(s3, aws_secret_access_key="wrong-secret")
    with pytest.raises(ClientError) as err:
        client.list_objects_v2(Bucket=s3["bucket"])
    assert err.value.response["Error"]["Code"] in ("SignatureDoesNotMatch", "InvalidAccessKeyId")


def test_services_stop_and_free_their_ports():
    env = TestEnv()
    env.start("postgres", "s3")
    pids = [p for info in env.services.values() for p in info.pids]
    ports = [p for info in env.services.values() for p in info.ports]
    root = env.root
    env.down()
    assert not any(pid_alive(p) for p in pids)
    assert all(port_is_free(p) for p in ports)
    assert not root.exists()


def test_failed_start_names_the_service_and_stops_the_rest(tmp_path):
    """MinIO missing from an empty cache: `up` says which service, and PostgreSQL is stopped again."""
    run_dir = tmp_path / "env"
    proc = subprocess.run([sys.executable, "-m", "deploysafe_testenv", "--dir", str(run_dir), "up",
                           "--only", "postgres,s3"], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "DEPLOYSAFE_CACHE": str(tmp_path / "empty-cache")})
    assert proc.returncode == 1
    assert "service 's3' failed to start" in proc.stderr and "make minio" in proc.stderr
    assert "stopped the services that had started" in proc.stderr
    assert not run_dir.exists()
    assert "postgres" not in subprocess.run(["pgrep", "-af", str(run_dir)], capture_output=True, text=True).stdout


def test_unknown_service_is_rejected():
    with pytest.raises(ServiceError, match="unknown service 'nope'"):
        TestEnv().start("nope")


# The child acts as a harness run from a terminal, where Ctrl-C raises KeyboardInterrupt. A parent
# started without job control (`cmd &` in a script, nohup) hands its children SIGINT ignored, and Python
# then installs no handler: restore the terminal's disposition so the test checks the harness, not that.
_CHILD = """
import signal, sys, time
signal.signal(signal.SIGINT, signal.default_int_handler)
from deploysafe_testenv import TestEnv
with TestEnv() as env:
    env.start("postgres", "s3")
    print(env.root, *[p for i in env.services.values() for p in i.pids], flush=True)
    time.sleep(600)
"""


def _start_child():
    proc = subprocess.Popen([sys.executable, "-c", _CHILD], stdout=subprocess.PIPE, text=True, cwd=REPO)
    line = proc.stdout.readline().split()
    assert line, "child harness did not start"
    return proc, Path(line[0]), [int(p) for p in line[1:]]


def _wait_gone(pids, timeout=20.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and any(pid_alive(p) for p in pids):
        time.sleep(0.1)
    return not any(pid_alive(p) for p in pids)


def test_ctrl_c_leaves_no_servers_or_temp_dirs():
    proc, root, pids = _start_child()
    proc.send_signal(signal.SIGINT)
    proc.wait(timeout=60)
    assert _wait_gone(pids)
    assert not root.exists()


def test_killed_harness_takes_its_servers_down():
    """SIGKILL gives the harness no chance to clean up: the kernel's parent-death signal does it."""
    proc, root, pids = _start_child()
    proc.kill()
    proc.wait(timeout=10)
    try:
        assert _wait_gone(pids)
    finally:
        subprocess.run(["rm", "-rf", str(root)])
