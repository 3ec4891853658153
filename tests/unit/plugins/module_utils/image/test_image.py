"""image_validate: OCI/docker archives built with tarfile; every check planted and clean."""

from __future__ import annotations

import gzip
import json
import tarfile
import xml.etree.ElementTree as ET

import pytest

from ansible_collections.deploysafe.preflight.plugins.module_utils.findings.report import finish_scan
from ansible_collections.deploysafe.preflight.plugins.module_utils.image import (
    ImageError, all_checks, image_evidence, validate_image,
)
from ansible_collections.deploysafe.preflight.plugins.module_utils.image.checks import ImagePolicy
from ansible_collections.deploysafe.preflight.plugins.module_utils.verdict import validate

from .ocibuild import CLEAN_LAYER, build, default_config, layer_bytes

GH = "ghp_" + "Zx8kQ2mP9wL4rT7vB1nC5yH3jF6gD0sA2eKu"


def ids(findings):
    return sorted({f.check_id for f in findings})


def run(path, **policy):
    findings, facts = validate_image(path, policy=ImagePolicy(**policy))
    return findings, facts


@pytest.mark.parametrize("fmt", ["oci-layout", "oci-archive", "docker-archive"])
def test_clean_image_has_no_findings_in_every_format(tmp_path, fmt):
    path = build(tmp_path, [layer_bytes(CLEAN_LAYER)], fmt=fmt)
    findings, facts = run(path, reference="registry.example/app:1.4.2@sha256:" + "c" * 64,
                          max_compressed_mb=10, max_uncompressed_mb=10)
    assert [f.message for f in findings] == []
    assert facts["format"] == fmt and facts["layers"] == 1 and facts["files"] == 5


def planted(tmp_path, check_id):
    """(image path, policy) with the defect for check_id."""
    layers, config, tag, fmt, policy = [layer_bytes(CLEAN_LAYER)], default_config(), "registry.example/app:1.4.2", \
        "oci-archive", {}
    if check_id == "image.user-root":
        config["User"] = "root"
    elif check_id == "image.tag-latest":
        tag = "registry.example/app:latest"
    elif check_id == "image.digest-unknown":
        fmt = "docker-archive"
    elif check_id == "image.size":
        layers.append(layer_bytes([("big.bin", b"\0" * (3 * 1024 * 1024), 0o644)]))
        policy["max_uncompressed_mb"] = 2
    elif check_id == "image.healthcheck":
        config.pop("Healthcheck")
    elif check_id == "image.labels":
        config["Labels"].pop("org.opencontainers.image.revision")
    elif check_id == "secret.github-token":
        config["Env"].append(f"GITHUB_TOKEN={GH}")
    elif check_id == "image.setuid":
        layers.append(layer_bytes([("usr", None, 0o755), ("usr/bin", None, 0o755), ("usr/bin/helper", "x", 0o4755)]))
    elif check_id == "image.world-writable":
        layers.append(layer_bytes([("data", None, 0o777)]))
    elif check_id == "image.package-cache":
        layers.append(layer_bytes([("var/cache/apt/archives/curl_8.deb", "deb", 0o644)]))
    elif check_id == "image.compiler":
        layers.append(layer_bytes([("usr/bin/gcc-12", "ELF", 0o755)]))
    elif check_id == "image.unsafe-path":
        layers.append(layer_bytes([("../../etc/cron.d/evil", "* * * * * root sh\n", 0o644)]))
    elif check_id == "image.layer-unreadable":
        layers.append(layer_bytes([("x", "y" * 5000, 0o644)])[:-40])
    return build(tmp_path, layers, config, tag, fmt), policy


PLANTED = ["image.user-root", "image.tag-latest", "image.digest-unknown", "image.size", "image.healthcheck",
           "image.labels", "secret.github-token", "image.setuid", "image.world-writable", "image.package-cache",
           "image.compiler", "image.unsafe-path", "image.layer-unreadable"]


