"""The shipped backup alert rules fire for real in the harness Prometheus.

The backup_metrics module turns status files into a .prom file; a loopback HTTP server exposes the textfile
directory the way node_exporter's textfile collector does (every *.prom file), and the harness Prometheus
scrapes it (file_sd target) and evaluates a copy of files/prometheus/backup-alerts.yml whose `for:` are
shortened to 2 s (what a user does in their own copy). Only the clock of the status is faked (its
timestamps); Prometheus keeps its own time.

fresh status -> no alert; stale last success -> BackupTooOld; failed run -> BackupFailed; unverified newest
backup -> BackupUnverified. Every query of the Grafana dashboard returns data from the scraped metrics.
"""

from __future__ import annotations

import json
import os
import re
import time
import urllib.parse
import urllib.request
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import yaml

from deploysafe_testenv.process import wait_until
from tests.integration.module_runner import run_module

ROOT = Path(__file__).resolve().parents[3]
RULES = ROOT / "files" / "prometheus" / "backup-alerts.yml"
DASHBOARD = ROOT / "files" / "grafana" / "backup-dashboard.json"
WAIT = 30  # seconds per state change; scrape, file_sd refresh and evaluation are 1 s, for: 2 s
ALERTS = ("BackupTooOld", "BackupUnverified", "BackupFailed")


def _get(url: str, path: str, **params) -> dict:
    query = ("?" + urllib.parse.urlencode(params)) if params else ""
    with urllib.request.urlopen(url + path + query, timeout=5) as resp:
        return json.loads(resp.read())


def _reload(prometheus: dict) -> None:
    request = urllib.request.Request(prometheus["reload_url"], method="POST")
    with urllib.request.urlopen(request, timeout=10) as resp:
        assert resp.status == 200


