"""security_scan checks: each fires on a planted defect and stays quiet on the clean variant."""

from __future__ import annotations

import builtins
import errno
import os
import subprocess
import xml.etree.ElementTree as ET

import pytest

from ansible_collections.deploysafe.preflight.plugins.module_utils import repo_scan
from ansible_collections.deploysafe.preflight.plugins.module_utils.findings.report import finish_scan
from ansible_collections.deploysafe.preflight.plugins.module_utils.verdict import validate

from ansible_collections.deploysafe.preflight.plugins.module_utils.image.dockerfile import lint_dockerfile
from ansible_collections.deploysafe.preflight.plugins.module_utils.repo_scan import (
    CHECKS, RepoScanError, scan_repository,
)

GH = "ghp_" + "Zx8kQ2mP9wL4rT7vB1nC5yH3jF6gD0sA2eKu"
KEY_BODY = ("MIIEowIBAAKCAQEAwJalrXUtnFEMIK7MDENGbPxRfiCYzq3hT8sLv0NdZx8kQ2mP\n" * 4)

# check id -> (planted files, clean files)
CASES = {
    "secret.github-token": ({"app/config.py": f"TOKEN = '{GH}'\n"}, {"app/config.py": "TOKEN = os.environ['GH']\n"}),
    "dockerfile.base-unpinned": ({"Dockerfile": "FROM python:3.12\nUSER 1000\n"},
                                 {"Dockerfile": "FROM python:3.12@sha256:" + "a" * 64 + "\nUSER 1000\n"}),
    "dockerfile.user-root": ({"Dockerfile": "FROM scratch\nUSER root\n"}, {"Dockerfile": "FROM scratch\nUSER 65532\n"}),
    "dockerfile.add-url": ({"Dockerfile": "FROM scratch\nADD https://x.test/a.tgz /a\nUSER 1\n"},
                           {"Dockerfile": "FROM scratch\nADD a.tgz /a\nUSER 1\n"}),
    "dockerfile.curl-pipe-shell": ({"build/Dockerfile.prod": "FROM scratch\nRUN curl -fsSL https://x.test/i \\\n  | bash\nUSER 1\n"},
                                   {"build/Dockerfile.prod": "FROM scratch\nRUN curl -fsSLo i https://x.test/i && sha256sum -c i.sha\nUSER 1\n"}),
    "repo.unpinned-dependency": ({"requirements.txt": "requests>=2.0\n", "web/package.json": '{"dependencies": {"left-pad": "^1.3.0"}}'},
                                 {"requirements.txt": "requests==2.32.3  # pinned\n-r other.txt\n",
                                  "web/package.json": '{"dependencies": {"left-pad": "1.3.0"}}'}),
    "repo.tls-verify-disabled": ({"db.env": "DATABASE_URL=postgres://db/app?sslmode=disable\n", "c.py": "get(u, verify=False)\n",
                                  "k.yaml": "insecure-skip-tls-verify: true\n"},
                                 {"db.env": "DATABASE_URL=postgres://db/app?sslmode=verify-full\n", "c.py": "get(u, verify=CA)\n"}),
    "repo.debug-in-production": ({"config/production.yaml": "debug: true\n"},
                                 {"config/production.yaml": "debug: false\n", "config/development.yaml": "debug: true\n"}),
    "repo.cors-wildcard": ({"nginx.conf": "add_header Access-Control-Allow-Origin *;\n",
                            "app.py": "CORSMiddleware(app, allow_origins=['*'])\n"},
                           {"app.py": "CORSMiddleware(app, allow_origins=['https://shop.example'])\n"}),
    "repo.admin-bind-all": ({"envoy.yaml": "admin_address: 0.0.0.0:9901\n"}, {"envoy.yaml": "admin_address: 127.0.0.1:9901\n"}),
    "repo.private-key-file": ({"deploy/tls.key.txt": "-----BEGIN PRIVATE KEY-----\n" + KEY_BODY,
                               "kube/admin.conf": "apiVersion: v1\nkind: Config\nclusters: []\nusers:\n- name: a\n  user:\n    token: abc\n"},
                              {"kube/admin.conf": "apiVersion: v1\nkind: Config\nclusters: []\nusers:\n- name: a\n  user:\n    exec: {command: aws}\n"}),
    "repo.secret-like-filename": ({".env": "X=1\n", "home/.ssh/id_rsa": "x\n"}, {".env.example": "X=\n", "id_rsa.pub": "ssh-rsa AAA\n"}),
    "repo.unparseable": ({"package.json": '{"dependencies": {\n  "a": "1.0.0",\n}'}, {"package.json": '{"dependencies": {}}'}),
}


