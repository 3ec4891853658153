"""tar_directory / untar_safely / DirectoryProducer: deterministic order, refusal of unsafe members."""

from __future__ import annotations

import io
import os
import tarfile

import pytest

from ansible_collections.deploysafe.preflight.plugins.module_utils.archive import (
    ArchiveError, DirectoryProducer, TarSink, load_manifest, read_artifact, tar_directory, untar_safely, write_artifact)


def _tree(root):
    (root / "b").mkdir(parents=True)
    (root / "b" / "2.dat").write_bytes(b"two" * 1000)
    (root / "a.dat").write_bytes(b"one")
    (root / "toc.dat").write_bytes(os.urandom(5000))


def test_tar_is_sorted_and_byte_identical(tmp_path):
    _tree(tmp_path / "x")
    first, second = io.BytesIO(), io.BytesIO()
    tar_directory(str(tmp_path / "x"), first)
    os.utime(tmp_path / "x" / "a.dat", (1, 1))
    tar_directory(str(tmp_path / "x"), second)
    assert first.getvalue() == second.getvalue()
    first.seek(0)
    with tarfile.open(fileobj=first) as tar:
        assert tar.getnames() == ["a.dat", "b", "toc.dat", "b/2.dat"]


def test_round_trip(tmp_path):
    _tree(tmp_path / "x")
    buf = io.BytesIO()
    assert tar_directory(str(tmp_path / "x"), buf) == 4
    buf.seek(0)
    (tmp_path / "y").mkdir()
    assert untar_safely(buf, str(tmp_path / "y")) == 4
    for rel in ("a.dat", "b/2.dat", "toc.dat"):
        assert (tmp_path / "y" / rel).read_bytes() == (tmp_path / "x" / rel).read_bytes()
        assert oct(os.stat(tmp_path / "y" / rel).st_mode & 0o777) == "0o600"


def test_symlink_is_refused_when_archiving(tmp_path):
    _tree(tmp_path / "x")
    os.symlink("/etc/passwd", tmp_path / "x" / "link")
    with pytest.raises(ArchiveError, match="not a regular file"):
        tar_directory(str(tmp_path / "x"), io.BytesIO())


def _evil(kind):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        ok = tarfile.TarInfo("fine.dat")
        ok.size = 2
        tar.addfile(ok, io.BytesIO(b"ok"))
        if kind == "abs":
            info = tarfile.TarInfo("/tmp/evil")
            info.size = 1
            tar.addfile(info, io.BytesIO(b"x"))
        elif kind == "dotdot":
            info = tarfile.TarInfo("sub/../../evil")
            info.size = 1
            tar.addfile(info, io.BytesIO(b"x"))
        elif kind == "symlink":
            info = tarfile.TarInfo("link")
            info.type, info.linkname = tarfile.SYMTYPE, "/etc"
            tar.addfile(info)
        elif kind == "hardlink":
            info = tarfile.TarInfo("hard")
            info.type, info.linkname = tarfile.LNKTYPE, "fine.dat"
            tar.addfile(info)
    buf.seek(0)
    return buf


@pytest.mark.parametrize("kind,why", [("abs", "absolute path"), ("dotdot", "'..'"), ("symlink", "link"),
                                      ("hardlink", "link")])
def test_unsafe_members_are_refused(tmp_path, kind, why):
    dest = tmp_path / "out"
    dest.mkdir()
    with pytest.raises(ArchiveError, match=why):
        untar_safely(_evil(kind), str(dest))
    assert not (tmp_path / "evil").exists()
    assert sorted(os.listdir(dest)) == ["fine.dat"]


def test_directory_producer_through_write_artifact(tmp_path):
    _tree(tmp_path / "x")
    (tmp_path / "out").mkdir()
    calls = []
    producer = DirectoryProducer(str(tmp_path / "x"), lambda: calls.append("prepared"))
    result = write_artifact(producer, str(tmp_path / "out"), "t.dir.tar.zst", content_type="application/x-tar")
    assert calls == ["prepared"] and load_manifest(result.manifest_path)["plaintext"]["bytes"] > 0
    sink = io.BytesIO()
    assert read_artifact(result.path, sink, encrypted=False).error is None
    sink.seek(0)
    (tmp_path / "y").mkdir()
    assert untar_safely(sink, str(tmp_path / "y")) == 4


def test_failed_prepare_publishes_nothing(tmp_path):
    (tmp_path / "x").mkdir()
    (tmp_path / "out").mkdir()

    def prepare():
        raise ArchiveError("pg_dump failed (exit status 1): boom")

    with pytest.raises(ArchiveError, match="boom"):
        write_artifact(DirectoryProducer(str(tmp_path / "x"), prepare), str(tmp_path / "out"), "t.dir.tar.zst")
    assert os.listdir(tmp_path / "out") == []


def _pax_tar() -> bytes:
    """A tarfile-written PAX archive with what needs extended headers: a long and a non-ASCII name."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        sub = tarfile.TarInfo("sub")
        sub.type = tarfile.DIRTYPE
        tar.addfile(sub)
        for name, data in (("sub/" + "n" * 150 + ".dat", b"x" * 1300), ("tablé.dat", b"\n" * 512), ("empty", b"")):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


@pytest.mark.parametrize("piece", [1, 7, 511, 512, 513, 4096, 1 << 20])
def test_tar_sink_unpacks_pax_archives_written_in_any_pieces(tmp_path, piece):
    stream = _pax_tar()
    sink = TarSink(str(tmp_path))
    for start in range(0, len(stream), piece):
        sink.write(stream[start:start + piece])
    assert sink.close() == 4
    assert (tmp_path / "sub" / ("n" * 150 + ".dat")).read_bytes() == b"x" * 1300
    assert (tmp_path / "tablé.dat").read_bytes() == b"\n" * 512 and (tmp_path / "empty").read_bytes() == b""


def test_tar_sink_refuses_a_truncated_stream(tmp_path):
    stream = _pax_tar()
    sink = TarSink(str(tmp_path))
    sink.write(stream[:2048 + 700])  # inside the long-named member's data
    with pytest.raises(ArchiveError, match="ends inside member"):
        sink.close()
    with pytest.raises(ArchiveError, match="empty file"):
        TarSink(str(tmp_path / "x")).close()