def _iso(when: datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


def _status(schedule: str, *, success_age: timedelta, ok: bool = True, verified_age: timedelta = None) -> dict:
    """A status document as the job writes it, with timestamps relative to the real now (the faked clock)."""
    now = datetime.now(timezone.utc)
    success = now - success_age
    verified = now - (verified_age if verified_age is not None else success_age)
    return {
        "format": "deploysafe.preflight/backup-status", "format_version": 1, "name": schedule, "kind": "pg",
        "location": f"/var/backups/{schedule}",
        "last_run": {"started_at": _iso(now - timedelta(seconds=30)), "finished_at": _iso(now if not ok else success),
                     "duration_s": 12.5, "ok": ok},
        "last_success": {"finished_at": _iso(success), "duration_s": 12.5, "size_bytes": 4096,
                         "artifact": f"/var/backups/{schedule}/x.dump.zst", "verification": "pass", "kept": 3,
                         "removed": []},
        "last_verified": {"finished_at": _iso(verified), "artifact": "x"},
        "last_failure": None if ok else {"finished_at": _iso(now), "step": "backup", "message": "refused"},
    }


class Monitor:
    """The schedule under test: write its status, export it, and read what Prometheus makes of it."""

    def __init__(self, prometheus: dict, workdir: Path, schedule: str):
        self.url = prometheus["url"]
        self.log = Path(prometheus["log"])
        self.schedule = schedule
        self.status_file = workdir / f"{schedule}.status.json"
        self.textfile_dir = workdir / "textfile"

    def wait(self, what: str, probe) -> None:
        """Poll probe until true; on timeout the error shows the tail of Prometheus's log."""
        wait_until(what, probe, timeout=WAIT, log_path=self.log, interval=0.5)

    def export(self, status: dict) -> None:
        self.status_file.write_text(json.dumps(status))
        result = run_module("backup_metrics", {"status_file": str(self.status_file),
                                               "textfile_dir": str(self.textfile_dir), "max_age": "1h"})
        assert not result.get("failed"), result

    def scraped(self, name: str):
        """The value Prometheus has for metric `name` of this schedule, or None."""
        found = _get(self.url, "/api/v1/query", query=f'{name}{{schedule="{self.schedule}"}}')["data"]["result"]
        return float(found[0]["value"][1]) if found else None

    def alerts(self) -> dict:
        """alertname -> state (pending/firing) of this schedule's backup alerts."""
        alerts = _get(self.url, "/api/v1/alerts")["data"]["alerts"]
        return {a["labels"]["alertname"]: a["state"] for a in alerts
                if a["labels"].get("schedule") == self.schedule and a["labels"]["alertname"] in ALERTS}

    def group(self):
        groups = _get(self.url, "/api/v1/rules", type="alert")["data"]["groups"]
        return next((g for g in groups if g["name"] == "deploysafe-backup"), None)

    def show(self, status: dict, scraped_metric: str, expected: float) -> None:
        """Export the status and wait until Prometheus has scraped it and evaluated the rules 3 times since."""
        self.export(status)
        self.wait(f"{scraped_metric} = {expected}", lambda: self.scraped(scraped_metric) == expected)
        seen = time.time()
        self.wait("3 rule evaluations after the scrape", lambda: _evaluated_after(self.group(), seen + 3))


def _evaluated_after(group, epoch: float) -> bool:
    if not group or not group.get("lastEvaluation"):
        return False
    stamp = re.sub(r"\.(\d{6})\d*", r".\1", group["lastEvaluation"].replace("Z", "+00:00"))
    return datetime.fromisoformat(stamp).timestamp() > epoch


@pytest.fixture
def monitor(prometheus, loopback_http, tmp_path):
    """A scrape target serving the textfile directory and the alert rules (for: 2 s) loaded; removed after."""
    schedule = "alerts-" + os.urandom(3).hex()
    mon = Monitor(prometheus, tmp_path, schedule)
    mon.textfile_dir.mkdir()

    def respond(handler):
        if handler.path != "/metrics":
            return 404, "text/plain", b"not found\n"
        body = b"".join(p.read_bytes() for p in sorted(mon.textfile_dir.glob("*.prom")))
        return 200, "text/plain; version=0.0.4", body

    base = loopback_http(respond)
    rules = yaml.safe_load(RULES.read_text())
    for group in rules["groups"]:
        for rule in group["rules"]:
            rule["for"] = "2s"
    rule_file = Path(prometheus["rules_dir"]) / f"{schedule}.yml"
    target_file = Path(prometheus["targets_dir"]) / f"{schedule}.json"
    rule_file.write_text(yaml.safe_dump(rules, sort_keys=False))
    target_file.write_text(json.dumps([{"targets": [urllib.parse.urlsplit(base).netloc],
                                        "labels": {"job": "backup-alerts-test"}}]))
    try:
        _reload(prometheus)
        mon.wait("the backup alert rules to load", mon.group)
        assert {r["name"] for r in mon.group()["rules"]} == set(ALERTS)
        yield mon
    finally:
        rule_file.unlink()
        target_file.unlink()
        _reload(prometheus)


def test_backup_alerts_fire_when_the_status_goes_bad(monitor):
    # fresh: succeeded a minute ago, verified, last run fine -> nothing pending, nothing firing
    monitor.show(_status(monitor.schedule, success_age=timedelta(minutes=1)),
                 "deploysafe_backup_last_run_success", 1)
    assert monitor.alerts() == {}
    assert all(rule["health"] == "ok" for rule in monitor.group()["rules"]), monitor.group()

    # stale: the last success is 2 h old, max_age is 1 h -> BackupTooOld, and only that
    monitor.export(_status(monitor.schedule, success_age=timedelta(hours=2)))
    monitor.wait("BackupTooOld firing", lambda: monitor.alerts().get("BackupTooOld") == "firing")
    assert set(monitor.alerts()) == {"BackupTooOld"}

    # the last run failed (the success before it is recent) -> BackupFailed; BackupTooOld resolves
    monitor.export(_status(monitor.schedule, success_age=timedelta(minutes=1), ok=False))
    monitor.wait("BackupFailed firing and BackupTooOld resolved", lambda: monitor.alerts() == {"BackupFailed": "firing"})

    # a success whose backup did not verify (the last verified one is a day old) -> BackupUnverified
    monitor.export(_status(monitor.schedule, success_age=timedelta(minutes=1), verified_age=timedelta(days=1)))
    monitor.wait("BackupUnverified firing alone", lambda: monitor.alerts() == {"BackupUnverified": "firing"})


def _dashboard_queries(schedule: str):
    doc = json.loads(DASHBOARD.read_text())
    for panel in doc["panels"]:
        for target in panel["targets"]:
            yield f"{panel['title']} {target['refId']}", target["expr"]
    for var in doc["templating"]["list"]:
        if var["type"] == "query":
            # label_values(selector, label) is Grafana's; Prometheus answers the selector
            yield f"variable {var['name']}", re.match(r"label_values\((.*),\s*\w+\)$", var["query"]["query"]).group(1)


def test_every_dashboard_query_returns_data(monitor):
    failed = _status(monitor.schedule, success_age=timedelta(minutes=5), ok=False)
    monitor.show(failed, "deploysafe_backup_last_run_success", 0)
    checked = 0
    for where, expr in _dashboard_queries(monitor.schedule):
        query = expr.replace("$instance", ".*").replace("$schedule", monitor.schedule)
        answer = _get(monitor.url, "/api/v1/query", query=query)
        assert answer["status"] == "success", (where, query, answer)
        assert answer["data"]["result"], f"{where}: {query} returns nothing"
        checked += 1
    assert checked >= 9