def make_repo(tmp_path, files, git=False):
    for rel, text in files.items():
        path = tmp_path / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    if git:
        subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
        subprocess.run(["git", "-C", str(tmp_path), "add", "-A"], check=True)
    return str(tmp_path)


@pytest.mark.parametrize("check_id", sorted(CASES))
def test_check_fires_on_planted_defect(tmp_path, check_id):
    findings = scan_repository(make_repo(tmp_path, CASES[check_id][0])).findings
    hits = [f for f in findings if f.check_id == check_id]
    assert hits, [f.check_id for f in findings]
    assert all(f.location.file for f in hits)


@pytest.mark.parametrize("check_id", sorted(CASES))
def test_check_quiet_on_clean_fixture(tmp_path, check_id):
    findings = scan_repository(make_repo(tmp_path, CASES[check_id][1])).findings
    assert not [f for f in findings if f.check_id == check_id], [f.to_dict() for f in findings]


def test_positions_are_reported(tmp_path):
    root = make_repo(tmp_path, {"package.json": '{"dependencies": {\n  "a": "1.0.0",\n}',
                                "Dockerfile": "FROM scratch\nUSER 1\nRUN wget -qO- https://x | sh\n"})
    by_id = {f.check_id: f for f in scan_repository(root).findings}
    assert by_id["repo.unparseable"].location.line == 3
    assert by_id["dockerfile.curl-pipe-shell"].location.line == 3


def test_git_tracked_only_and_history(tmp_path):
    root = make_repo(tmp_path, {"app.py": f"T = '{GH}'\n", "README": "x\n"}, git=True)
    env = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@x", "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@x"}
    subprocess.run(["git", "-C", root, "commit", "-qm", "one"], check=True, env=env)
    (tmp_path / "app.py").write_text("T = os.environ['T']\n")
    (tmp_path / "untracked.py").write_text(f"T = '{GH}'\n")
    subprocess.run(["git", "-C", root, "commit", "-qam", "two"], check=True, env=env)
    result = scan_repository(root)
    assert result.source == "git" and not [f for f in result.findings if f.check_id.startswith("secret.")]
    result = scan_repository(root, scan_history=True)
    (hist,) = [f for f in result.findings if f.check_id == "secret.github-token"]
    assert hist.location.file == "app.py" and hist.location.pointer.startswith("git:") and GH not in hist.message
    assert result.commits_scanned == 2
    assert any(f.location.file == "untracked.py" for f in scan_repository(root, tracked_only=False).findings)


def test_bad_inputs_do_not_crash_the_scan(tmp_path):
    (tmp_path / "latin1.conf").write_bytes(b"caf\xe9\nverify_ssl = false\n")
    (tmp_path / "loop").symlink_to("loop")
    (tmp_path / "dir").mkdir()
    (tmp_path / "dir" / "up").symlink_to("..")
    with open(tmp_path / "big.log", "wb") as handle:
        handle.truncate(200 * 1024 * 1024)
    result = scan_repository(str(tmp_path))
    # the file over the size limit is skipped, and the skip is a finding (it used to vanish into stats)
    assert [f.check_id for f in result.findings] == ["repo.tls-verify-disabled", "repo.skipped-large"]
    assert result.findings[1].location.file == "big.log"
    assert result.stats.skipped_large == 1 and any("big.log" in n for n in result.stats.notes)
    with pytest.raises(RepoScanError, match="not a directory"):
        scan_repository(str(tmp_path / "missing"))


def test_dockerfile_multistage_aliases_and_args():
    text = "ARG BASE=python:3.12\nFROM ${BASE} AS build\nFROM build\nUSER app\n"
    assert lint_dockerfile(text) == []


def verdict_of(root, report_dir=None, **kw):
    """The module's path: scan, evidence, finish_scan."""
    scan = scan_repository(root, **kw)
    coverage, measurements = scan.evidence()
    result = finish_scan(scan.findings, CHECKS, "repository", coverage=coverage, measurements=measurements,
                         report_dir=report_dir)
    return result["verdict"], scan


