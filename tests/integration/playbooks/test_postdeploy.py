"""playbooks/postdeploy.yml against the sample service and Prometheus: a clean deploy is go; a planted
wrong result (a check expecting another first hit, or the app's search index fault) and a blown latency
budget (the app's latency fault) fail the smoke check, naming it with expected vs actual or the measured ms."""

from __future__ import annotations

import json
import os
import re
import secrets
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]
CLEARED = ("DEPLOYSAFE_APP_URL", "DEPLOYSAFE_PROMETHEUS_URL", "DEPLOYSAFE_ALERTMANAGER_URL", "PREFLIGHT_RUN_DIR",
           "POSTDEPLOY_LOAD_TIME_SCALE")


def run_postdeploy(base: Path, env: dict, *args: str) -> subprocess.CompletedProcess:
    environ = {k: v for k, v in os.environ.items() if k not in CLEARED}
    environ.update(PREFLIGHT_RUN_DIR=str(base), ANSIBLE_COLLECTIONS_PATH=str(REPO / ".collection"), ANSIBLE_NOCOLOR="1",
                   POSTDEPLOY_LOAD_TIME_SCALE="0.03", **env)
    return subprocess.run([str(Path(sys.executable).parent / "ansible-playbook"), "playbooks/postdeploy.yml",
                           "-i", "examples/testenv/inventory.yml", *args],
                          cwd=REPO, env=environ, capture_output=True, text=True, timeout=900, check=False)


def report(base: Path) -> dict:
    return json.loads((base / "postdeploy" / "report" / "checklist.json").read_text())


def statuses(model: dict) -> dict:
    return {item["name"]: item["status"] for item in model["items"]}


def smoke_record(base: Path) -> dict:
    return json.loads((base / "postdeploy" / "smoke_check.json").read_text())


@pytest.fixture
def service_env(app, prometheus):
    return {"DEPLOYSAFE_APP_URL": app["url"], "DEPLOYSAFE_PROMETHEUS_URL": prometheus["url"],
            "DEPLOYSAFE_ALERTMANAGER_URL": prometheus["alertmanager_url"]}


def test_clean_deploy_passes_every_step_and_is_go(service_env, faults, tmp_path):
    base = tmp_path / "run"
    (base).mkdir()
    (base / "run.json").write_text('{"run_id": "the-predeploy-run"}')   # the predeploy run: left alone
    proc = run_postdeploy(base, service_env)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    model = report(base)
    assert model["decision"] == "go", (model["decision_reason"], statuses(model))
    assert statuses(model) == {"health_check": "pass", "monitoring_gate": "pass", "load_test": "pass", "smoke_check": "pass"}
    assert model["decision_reason"].endswith("no sign-off required (the checklist has no signoff item)")
    assert model["title"] == "Post-deployment checklist"
    assert (base / "run.json").read_text() == '{"run_id": "the-predeploy-run"}'
    record = smoke_record(base)
    assert record["run_id"] == model["run_id"] and record["producer"]["modules"] == ["smoke_check"]
    measured = {m["name"]: m for m in record["verdict"]["evidence"]["measurements"]}
    latency = measured["search returns the expected first result.latency_ms"]
    assert latency["ok"] and latency["threshold"] == 500 and latency["value"] > 0
    cases = ET.parse(base / "postdeploy" / "smoke_check" / "smoke_check.junit.xml").getroot().findall("testcase")
    assert [c.get("name") for c in cases] == ["search returns the expected first result", "workspaces list is not empty"]
    assert all(c.find("failure") is None for c in cases)
    assert (base / "postdeploy" / "smoke_check" / "smoke_check.md").exists()
    assert (base / "postdeploy" / "load_test" / "load_test.json").exists()