@pytest.mark.parametrize("check_id", PLANTED)
def test_planted_defect_fires(tmp_path, check_id):
    path, policy = planted(tmp_path, check_id)
    findings, _ = run(path, **policy)
    assert check_id in ids(findings), [f.message for f in findings]
    assert all(GH not in str(f.to_dict()) for f in findings)


def test_secret_in_a_layer_file_is_found_even_if_deleted_later(tmp_path):
    layers = [layer_bytes(CLEAN_LAYER + [("app/.env", f"TOKEN={GH}\n", 0o600)]),
              layer_bytes([("app/.wh..env", "", 0o644)])]
    findings, facts = run(build(tmp_path, layers))
    (secret,) = [f for f in findings if f.check_id == "secret.github-token"]
    assert secret.location.file == "/app/.env" and secret.location.layer.startswith("sha256:")
    assert facts["files"] == 5  # the whiteout removed /app/.env from the final filesystem


def test_whiteouts_and_opaque_dirs_hide_lower_layer_files(tmp_path):
    layers = [layer_bytes(CLEAN_LAYER + [("usr", None, 0o755), ("usr/bin", None, 0o755), ("usr/bin/gcc", "E", 0o755),
                                         ("var/cache/apk/APKINDEX.tar.gz", "x", 0o644)]),
              layer_bytes([("usr/bin/.wh.gcc", "", 0o644), ("var/cache/apk/.wh..wh..opq", "", 0o644),
                           ("var/cache/apk/keep.txt", "lock", 0o644)])]
    findings, _ = run(build(tmp_path, layers))
    assert "image.compiler" not in ids(findings)
    (cache,) = [f for f in findings if f.check_id == "image.package-cache"]
    assert "1 file(s)" in cache.message  # only the upper layer's file remains


def test_healthcheck_waived_when_probes_are_defined(tmp_path):
    config = default_config()
    config.pop("Healthcheck")
    path = build(tmp_path, [layer_bytes(CLEAN_LAYER)], config)
    assert "image.healthcheck" not in ids(run(path, probes_defined=True)[0])


def test_allowed_setuid_and_sticky_tmp(tmp_path):
    layer = layer_bytes(CLEAN_LAYER + [("usr", None, 0o755), ("usr/bin", None, 0o755), ("usr/bin/su", "x", 0o4755)])
    path = build(tmp_path, [layer])
    assert "image.setuid" not in ids(run(path, allowed_setuid=["/usr/bin/su"])[0])


def test_secret_in_history_and_labels(tmp_path):
    config = default_config()
    config["Labels"]["ci.token"] = GH
    path = build(tmp_path, [layer_bytes(CLEAN_LAYER)], config,
                 history=[{"created_by": f"RUN git clone https://ci:{GH}@git.example/app"}])
    pointers = {f.location.pointer for f in run(path)[0] if f.check_id.startswith("secret.")}
    assert "/config/Labels/ci.token" in pointers and "/history/0/created_by" in pointers


def test_unsafe_member_is_never_written_anywhere(tmp_path):
    path, _ = planted(tmp_path, "image.unsafe-path")
    findings, _ = run(path)
    (bad,) = [f for f in findings if f.check_id == "image.unsafe-path"]
    assert bad.location.file == "../../etc/cron.d/evil"
    assert not (tmp_path.parent.parent / "etc" / "cron.d" / "evil").exists()


