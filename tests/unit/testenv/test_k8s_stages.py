"""kwok stage set: stock stages from kwok v0.8.0 plus the failure simulations, without overlaps."""

from __future__ import annotations

import yaml

from deploysafe_testenv.k8s import stages


def _by_name():
    return {d["metadata"]["name"]: d for d in stages.load_stages()}


def _keys(doc, op=None):
    return [e["key"] for e in doc["spec"]["selector"]["matchExpressions"] if op is None or e["operator"] == op]


def test_every_lifecycle_stage_is_present_once():
    names = [d["metadata"]["name"] for d in stages.load_stages()]
    assert len(names) == len(set(names))
    assert {"node-initialize", "node-heartbeat-with-lease", "pod-ready", "pod-complete", "pod-delete",
            "deploysafe-pod-never-ready", "deploysafe-pod-crash-loop"} <= set(names)


def test_failure_stages_select_with_the_documented_key():
    docs = _by_name()
    assert stages.simulated_key("never-ready") in _keys(docs["deploysafe-pod-never-ready"], "In")
    for name in ("deploysafe-pod-crash-loop", "deploysafe-pod-crash-loop-restart"):
        assert stages.simulated_key("crash-loop") in _keys(docs[name], "In")


def test_stock_pod_stages_exclude_simulated_pods():
    # kwok picks randomly among matching stages: a never-ready pod must not match pod-ready too.
    docs = _by_name()
    for name in stages.EXCLUDE_SIMULATED_FROM:
        assert set(_keys(docs[name], "NotIn")) >= {stages.simulated_key(m) for m in stages.SIMULATED_MODES}


def test_written_config_round_trips(tmp_path):
    path = stages.write_kwok_config(tmp_path / "kwok.yaml")
    assert list(yaml.safe_load_all(path.read_text())) == stages.load_stages()
