"""The checklist role with checklist_textfile_dir writes the readiness metrics; the harness Prometheus scrapes
them (a loopback HTTP server serving the textfile directory as node_exporter's textfile collector does) and
every query of the shipped readiness dashboard returns data."""

from __future__ import annotations

import hashlib
import json
import os
import re
import urllib.parse
import urllib.request
from pathlib import Path

from deploysafe_testenv.process import wait_until
from role_play import record, role

ROOT = Path(__file__).resolve().parents[3]
DASHBOARD = ROOT / "files" / "grafana" / "readiness-dashboard.json"
PROM_FILE = "deploysafe_preflight_{}.prom"

def load_verdict(tmp_path):
    """A load-test JSON report (load.report's layout), and a load_test verdict naming it as its artifact."""
    report = tmp_path / "load" / "load.json"
    report.parent.mkdir()
    report.write_text(json.dumps({"stats": {"overall": {"requests": 6000, "ok": 5994, "errors": 6,
                                                        "error_rate": 0.001, "rps": 100.0, "p95_ms": 180.5,
                                                        "p99_ms": 390.0}}}))
    sha256 = hashlib.sha256(report.read_bytes()).hexdigest()
    return {"load_test": {
        "status": "pass", "summary": "p95 180 ms",
        "producer": {"collection": "deploysafe.preflight", "version": "0.1.0", "modules": ["load_test"]},
        "evidence": {"artifacts": [{"path": str(report), "kind": "json", "sha256": sha256}], "findings": {},
                     "measurements": [{"name": "p95_ms", "value": 180.5, "unit": "ms"}]}}}


def test_role_writes_the_readiness_metrics_once(ansible_playbook, tmp_path):
    run_dir, textfile_dir = tmp_path / "run", tmp_path / "textfile"
    textfile_dir.mkdir()
    record(ansible_playbook, run_dir, {"pg_backup": "fail"}, load_verdict(tmp_path))
    args = ("-e", f"checklist_textfile_dir={textfile_dir}", "-e", "checklist_fail_on=never")
    proc, result = role(ansible_playbook, run_dir, "checklist", *args)
    assert proc.returncode == 0, proc.stdout
    path = textfile_dir / PROM_FILE.format("pre-deployment_checklist")
    assert result["metrics_file"] == str(path) and os.listdir(textfile_dir) == [path.name]
    text = path.read_text()
    assert re.search(r'^deploysafe_preflight_decision\{title="Pre-deployment checklist",run_id="[^"]+",'
                     r'release="",decision="no-go"\} 1$', text, re.M), text
    assert ('deploysafe_preflight_item_status{title="Pre-deployment checklist",item="pg_backup",critical="true",'
            'status="fail"} 1') in text
    assert 'deploysafe_preflight_load_test_latency_p95_seconds{title="Pre-deployment checklist",report="load"} 0.1805' \
        in text
    # the same evidence again: nothing changes, the file keeps its bytes
    proc, again = role(ansible_playbook, run_dir, "checklist", *args)
    assert proc.returncode == 0 and not again["changed"] and path.read_text() == text


def test_missing_textfile_dir_fails_with_its_name(ansible_playbook, tmp_path):
    run_dir = tmp_path / "run"
    record(ansible_playbook, run_dir, {})
    proc, _ = role(ansible_playbook, run_dir, "checklist", "-e", f"checklist_textfile_dir={tmp_path}/none")
    assert proc.returncode != 0 and f"textfile directory {tmp_path}/none does not exist" in proc.stdout


def _get(url, path, **params):
    with urllib.request.urlopen(f"{url}{path}?{urllib.parse.urlencode(params)}", timeout=5) as resp:
        return json.loads(resp.read())


def _reload(prometheus):
    request = urllib.request.Request(prometheus["reload_url"], method="POST")
    with urllib.request.urlopen(request, timeout=10) as resp:
        assert resp.status == 200


def _dashboard_queries():
    doc = json.loads(DASHBOARD.read_text())
    for panel in doc["panels"]:
        for target in panel["targets"]:
            yield f"{panel['title']} {target['refId']}", target["expr"]
    for var in doc["templating"]["list"]:
        if var["type"] == "query":  # label_values(selector, label) is Grafana's; Prometheus answers the selector
            yield f"variable {var['name']}", re.match(r"label_values\((.*),\s*\w+\)$", var["query"]["query"]).group(1)


def test_prometheus_scrapes_the_decision_and_every_dashboard_query_answers(ansible_playbook, prometheus,
                                                                          loopback_http, tmp_path):
    run_dir, textfile_dir = tmp_path / "run", tmp_path / "textfile"
    textfile_dir.mkdir()
    record(ansible_playbook, run_dir, {}, load_verdict(tmp_path))
    title = "Readiness " + os.urandom(3).hex()  # this test's series only
    proc, _ = role(ansible_playbook, run_dir, "checklist", "-e", f"checklist_textfile_dir={textfile_dir}",
                   "-e", "checklist_fail_on=never", "-e", f"checklist_title='{title}'")
    assert proc.returncode == 0, proc.stdout

    def respond(handler):
        if handler.path != "/metrics":
            return 404, "text/plain", b"not found\n"
        return 200, "text/plain; version=0.0.4", b"".join(p.read_bytes() for p in textfile_dir.glob("*.prom"))

    netloc = urllib.parse.urlsplit(loopback_http(respond)).netloc
    target_file = Path(prometheus["targets_dir"]) / f"readiness-{title.split()[-1]}.json"
    target_file.write_text(json.dumps([{"targets": [netloc], "labels": {"job": "readiness-metrics-test"}}]))
    try:
        _reload(prometheus)
        decision = f'deploysafe_preflight_decision{{title="{title}"}} == 1'
        wait_until("the decision scraped", lambda: _get(prometheus["url"], "/api/v1/query", query=decision)
                   ["data"]["result"], timeout=30, log_path=Path(prometheus["log"]), interval=0.5)
        found = _get(prometheus["url"], "/api/v1/query", query=decision)["data"]["result"]
        assert [r["metric"]["decision"] for r in found] == ["pending"]  # no sign-off: never green
        for where, expr in _dashboard_queries():
            # the title is letters, digits and a space: no regex escaping needed
            query = expr.replace("$instance", ".*").replace("$title", title)
            answer = _get(prometheus["url"], "/api/v1/query", query=query)
            assert answer["status"] == "success" and answer["data"]["result"], f"{where}: {query} returns nothing"
    finally:
        target_file.unlink()
        _reload(prometheus)