def test_a_wrong_first_result_fails_naming_the_check_expected_and_actual(app, faults, tmp_path):
    base = tmp_path / "run"
    token = secrets.token_hex(16)
    checks = [{"name": "search finds the restore guide", "url": "/api/search?q=backup",
               "expect": {"json": [{"path": "$.items[0].title", "equals": "How to restore postgres"}]}},
              {"name": "workspaces", "url": "/api/workspaces", "expect": {"json": [{"path": "$.items", "min_items": 1}]}}]
    extra = tmp_path / "checks.json"
    extra.write_text(json.dumps({"postdeploy_smoke_checks": checks, "postdeploy_smoke_retries": 0,
                                 "postdeploy_smoke_auth_token": token}))
    proc = run_postdeploy(base, {"DEPLOYSAFE_APP_URL": app["url"]}, "--tags", "smoke_check", "-e", f"@{extra}")
    assert proc.returncode != 0
    assert "Post-deployment checklist" in (base / "postdeploy" / "report" / "checklist.md").read_text()
    model = report(base)
    assert model["decision"] == "no-go" and "critical items failed: smoke_check" in model["decision_reason"]
    verdict = smoke_record(base)["verdict"]
    assert verdict["status"] == "fail"
    assert ('search finds the restore guide: $.items[0].title: expected "How to restore postgres", '
            'got "How to rotate backup for secret"') in verdict["summary"]
    assert "workspaces" not in verdict["summary"]   # the other check passed
    junit = ET.parse(base / "postdeploy" / "smoke_check" / "smoke_check.junit.xml").getroot()
    assert junit.get("failures") == "1" and junit.get("tests") == "2"
    written = proc.stdout + "".join(p.read_text() for p in (base / "postdeploy").rglob("*") if p.is_file())
    assert token not in written and "Traceback" not in proc.stdout


def failed_smoke_verdict(app: dict, base: Path) -> dict:
    """Run only the smoke checks (no retry) and return their recorded verdict, which must be fail."""
    proc = run_postdeploy(base, {"DEPLOYSAFE_APP_URL": app["url"]}, "--tags", "smoke_check",
                          "-e", "postdeploy_smoke_retries=0")
    assert proc.returncode != 0 and report(base)["decision"] == "no-go"
    verdict = smoke_record(base)["verdict"]
    assert verdict["status"] == "fail", verdict
    return verdict


def test_the_search_index_fault_is_a_wrong_result(app, faults, tmp_path):
    faults(search_index=False)   # the app falls back to a text scan: same hits, source "scan"
    verdict = failed_smoke_verdict(app, tmp_path / "run")
    assert 'search returns the expected first result: $.source: expected "index", got "scan"' in verdict["summary"]


def test_a_blown_latency_budget_fails_with_the_measured_ms(app, faults, tmp_path):
    faults(latency_ms=700, latency_paths=["/api/search"])
    verdict = failed_smoke_verdict(app, tmp_path / "run")
    match = re.search(r"search returns the expected first result: latency (\d+) ms over budget 500 ms", verdict["summary"])
    assert match and int(match.group(1)) >= 700, verdict["summary"]
    latency = next(m for m in verdict["evidence"]["measurements"]
                   if m["name"] == "search returns the expected first result.latency_ms")
    assert latency["ok"] is False and latency["value"] >= 700
    assert "workspaces list is not empty" not in verdict["summary"]   # only /api/search is slow


def test_check_mode_sends_only_reads_and_writes_nothing(app, tmp_path):
    base = tmp_path / "run"
    proc = run_postdeploy(base, {"DEPLOYSAFE_APP_URL": app["url"]}, "--tags", "smoke_check", "--check")
    assert proc.returncode == 0, proc.stdout[-4000:]
    assert not base.exists()


def test_the_predeploy_run_directory_is_refused(tmp_path):
    base = tmp_path / "run"
    proc = run_postdeploy(base, {}, "-e", f"preflight_run_dir={base}")
    assert proc.returncode != 0
    assert "set postdeploy_run_dir, not preflight_run_dir" in proc.stdout
    assert not base.exists()
