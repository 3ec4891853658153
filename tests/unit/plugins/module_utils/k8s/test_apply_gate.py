"""The real apply needs the checklist's go for the current run, and says why when it refuses."""

from __future__ import annotations

import json

import pytest

from ansible_collections.deploysafe.preflight.plugins.module_utils.k8s.apply_gate import (
    ApplyRefused, default_decision_file, require_go)
from ansible_collections.deploysafe.preflight.plugins.module_utils.run import tree_sha256


def release(tmp_path, image="app:2"):
    """A manifests directory; returns its paths list."""
    (tmp_path / "k8s").mkdir(exist_ok=True)
    (tmp_path / "k8s" / "app.yaml").write_text(f"kind: Deployment\nimage: {image}\n")
    return [str(tmp_path / "k8s")]


def run_dir(tmp_path, run_id="run-1", decision="go", report_run=None):
    manifests = tree_sha256(release(tmp_path))
    (tmp_path / "run.json").write_text(json.dumps({"format": 1, "run_id": run_id,
                                                   "release": {"manifests_sha256": manifests}}))
    if decision is not None:
        (tmp_path / "report").mkdir(exist_ok=True)
        (tmp_path / "report" / "checklist.json").write_text(json.dumps(
            {"decision": decision, "decision_reason": "why", "run_id": report_run or run_id}))
    return str(tmp_path)


def test_go_of_this_run_opens_the_gate(tmp_path):
    d = run_dir(tmp_path)
    go = require_go("", d, paths=release(tmp_path))
    assert go["run_id"] == "run-1" and go["decision_file"] == default_decision_file(d)
    assert go["manifests_sha256"].startswith("sha256:")
    assert default_decision_file(d).endswith("/report/checklist.json")


@pytest.mark.parametrize("decision, report_run, message", [
    ("no-go", None, r"the checklist decision in .* is no-go, not go \(why\)"),
    ("pending", None, "the checklist decision in .* is pending, not go"),
    ("go", "run-0", "the go in .* belongs to run run-0, not to the current run run-1"),
    (None, None, "no checklist report at .*checklist.json; run the checklist for run run-1 first"),
])
def test_refusals(tmp_path, decision, report_run, message):
    with pytest.raises(ApplyRefused, match="^apply refused: " + message):
        require_go("", run_dir(tmp_path, decision=decision, report_run=report_run), paths=release(tmp_path))


def test_run_id_must_match_run_json_and_a_run_is_needed(tmp_path):
    d = run_dir(tmp_path)
    with pytest.raises(ApplyRefused, match="belongs to run run-1, not to run run-2"):
        require_go("", d, "run-2", paths=release(tmp_path))
    with pytest.raises(ApplyRefused, match="no current run"):
        require_go(str(tmp_path / "report" / "checklist.json"), run_id="run-1")
    (tmp_path / "report" / "checklist.json").write_text("{not json")
    with pytest.raises(ApplyRefused, match="is unreadable"):
        require_go("", d, paths=release(tmp_path))


def test_the_go_is_spent_only_on_the_manifests_the_run_checked(tmp_path):
    d = run_dir(tmp_path)
    changed = release(tmp_path, image="app:3")  # edited after the checks passed
    with pytest.raises(ApplyRefused, match=r"^apply refused: the manifests hash sha256:\w+, not sha256:\w+ as run "
                                           r"run-1 recorded: these are not the manifests its checks passed"):
        require_go("", d, paths=changed)
    with pytest.raises(ApplyRefused, match=r"give the manifests as paths \(not content\)"):
        require_go("", d, content="kind: Deployment\n")
    (tmp_path / "run.json").write_text(json.dumps({"format": 1, "run_id": "run-1", "release": {}}))
    with pytest.raises(ApplyRefused, match="run run-1 recorded no manifests hash"):
        require_go("", d, paths=changed)
