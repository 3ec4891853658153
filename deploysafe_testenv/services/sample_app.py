"""The sample service (tests/sample_app/server.py) as a local process against the harness PostgreSQL."""

from __future__ import annotations

import json
import os
import sys
import urllib.request
from pathlib import Path

from deploysafe_testenv.env import Service, ServiceInfo
from deploysafe_testenv.process import free_port, spawn, wait_until

APP_DIR = Path(__file__).resolve().parents[2] / "tests" / "sample_app"


def _healthy(url: str) -> bool:
    with urllib.request.urlopen(url + "/healthz", timeout=2) as resp:
        return resp.status == 200


def set_faults(url: str, method: str = "POST", **faults) -> dict:
    """Plant faults in the sample service at url (POST, see tests/sample_app/faults.py) or reset them (DELETE);
    returns the settings now in force."""
    req = urllib.request.Request(url + "/admin/faults", method=method, data=json.dumps(faults).encode(),
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as resp:
        return json.loads(resp.read())


class SampleAppService(Service):
    name = "app"
    requires = ("postgres",)

    def start(self) -> ServiceInfo:
        pg = self.env["postgres"].data
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        log = self.dir / "app.log"
        env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
        env.update(PGHOST=str(pg["host"]), PGPORT=str(pg["port"]), PGUSER=str(pg["user"]),
                   PGPASSWORD=str(pg["password"]), PGDATABASE=str(pg["dbname"]), PYTHONUNBUFFERED="1")
        proc = spawn([sys.executable, str(APP_DIR / "server.py"), "--host", "127.0.0.1", "--port", str(port)],
                     log, env=env, cwd=APP_DIR, attached=self.env.attached)
        wait_until("sample app", lambda: _healthy(url), timeout=30, proc=proc, log_path=log)
        return ServiceInfo(name=self.name, pids=[proc.pid], ports=[port],
                           exports={"DEPLOYSAFE_APP_URL": url},
                           data={"url": url, "pid": proc.pid, "log": str(log)})
