"""Session fixtures that start real services through the test-environment harness.

Each service starts on first use and everything stops at the end of the session (also on Ctrl-C;
if the process is killed outright, the servers die with it through PR_SET_PDEATHSIG).
"""

from __future__ import annotations

import shutil
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from deploysafe_testenv import TestEnv
from deploysafe_testenv.services.sample_app import set_faults


@pytest.fixture(scope="session")
def testenv():
    env = TestEnv()
    try:
        yield env
    finally:
        env.down()


def _started(env: TestEnv, name: str):
    env.start(name)
    return env[name]


@pytest.fixture(scope="session")
def pg(testenv):
    """Connection data of the harness PostgreSQL (dict: host, port, user, password, dbname, superuser...)."""
    return _started(testenv, "postgres").data


@pytest.fixture(scope="session")
def pg_archiving(testenv):
    """A second PostgreSQL with WAL archiving on (wal_level replica, archive_mode on, archive_command left for
    ALTER SYSTEM), for pgBackRest; dict as `pg` plus data_dir, os_user (owner of the data directory), home."""
    return _started(testenv, "postgres_archiving").data


@pytest.fixture(scope="session")
def s3(testenv):
    """Connection data of the harness S3 server (dict: endpoint_url, access_key, secret_key, bucket...)."""
    return _started(testenv, "s3").data


@pytest.fixture(scope="session")
def app(testenv):
    """The sample service (dict: url, pid...)."""
    return _started(testenv, "app").data


@pytest.fixture
def faults(app):
    """faults(**settings) plants faults in the sample service (latency_ms, error_rate, search_index...);
    they are reset before and after the test."""
    set_faults(app["url"], "DELETE")
    yield lambda **kw: set_faults(app["url"], **kw)
    set_faults(app["url"], "DELETE")


@pytest.fixture(scope="session")
def k8s(testenv):
    """Local Kubernetes control plane with kwok nodes (dict: kubeconfig, kubeconfig_restricted,
    restricted_namespace, server...). Skipped only when its binaries are not built AND there is no Go
    toolchain to build them; a missing build with Go present fails and names `make k8s-bins`."""
    from deploysafe_testenv.services.k8s import missing_binaries

    if missing_binaries(testenv.cache_dir) and shutil.which("go") is None:
        pytest.skip("Go toolchain absent: cannot build the Kubernetes control plane (make k8s-bins)")
    return _started(testenv, "k8s").data


@pytest.fixture(scope="session")
def prometheus(testenv):
    """Prometheus + Alertmanager scraping the sample service (dict: url, alertmanager_url...)."""
    return _started(testenv, "prometheus").data


class PlaybookRun:
    """Runs a playbook text with the venv's ansible-playbook against localhost."""

    def __init__(self, workdir):
        self.workdir = workdir

    def __call__(self, play: str, *args: str, extra_env=None, timeout=600):
        import os
        import subprocess
        import sys
        from pathlib import Path

        repo = Path(__file__).resolve().parents[1]
        path = self.workdir / f"play-{abs(hash(play))}.yml"
        path.write_text(play)
        env = {**os.environ, "ANSIBLE_COLLECTIONS_PATH": str(repo / ".collection"), "ANSIBLE_NOCOLOR": "1",
               "ANSIBLE_LOCAL_TEMP": str(self.workdir / "ansible-tmp"), **(extra_env or {})}
        binary = str(Path(sys.executable).parent / "ansible-playbook")
        return subprocess.run([binary, str(path), *args], capture_output=True, text=True, cwd=repo, env=env,
                              timeout=timeout)


@pytest.fixture
def ansible_playbook(tmp_path):
    """ansible_playbook(play_text, *cli_args) -> CompletedProcess."""
    return PlaybookRun(tmp_path)


@pytest.fixture(scope="session")
def session_ansible_playbook(tmp_path_factory):
    """ansible_playbook for session-scoped fixtures (one shared work directory)."""
    return PlaybookRun(tmp_path_factory.mktemp("play"))


@pytest.fixture
def loopback_http():
    """serve(respond) -> base URL of a real HTTP/1.1 server on 127.0.0.1. respond(request) is called for
    each GET with the http.server handler and returns (status, content_type or None, body bytes).
    Every server started stops with the test."""
    servers = []

    def serve(respond):
        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self):  # noqa: N802 (http.server's name)
                status, content_type, body = respond(self)
                self.send_response(status)
                if content_type:
                    self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}"

    yield serve
    for server in servers:
        server.shutdown()
        server.server_close()
