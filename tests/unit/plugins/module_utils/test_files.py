"""files.py: the one file hash and the one directory walk (order, symlinks, unreadable directories)."""

from __future__ import annotations

import hashlib
import io
import os
import tarfile

import pytest

from ansible_collections.deploysafe.preflight.plugins.module_utils import files
from ansible_collections.deploysafe.preflight.plugins.module_utils.archive import ArchiveError, tar_directory
from ansible_collections.deploysafe.preflight.plugins.module_utils.secrets import ScanStats, walk_files as secrets_walk
from ansible_collections.deploysafe.preflight.plugins.module_utils.verdict import artifact, sha256_file as verdict_sha256


def _tree(root):
    (root / "b" / "c").mkdir(parents=True)
    (root / ".git").mkdir()
    (root / ".git" / "HEAD").write_text("ref")
    (root / "a.txt").write_text("a")
    (root / "b" / "x.txt").write_text("x")
    (root / "b" / "c" / "y.txt").write_text("y")
    (root / "z.txt").write_text("z")
    os.symlink("a.txt", root / "link")
    os.symlink("nowhere", root / "dangling")
    return root


def test_sha256_of_a_file_and_of_a_stream(tmp_path):
    data = os.urandom(3 * files.CHUNK + 17)  # several chunks and a partial one
    path = tmp_path / "blob"
    path.write_bytes(data)
    expected = hashlib.sha256(data).hexdigest()
    assert files.sha256_file(str(path)) == expected
    assert files.sha256_file(str(path), chunk=7) == expected
    assert files.sha256_stream(io.BytesIO(data)) == expected
    assert verdict_sha256 is files.sha256_file  # one implementation, also reachable from verdict
    assert artifact(str(path))["sha256"] == expected
    path.write_bytes(data[:-1] + b"\0")  # one byte changed: another hash
    assert files.sha256_file(str(path)) != expected


def test_walk_order_is_stable_and_links_are_not_followed(tmp_path):
    root = _tree(tmp_path / "t")
    rels = [rel for rel, _ in files.walk_entries(str(root), excluded={".git"})]
    # a directory's entries in name order, then its subdirectories (os.walk order, sorted)
    assert rels == ["a.txt", "b", "dangling", "link", "z.txt", "b/c", "b/x.txt", "b/c/y.txt"]
    stats = ScanStats()
    assert list(files.walk_files(str(root), stats=stats)) == ["a.txt", "z.txt", "b/x.txt", "b/c/y.txt"]
    assert any("dangling" in note for note in stats.notes)
    assert secrets_walk is files.walk_files  # the validators use the same walk


def test_an_unreadable_directory_is_reported_or_raised(tmp_path, monkeypatch):
    root = _tree(tmp_path / "t")
    real = os.scandir

    def scandir(path):  # a disk error on one directory (tests run as root, so chmod cannot make one)
        if str(path).endswith(os.path.join("b", "c")):
            raise PermissionError(13, "Permission denied", str(path))
        return real(path)

    monkeypatch.setattr(files.os, "scandir", scandir)
    stats = ScanStats()
    assert list(files.walk_files(str(root), stats=stats)) == ["a.txt", "z.txt", "b/x.txt"]
    assert stats.skipped_unreadable == 1 and any("b/c: unreadable: cannot list directory" in n for n in stats.notes)
    with pytest.raises(PermissionError):
        list(files.walk_entries(str(root)))
    with pytest.raises(ArchiveError, match="cannot archive .*b/c: Permission denied"):
        tar_directory(str(tmp_path / "t" / "b"), io.BytesIO())


def test_tar_directory_uses_the_walk_order(tmp_path):
    root = tmp_path / "t"
    (root / "b" / "c").mkdir(parents=True)
    (root / "a.txt").write_text("a")
    (root / "b" / "c" / "y.txt").write_text("y")
    buf = io.BytesIO()
    assert tar_directory(str(root), buf) == 4
    buf.seek(0)
    with tarfile.open(fileobj=buf) as tar:
        assert tar.getnames() == ["a.txt", "b", "b/c", "b/c/y.txt"]
