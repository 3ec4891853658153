"""The four modules end to end through `ansible localhost -m ...` (argument spec, fail_json messages)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from load_helpers import ROOT, ansible


def test_load_test_module_pass_and_refusal(app, tmp_path):
    res = ansible("load_test", {"base_url": app["url"], "requests": ["/api/workspaces"], "profile": "smoke",
                                "time_scale": 0.01, "report_dir": str(tmp_path / "r")}, tmp_path)
    assert res["verdict"]["status"] == "pass" and (tmp_path / "r" / "load_test.html").exists()
    bad = ansible("load_test", {"requests": ["http://203.0.113.9/"]}, tmp_path)
    assert bad["failed"] and "not allowlisted" in bad["msg"] and "Traceback" not in json.dumps(bad)


def _check_mode(args: dict, tmp_path: Path) -> subprocess.CompletedProcess:
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(ROOT / ".collection"), ANSIBLE_LOCAL_TEMP=str(tmp_path))
    return subprocess.run([str(Path(sys.executable).parent / "ansible"), "localhost", "-i", "localhost,", "-c", "local",
                           "-e", f"ansible_python_interpreter={sys.executable}", "--check",
                           "-m", "deploysafe.preflight.load_test", "-a", json.dumps(args)],
                          capture_output=True, text=True, env=env, cwd=ROOT, timeout=120)


def test_load_test_check_mode_sends_nothing(app, tmp_path):
    out = _check_mode({"requests": [app["url"] + "/healthz"], "profile": "endurance", "max_duration": 7200}, tmp_path)
    assert out.returncode == 0 and "nothing sent" in out.stdout
    # the 2 h endurance profile does not fit the default 1 h bound: refused at plan time, also in check mode
    out = _check_mode({"requests": [app["url"] + "/healthz"], "profile": "endurance"}, tmp_path)
    assert out.returncode != 0 and "lasts 7200 s, longer than max_duration 3600 s" in out.stdout
    assert "Traceback" not in out.stdout


def test_health_check_module(app, tmp_path):
    res = ansible("health_check", {"url": app["url"] + "/healthz", "required_dependencies": ["postgres:connection"]},
                  tmp_path)
    assert res["verdict"]["status"] == "pass"
    bad = ansible("health_check", {"url": "gopher://x"}, tmp_path)
    assert bad["failed"] and "must start with http" in bad["msg"]


def test_pg_health_module(pg, tmp_path):
    args = {"login_host": pg["host"], "port": pg["port"], "login_user": pg["superuser"],
            "login_password": pg["superpassword"], "db": pg["dbname"]}
    res = ansible("pg_health", args, tmp_path)
    assert res["verdict"]["status"] == "pass"
    bad = ansible("pg_health", dict(args, login_password="wrong"), tmp_path)
    assert bad["failed"] and "cannot connect to PostgreSQL" in bad["msg"] and "wrong" not in bad["msg"]


def test_prometheus_gate_module(prometheus, tmp_path):
    res = ansible("prometheus_gate", {"url": prometheus["url"], "targets_up": True, "target_jobs": ["sample-app"],
                                      "alert_label_filters": {"service": "sample-app"},
                                      "queries": [{"query": "up", "comparison": "==", "threshold": 1}]}, tmp_path)
    assert res["verdict"]["status"] == "pass", res["verdict"]["summary"]
    nodata = ansible("prometheus_gate", {"url": prometheus["url"], "no_firing_alerts": False,
                                         "queries": [{"query": "nonexistent_metric_total", "threshold": 1}]}, tmp_path)
    assert nodata["verdict"]["status"] == "fail" and "no data" in nodata["verdict"]["summary"]
    down = ansible("prometheus_gate", {"url": "http://127.0.0.1:1"}, tmp_path)
    assert down["failed"] and "cannot reach" in down["msg"]