def disk_error_on(monkeypatch, name):
    """Fake a disk error (EIO) reading one file; everything else reads normally. Root reads any mode, so a
    chmod cannot plant an unreadable file here."""
    def fake_open(path, *args, **kwargs):
        if str(path).endswith(os.sep + name):
            raise OSError(errno.EIO, os.strerror(errno.EIO), str(path))
        return builtins.open(path, *args, **kwargs)
    monkeypatch.setattr(repo_scan, "open", fake_open, raising=False)


def test_an_unreadable_file_makes_the_scan_pending_not_pass(tmp_path, monkeypatch):
    root = make_repo(tmp_path, {"app.py": "print(1)\n", "config/prod.yaml": "debug: false\n"})
    disk_error_on(monkeypatch, "prod.yaml")
    verdict, scan = verdict_of(root, report_dir=str(tmp_path.parent / "reports"))
    assert verdict["status"] == "pending", verdict["summary"]
    (hole,) = [f for f in scan.findings if f.check_id == "repo.unreadable"]
    assert hole.location.file == "config/prod.yaml" and "Input/output error" in hole.message
    measured = {m["name"]: m["value"] for m in verdict["evidence"]["measurements"]}
    assert measured["files_unreadable"] == 1 and measured["files_scanned"] == 1
    cases = {c.get("name"): c for c in ET.parse(tmp_path.parent / "reports" / "findings.junit.xml").iter("testcase")}
    assert cases["repo.unreadable"].find("failure") is not None and cases["verdict"].find("failure") is not None


def test_an_unreadable_file_the_user_excluded_does_not_hold_the_scan(tmp_path, monkeypatch):
    root = make_repo(tmp_path, {"app.py": "print(1)\n", "config/prod.yaml": "debug: false\n"})
    disk_error_on(monkeypatch, "prod.yaml")
    verdict, _ = verdict_of(root, exclude=["config/*"])
    assert verdict["status"] == "pass", verdict["summary"]


def test_a_directory_that_cannot_be_listed_is_pending_unless_excluded(tmp_path, monkeypatch):
    root = make_repo(tmp_path, {"app.py": "print(1)\n", "locked/key.txt": "x\n"})
    real_scandir = os.scandir

    def fake_scandir(path):
        if str(path).rstrip(os.sep).endswith(os.sep + "locked"):
            raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(path))
        return real_scandir(path)
    monkeypatch.setattr(os, "scandir", fake_scandir)
    verdict, scan = verdict_of(root)
    assert verdict["status"] == "pending"
    assert [f.location.file for f in scan.findings if f.check_id == "repo.unreadable"] == ["locked"]
    assert verdict_of(root, exclude=["locked/*"])[0]["status"] == "pass"


def test_skipped_files_are_counted_and_the_large_one_reported(tmp_path):
    root = make_repo(tmp_path, {"app.py": "print(1)\n"})
    (tmp_path / "logo.png").write_bytes(b"\x89PNG\0\0" + b"\1" * 64)
    (tmp_path / "dump.sql").write_text("x" * 4096)
    verdict, scan = verdict_of(root, max_file_bytes=1024)
    validate(verdict)
    assert verdict["status"] == "pass"  # a skipped large file is low: visible, below the default threshold
    measured = {m["name"]: (m["value"], m["unit"]) for m in verdict["evidence"]["measurements"]}
    assert measured["files_scanned"] == (1, "files") and measured["files_skipped_binary"] == (1, "files")
    assert measured["files_skipped_large"] == (1, "files")
    (large,) = [f for f in scan.findings if f.check_id == "repo.skipped-large"]
    assert large.location.file == "dump.sql" and "1024 byte limit" in large.message


@pytest.mark.parametrize("files", [{}, {"logo.png": b"\x89PNG\0\0"}, {"app.py": "print(1)\n"}])
def test_a_scan_of_zero_files_is_pending(tmp_path, files):
    for rel, data in files.items():
        (tmp_path / rel).write_bytes(data if isinstance(data, bytes) else data.encode())
    verdict, _ = verdict_of(str(tmp_path), exclude=["*.py"])
    assert verdict["status"] == "pending" and "nothing was scanned (0 files)" in verdict["summary"]
