"""verify-full without environment tricks: the harness PostgreSQL is switched to TLS for this module
(a throw-away CA signs a certificate for 127.0.0.1; ALTER SYSTEM + reload, reset afterwards) and the
modules connect with ca_cert, client_cert and client_key - or the community.postgresql aliases.

pg_dump and pg_restore only get the CA through the environment the modules build: with sslmode
verify-full and no ~/.postgresql/root.crt, libpq refuses to connect without it, so a passing backup
and restore-verify prove the TLS options reached the client programs too."""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from ansible_collections.deploysafe.preflight.plugins.module_utils.pg import PgError
from ansible_collections.deploysafe.preflight.plugins.module_utils.pg.connection import ConnParams, connect
from tests.integration.module_runner import run_module as run_module_with_env

SETTINGS = ("ssl", "ssl_cert_file", "ssl_key_file", "ssl_ca_file")


def openssl(*args, cwd):
    run = subprocess.run(["openssl", *args], cwd=cwd, capture_output=True, text=True)
    assert run.returncode == 0, run.stderr


def issue(cwd, name, cn, ca=None, san=None):
    """An EC key and a certificate for cn, self-signed (a CA) or signed by ca."""
    openssl("req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
            "-keyout", f"{name}.key", "-out", f"{name}.csr", "-subj", f"/CN={cn}", cwd=cwd)
    if ca is None:
        (Path(cwd) / "ca.ext").write_text("basicConstraints=critical,CA:TRUE\nkeyUsage=keyCertSign,cRLSign\n")
        openssl("x509", "-req", "-in", f"{name}.csr", "-signkey", f"{name}.key", "-out", f"{name}.crt", "-days", "2",
                "-extfile", "ca.ext", cwd=cwd)
    else:
        (Path(cwd) / f"{name}.ext").write_text(f"subjectAltName={san}\n" if san else "basicConstraints=CA:FALSE\n")
        openssl("x509", "-req", "-in", f"{name}.csr", "-CA", f"{ca}.crt", "-CAkey", f"{ca}.key", "-CAcreateserial",
                "-out", f"{name}.crt", "-days", "2", "-extfile", f"{name}.ext", cwd=cwd)
    os.chmod(Path(cwd) / f"{name}.key", 0o600)


def server_ssl_on(superuser) -> bool:
    with connect(superuser, autocommit=True, pin=False) as conn:
        return conn.execute("SHOW ssl").fetchone()[0] == "on"


@pytest.fixture(scope="module")
def tls(superuser, pg):
    if not shutil.which("openssl"):
        pytest.skip("openssl is not installed")
    # The server runs as nobody when the tests run as root: the files must be reachable and its key its own.
    certs = Path(tempfile.mkdtemp(prefix="deploysafe-pg-tls-"))
    os.chmod(certs, 0o755)
    issue(certs, "ca", "deploysafe test CA")
    issue(certs, "other_ca", "some other CA")
    issue(certs, "server", "127.0.0.1", ca="ca", san="IP:127.0.0.1,DNS:localhost")
    issue(certs, "client", pg["user"], ca="ca")
    if os.geteuid() == 0:
        nobody = pwd.getpwnam("nobody")
        os.chown(certs / "server.key", nobody.pw_uid, nobody.pw_gid)
    with connect(superuser, autocommit=True, pin=False) as conn:
        for name, value in (("ssl_cert_file", certs / "server.crt"), ("ssl_key_file", certs / "server.key"),
                            ("ssl_ca_file", certs / "ca.crt"), ("ssl", "on")):
            conn.execute(f"ALTER SYSTEM SET {name} = '{value}'")
        conn.execute("SELECT pg_reload_conf()")
    try:
        deadline = time.monotonic() + 20
        while not server_ssl_on(superuser):
            assert time.monotonic() < deadline, f"PostgreSQL did not turn TLS on; see {pg['log']}"
            time.sleep(0.2)
        yield {"ca": str(certs / "ca.crt"), "other_ca": str(certs / "other_ca.crt"),
               "cert": str(certs / "client.crt"), "key": str(certs / "client.key")}
    finally:
        with connect(superuser, autocommit=True, pin=False) as conn:
            for name in SETTINGS:
                conn.execute(f"ALTER SYSTEM RESET {name}")
            conn.execute("SELECT pg_reload_conf()")
        shutil.rmtree(certs, ignore_errors=True)


def test_verify_full_with_client_certificate(app_db, tls):
    params = ConnParams(**{**app_db.__dict__, "sslmode": "verify-full", "ca_cert": tls["ca"],
                           "client_cert": tls["cert"], "client_key": tls["key"]})
    with connect(params, autocommit=True) as conn:
        ssl, client_dn = conn.execute(
            "SELECT ssl, client_dn FROM pg_stat_ssl WHERE pid = pg_backend_pid()").fetchone()
    assert ssl is True and client_dn == f"/CN={app_db.user}"


def test_wrong_ca_is_refused_with_a_clear_reason(app_db, tls):
    params = ConnParams(**{**app_db.__dict__, "sslmode": "verify-full", "ca_cert": tls["other_ca"]})
    with pytest.raises(PgError, match="TLS verification failed.*set ca_cert"):
        connect(params)
    missing = ConnParams(**{**app_db.__dict__, "sslmode": "verify-full"})
    if not Path("~/.postgresql/root.crt").expanduser().exists():
        with pytest.raises(PgError, match="TLS verification failed"):
            connect(missing)


def run_module(name, args):
    """Without any PGSSL* variable of the calling environment: only the module options may carry TLS."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PGSSL")}
    return run_module_with_env(name, args, env=env)


def test_modules_verify_full_through_ansible(pg, tls, tmp_path, list_scratch_dbs):
    assert not Path("~/.postgresql/root.crt").expanduser().exists(), "a default root.crt would hide a missing ca_cert"
    # community.postgresql names for the connection, libpq names for TLS.
    conn = {"login_host": "127.0.0.1", "login_port": pg["port"], "login_user": pg["user"],
            "login_password": pg["password"], "login_db": pg["dbname"], "ssl_mode": "verify-full",
            "ca_cert": tls["ca"], "client_cert": tls["cert"], "client_key": tls["key"]}
    backup = run_module("pg_backup", {**conn, "dest": str(tmp_path)})
    assert backup["verdict"]["status"] == "pass", backup.get("msg")
    health = run_module("pg_health", {**conn, "fail_on": "fail"})
    assert health["verdict"]["status"] == "pass", health.get("msg")
    admin = {"host": "127.0.0.1", "port": pg["port"], "user": pg["superuser"], "password": pg["superpassword"],
             "sslmode": "verify-full", "ssl_rootcert": tls["ca"]}
    proven = run_module("pg_restore_verify", {**admin, "path": backup["path"], "jobs": 2})
    assert proven["verdict"]["status"] == "pass", proven.get("msg")
    assert proven["scratch_db"] not in list_scratch_dbs()
    refused = run_module("pg_health", {**conn, "ca_cert": tls["other_ca"]})
    assert refused.get("failed") and "TLS verification failed" in refused["msg"]