@pytest.mark.parametrize("kind", ["truncated", "not-a-tar", "empty-tar", "missing"])
def test_bad_archives_are_clear_errors(tmp_path, kind):
    path = tmp_path / "image.tar"
    if kind == "truncated":
        good = build(tmp_path, [layer_bytes(CLEAN_LAYER + [("big", "z" * 200000, 0o644)], compress=False)])
        data = open(good, "rb").read()
        path.write_bytes(data[: len(data) // 2])
    elif kind == "not-a-tar":
        path.write_bytes(gzip.compress(b"this is not an image"))
    elif kind == "empty-tar":
        with tarfile.open(path, "w"):
            pass
    with pytest.raises(ImageError) as info:
        validate_image(str(path))
    assert str(path) in str(info.value)


def test_dockerfile_lint_joins_the_findings(tmp_path):
    dockerfile = tmp_path / "Dockerfile"
    dockerfile.write_text("FROM debian:latest\nADD https://x.test/tool /usr/bin/tool\nUSER 10001\n")
    findings, _ = validate_image(build(tmp_path, [layer_bytes(CLEAN_LAYER)]), dockerfile=str(dockerfile),
                                 policy=ImagePolicy())
    assert {"dockerfile.base-latest", "dockerfile.add-url"} <= set(ids(findings))


def scan(path, policy, threshold="high", **kw):
    """The module's path: validate, evidence, finish_scan."""
    findings, facts = validate_image(path, policy=policy)
    coverage, measurements = image_evidence(facts, policy)
    return finish_scan(findings, all_checks(), "image", threshold=threshold, coverage=coverage,
                       measurements=measurements, **kw)


@pytest.mark.parametrize("threshold", ["high", "critical"])
def test_image_over_its_budget_fails_whatever_the_threshold(tmp_path, threshold):
    """image.size is medium; a threshold above it used to let an over-budget image pass."""
    path, policy = planted(tmp_path, "image.size")
    result = scan(path, ImagePolicy(**policy), threshold, report_dir=str(tmp_path / "reports"))
    assert result["verdict"]["status"] == "fail", result["verdict"]["summary"]
    assert "over a limit you set" in result["verdict"]["summary"]
    sizes = {m["name"]: m for m in result["verdict"]["evidence"]["measurements"]}
    assert sizes["uncompressed_size"]["ok"] is False and sizes["uncompressed_size"]["threshold"] == 2
    reports = tmp_path / "reports"
    assert json.loads((reports / "findings.json").read_text())["passed"] is False
    size_case = [c for c in ET.parse(reports / "findings.junit.xml").iter("testcase") if c.get("name") == "image.size"]
    assert size_case[0].find("failure") is not None


def test_size_measurement_decides_on_bytes_not_on_the_rounded_value():
    mib = 1024 * 1024
    facts = {"compressed_bytes": 2 * mib + 4096, "uncompressed_bytes": 2 * mib, "files": 5, "layers": 1,
             "secret_files_scanned": 5, "secret_files_skipped_large": 0, "secret_files_skipped_binary": 0}
    _, measurements = image_evidence(facts, ImagePolicy(max_compressed_mb=2, max_uncompressed_mb=2))
    sizes = {m["name"]: m for m in measurements}
    assert sizes["compressed_size"]["value"] == 2.0 and sizes["compressed_size"]["ok"] is False
    assert sizes["uncompressed_size"]["ok"] is True


def test_clean_image_passes_with_layers_and_files_measured(tmp_path):
    path = build(tmp_path, [layer_bytes(CLEAN_LAYER)])
    result = scan(path, ImagePolicy(reference="registry.example/app:1.4.2@sha256:" + "c" * 64, max_compressed_mb=10))
    validate(result["verdict"])
    assert result["verdict"]["status"] == "pass", result["verdict"]["summary"]
    measured = {m["name"]: (m["value"], m["unit"]) for m in result["verdict"]["evidence"]["measurements"]}
    assert measured["layers_read"] == (1, "layers") and measured["files_in_image"] == (5, "files")


def test_files_the_secret_detector_skipped_are_counted(tmp_path):
    layer = layer_bytes(CLEAN_LAYER + [("opt", None, 0o755), ("opt/big.txt", "x" * 3000, 0o644),
                                       ("opt/tool", b"\x7fELF\0\0" + b"\1" * 100, 0o755)])
    findings, facts = validate_image(build(tmp_path, [layer]), secret_max_bytes=2048, policy=ImagePolicy())
    assert facts["secret_files_skipped_large"] == 1 and facts["secret_files_skipped_binary"] == 1
    _, measurements = image_evidence(facts, ImagePolicy())
    counted = {m["name"]: m["value"] for m in measurements}
    assert counted["secret_files_skipped_large"] == 1 and counted["secret_files_skipped_binary"] == 1
