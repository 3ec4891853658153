"""What the ecosystem reads from the collection: the built tarball (galaxy.yml build_ignore and
metadata), the dependency files ansible-builder picks up from the installed collection
(meta/execution-environment.yml -> requirements.txt, bindep.txt), and the example execution
environment turned into a build context by `ansible-builder create`. Real tools, no container engine."""

from __future__ import annotations

import importlib.util
import json
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[3]
BIN = Path(sys.executable).parent
# Local artifacts planted in the copy: none of them may reach the tarball.
ARTIFACTS = ["demo-run/report.html", "demo-run-defect/report.html", ".ansible/tmp/x", "tests/output/junit.xml",
             ".venv/pyvenv.cfg", ".cache/phases.log", ".collection/x", ".pytest_cache/x", "build/x",
             "context/Containerfile", "old-deploysafe-preflight-0.0.1.tar.gz"]
SHIPPED = ["meta/execution-environment.yml", "meta/runtime.yml", "requirements.txt", "bindep.txt", "MANIFEST.json",
           "examples/ee/execution-environment.yml"]
DEV_ONLY = ["requirements-dev.txt", "constraints.txt", "Makefile", "tests", "scripts", "mk", "deploysafe_testenv"]


def run(*cmd, cwd=None):
    proc = subprocess.run([str(c) for c in cmd], cwd=cwd, capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, f"{' '.join(map(str, cmd))} failed:\n{proc.stdout}\n{proc.stderr}"
    return proc.stdout


def builder(*args, cwd=None):
    if importlib.util.find_spec("ansible_builder") is None:
        pytest.fail("ansible-builder is not installed in this venv (requirements-dev.txt pins it): run make venv")
    return run(sys.executable, "-m", "ansible_builder", *args, cwd=cwd)


@pytest.fixture(scope="module")
def tarball(tmp_path_factory):
    """The collection built from a copy of the working tree (tracked and new files) plus planted artifacts."""
    copy = tmp_path_factory.mktemp("src") / "preflight"
    files = run("git", "ls-files", "-co", "--exclude-standard", cwd=REPO).splitlines()
    for name in files:
        src = REPO / name
        if src.is_file():
            (copy / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, copy / name)
    for name in ARTIFACTS:
        (copy / name).parent.mkdir(parents=True, exist_ok=True)
        (copy / name).write_text("local artifact\n")
    out = tmp_path_factory.mktemp("dist")
    run(BIN / "ansible-galaxy", "collection", "build", "--output-path", out, copy)
    (path,) = out.glob("deploysafe-preflight-*.tar.gz")
    return path


@pytest.fixture(scope="module")
def installed(tarball, tmp_path_factory):
    cols = tmp_path_factory.mktemp("cols")
    # --force: the collection is already on ANSIBLE_COLLECTIONS_PATH in the test venv (the repo link)
    run(BIN / "ansible-galaxy", "collection", "install", "--offline", "--force", "-p", cols, tarball)
    assert (cols / "ansible_collections/deploysafe/preflight/meta/execution-environment.yml").is_file()
    return cols


def test_tarball_ships_dependency_files_and_no_local_artifact(tarball):
    with tarfile.open(tarball) as tar:
        names = set(tar.getnames())
        manifest = json.load(tar.extractfile("MANIFEST.json"))["collection_info"]
    assert not [n for n in SHIPPED if n not in names]
    leaked = [n for n in names for a in ARTIFACTS + DEV_ONLY
              if n == a or n.startswith(a.split("/")[0] + "/") or n.endswith(".tar.gz")]
    assert not leaked, f"local or dev-only paths in the tarball: {sorted(set(leaked))}"
    assert manifest["repository"] == "https://github.com/deploysafe/preflight"
    assert manifest["issues"] == "https://github.com/deploysafe/preflight/issues"
    assert manifest["documentation"].startswith("https://github.com/deploysafe/preflight/")


def test_ee_metadata_points_at_files_that_exist():
    meta = yaml.safe_load((REPO / "meta/execution-environment.yml").read_text())
    assert meta["dependencies"] == {"python": "requirements.txt", "system": "bindep.txt"}


def test_ansible_builder_introspects_our_requirements(installed, tmp_path):
    pip_out, bindep_out = tmp_path / "pip.txt", tmp_path / "bindep.txt"
    builder("introspect", "--sanitize", "--write-pip", pip_out, "--write-bindep", bindep_out, installed)
    pip_lines = pip_out.read_text()
    # every runtime library the modules require(...), as the ranges requirements.txt declares
    for req in ("psycopg[binary]>=3.1,<4", "boto3>=1.34,<2", "kubernetes>=29.0.0,<38", "python-dateutil>=2.8.2,<3",
                "zstandard", "pyrage", "hdrhistogram", "httptools", "jsonschema", "cryptography"):
        assert req in pip_lines, f"{req!r} missing from ansible-builder's pip requirements:\n{pip_lines}"
    assert "# from collection deploysafe.preflight" in pip_lines
    bindep = bindep_out.read_text()
    for req in ("postgresql-client [platform:dpkg]", "postgresql [platform:rpm]", "git [platform:dpkg platform:rpm]"):
        assert req in bindep, f"{req!r} missing from ansible-builder's bindep requirements:\n{bindep}"


def test_example_ee_becomes_a_build_context(tmp_path):
    ee_dir = tmp_path / "ee"
    shutil.copytree(REPO / "examples/ee", ee_dir)
    builder("create", "-f", ee_dir / "execution-environment.yml", "-c", tmp_path / "context", "--output-filename",
            "Containerfile", cwd=ee_dir)
    context = tmp_path / "context"
    containerfile = (context / "Containerfile").read_text()
    galaxy = yaml.safe_load((context / "_build/requirements.yml").read_text())
    assert "deploysafe.preflight" in [c["name"] for c in galaxy["collections"]]
    # the build installs the collections, then introspects them (our meta/execution-environment.yml)
    # and installs the collected Python and bindep requirements
    assert "ansible-galaxy collection install" in containerfile
    assert "introspect" in containerfile and "install-from-bindep" in containerfile
    assert "ansible-core>=2.18,<2.20" in containerfile
