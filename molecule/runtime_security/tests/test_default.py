"""The released namespace recorded a pass with its snapshot; the next release's privileged agent is a
new finding that fails against that baseline; check mode wrote and recorded nothing."""

import json

RUN = "/tmp/molecule-runtime_security"


def load(host, path):
    return json.loads(host.file(f"{RUN}/{path}").content_string)


def test_released_namespace_passes_and_saves_its_snapshot(host):
    verdict = load(host, "release-1/runtime_security.json")["verdict"]
    assert verdict["status"] == "pass", verdict["summary"]
    snapshot = load(host, "release-1/runtime_security/snapshot.json")
    assert snapshot["findings"] == [] and snapshot["inspected"]["pods"] == 2
    assert any(a["kind"] == "runtime-snapshot" for a in verdict["evidence"]["artifacts"])


def test_new_privileged_container_fails_against_the_baseline(host):
    record = load(host, "release-2/runtime_security.json")
    assert record["verdict"]["status"] == "fail"
    assert "runtime.privileged Deployment/agent: container agent is privileged" in record["verdict"]["summary"]
    assert [d["check_id"] for d in record["details"]["diff"]["new"]] == ["runtime.privileged"]
    assert host.file(f"{RUN}/release-2/runtime_security/runtime_security.sarif").exists


def test_check_mode_wrote_nothing(host):
    assert not host.file(f"{RUN}/check").exists
