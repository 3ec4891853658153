"""The role read the image, wrote the reports and recorded a failing verdict (root user), in the scenario's
own directory that cleanup emptied first."""

import json

BASE = "/tmp/molecule-image_validate"
RUN = f"{BASE}/run"


def test_run_directory_holds_only_this_run(host):
    assert sorted(host.file(RUN).listdir()) == ["image_validate", "image_validate.json", "run.json"]  # run.json: the run it belongs to


def test_reports_written(host):
    sarif = json.loads(host.file(f"{RUN}/image_validate/image_validate.sarif").content_string)
    rules = {r["ruleId"] for r in sarif["runs"][0]["results"]}
    assert {"image.user-root", "image.labels"} <= rules
    assert host.file(f"{RUN}/image_validate/image_validate.md").contains("image.user-root")


def test_verdict_recorded_with_size_and_coverage_measurements(host):
    record = json.loads(host.file(f"{RUN}/image_validate.json").content_string)
    assert record["verdict"]["status"] == "fail"
    measured = {m["name"]: m for m in record["verdict"]["evidence"]["measurements"]}
    assert measured["compressed_size"]["ok"] is True and measured["compressed_size"]["unit"] == "MiB"
    assert measured["layers_read"]["value"] == 1 and measured["files_in_image"]["value"] > 0
