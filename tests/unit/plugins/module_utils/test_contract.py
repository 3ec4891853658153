"""The contract's rules: one gate option, an earned pass, producers, runs."""

from __future__ import annotations

import json
import os
import subprocess

import pytest
import yaml

from ansible_collections.deploysafe.preflight.plugins.module_utils import run as runs
from ansible_collections.deploysafe.preflight.plugins.module_utils.verdict import (
    COLLECTION_VERSION, gate_failed, make_verdict, measurement, merge, produced_by, validate,
)

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))))


@pytest.mark.parametrize("status, fail_on, failed", [
    ("pass", "fail", False), ("pending", "fail", False), ("fail", "fail", True),
    ("pass", "pending", False), ("pending", "pending", True), ("fail", "pending", True),
    ("fail", "never", False), ("pending", "never", False),
])
def test_gate_option_has_one_meaning(status, fail_on, failed):
    assert gate_failed(status, fail_on) is failed


def test_gate_option_rejects_unknown_values():
    with pytest.raises(ValueError, match="fail_on must be one of"):
        gate_failed("pass", "warn")


def test_a_pass_without_evidence_is_pending_and_refused():
    verdict = make_verdict("pass", "all good")
    assert verdict["status"] == "pending" and "pass without evidence" in verdict["summary"]
    with pytest.raises(ValueError, match="must be earned"):
        validate({"status": "pass", "summary": "trust me", "evidence": {"artifacts": [], "findings": {}, "measurements": []}})


def test_a_measurement_not_ok_makes_the_verdict_fail():
    verdict = make_verdict("pass", "fast", measurements=[measurement("p95", 900, "ms", 500, "<=")])
    assert verdict["status"] == "fail" and "p95" in verdict["summary"]
    with pytest.raises(ValueError, match="not ok: p95"):
        validate(dict(verdict, status="pass"))


def test_producers_are_stamped_and_merged():
    a = produced_by(make_verdict("pass", "a", measurements=[measurement("x", 1, "n")]), "pg_backup")
    b = produced_by(make_verdict("pass", "b", measurements=[measurement("y", 1, "n")]), "backup_verify")
    merged = merge("both", [a, b])
    assert merged["producer"]["modules"] == ["pg_backup", "backup_verify"]
    assert merged["producer"]["version"] == COLLECTION_VERSION
    manual = make_verdict("fail", "by hand")
    assert "producer" not in merge("mixed", [a, manual])  # one manual part makes the whole manual


def test_merging_nothing_is_pending():
    assert merge("nothing", [])["status"] == "pending"


def test_collection_version_matches_galaxy_yml():
    with open(os.path.join(REPO, "galaxy.yml"), encoding="utf-8") as handle:
        assert yaml.safe_load(handle)["version"] == COLLECTION_VERSION


def test_a_new_run_replaces_the_old_and_joining_checks_the_id(tmp_path):
    changed, first, before = runs.start_or_join(str(tmp_path), release={"version": "1"})
    assert changed and before is None and first["run_id"]
    runs.store_run(str(tmp_path), first)
    changed, joined, _ = runs.start_or_join(str(tmp_path), first["run_id"], {"version": "1"})
    assert not changed and joined == first
    _, second, before = runs.start_or_join(str(tmp_path))
    assert second["run_id"] != first["run_id"] and before == first
    with pytest.raises(runs.RunError, match="belongs to run"):
        runs.start_or_join(str(tmp_path), "someone-else")
    with pytest.raises(runs.RunError, match="another release: version differ"):
        runs.start_or_join(str(tmp_path), first["run_id"], {"version": "2"})


def test_release_identity_from_real_files(tmp_path):
    image = tmp_path / "app.oci.tar"
    image.write_bytes(b"not really an image, but bytes to hash")
    manifests = tmp_path / "k8s"
    manifests.mkdir()
    (manifests / "deploy.yaml").write_text("kind: Deployment\n")
    repo = tmp_path / "src"
    repo.mkdir()
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    subprocess.run(["git", "-C", str(repo), "-c", "user.email=a@b", "-c", "user.name=a", "commit", "-q",
                    "--allow-empty", "-m", "x"], check=True)
    release = runs.release_identity(str(image), [str(manifests)], str(repo), {"version": "2.4.0"})
    assert release["image_digest"].startswith("sha256:") and release["manifests_sha256"].startswith("sha256:")
    assert len(release["repo_commit"]) == 40 and release["version"] == "2.4.0"
    (manifests / "deploy.yaml").write_text("kind: Deployment\nspec: {}\n")
    assert runs.release_identity("", [str(manifests)])["manifests_sha256"] != release["manifests_sha256"]
    with pytest.raises(runs.RunError, match="does not exist"):
        runs.release_identity(str(tmp_path / "missing.tar"))


def test_current_run_starts_one_when_the_directory_has_none(tmp_path):
    record = runs.current_run(str(tmp_path))
    assert json.loads((tmp_path / "run.json").read_text())["run_id"] == record["run_id"]
    assert runs.current_run(str(tmp_path))["run_id"] == record["run_id"]
    (tmp_path / "run.json").write_text("{broken")
    with pytest.raises(runs.RunError, match="unreadable"):
        runs.current_run(str(tmp_path))


def test_hosts_recording_at_once_start_one_run(tmp_path):
    from concurrent.futures import ThreadPoolExecutor
    with ThreadPoolExecutor(8) as pool:
        ids = set(pool.map(lambda _: runs.current_run(str(tmp_path))["run_id"], range(16)))
    assert len(ids) == 1 and json.loads((tmp_path / "run.json").read_text())["run_id"] in ids
    assert [p.name for p in tmp_path.iterdir()] == ["run.json"]
