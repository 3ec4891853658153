"""The role read the image, wrote the reports and recorded a failing verdict (root user)."""

import json

RUN = "/tmp/molecule-preflight/run"


def test_reports_written(host):
    sarif = json.loads(host.file(f"{RUN}/image_validate/image_validate.sarif").content_string)
    rules = {r["ruleId"] for r in sarif["runs"][0]["results"]}
    assert {"image.user-root", "image.labels"} <= rules
    assert host.file(f"{RUN}/image_validate/image_validate.md").contains("image.user-root")


def test_verdict_recorded_with_size_measurement(host):
    record = json.loads(host.file(f"{RUN}/image_validate.json").content_string)
    assert record["verdict"]["status"] == "fail"
    sizes = {m["name"]: m for m in record["verdict"]["evidence"]["measurements"]}
    assert sizes["compressed_size"]["ok"] is True and sizes["compressed_size"]["unit"] == "MiB"
