"""DirectoryFollower: fingerprints of a -Fd -Z0 directory hashed while its files grow equal those of the
finished directory (dumpstream.directory_fingerprints), on a synthetic dump laid out like pg_dump's."""

from __future__ import annotations

import hashlib
import os
import time

import pytest

from ansible_collections.deploysafe.preflight.plugins.module_utils.pg import PgError
from ansible_collections.deploysafe.preflight.plugins.module_utils.pg.dirprint import DirectoryFollower
from ansible_collections.deploysafe.preflight.plugins.module_utils.pg.dumpstream import (
    END_MARKER, directory_fingerprints, fingerprints_by_table)



def _int(value: int) -> bytes:  # the archive's integer: sign byte + 4 bytes little-endian
    return bytes([1 if value < 0 else 0]) + abs(value).to_bytes(4, "little")


def _str(text) -> bytes:
    return _int(-1) if text is None else _int(len(text.encode())) + text.encode()


ROWS = {3001: [b"1\tx", b"\\N\t\\\\.", b"y" * 5000], 3002: [], 3003: [b"row %d" % i for i in range(3000)]}


def _toc(names) -> bytes:
    """toc.dat of a directory archive (format 3, version 1.14): each entry ends with its file name."""
    head = b"PGDMP" + bytes([1, 14, 0, 4, 8, 3]) + _int(0) + b"".join(_int(0) for _ in range(7))
    head += _str("db") + _str("15.0") + _str("15.0")
    entries = []
    for dump_id, tag in names:
        fields = [_int(dump_id), _int(1), _str("0"), _str("0"), _str(tag), _str("TABLE DATA"), _int(2), _str(""),
                  _str(""), _str(""), _str("public"), _str(""), _str("heap"), _str("postgres"), _str("false"),
                  _str(None), _str(f"{dump_id}.dat")]
        entries.append(b"".join(fields))
    return head + _int(len(entries)) + b"".join(entries)


def _text(dump_id) -> bytes:
    return b"".join(r + b"\n" for r in ROWS[dump_id]) + END_MARKER


def _wait_for(follower, name, size):
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        followed = follower._files.get(name)
        if followed is not None and followed.read >= size:
            return
        time.sleep(0.005)
    raise AssertionError(f"the follower did not read {size} bytes of {name}")


def test_fingerprints_taken_while_files_grow_equal_the_finished_directory(tmp_path):
    out = tmp_path / "dump"
    follower = DirectoryFollower(str(out), poll_s=0.001).start()  # before pg_dump creates the directory
    out.mkdir()
    (out / "blob_16400.dat").write_bytes(b"not table data\n")
    for dump_id in ROWS:
        text = _text(dump_id)
        with open(out / f"{dump_id}.dat", "wb", buffering=0) as handle:
            for start in range(0, len(text), 777):  # cuts inside rows and inside the end marker
                handle.write(text[start:start + 777])
                if start < 5 * 777:
                    _wait_for(follower, f"{dump_id}.dat", min(len(text), start + 777))
    (out / "toc.dat").write_bytes(_toc([(3001, "a"), (3002, "empty"), (3003, "b")]))
    followed = fingerprints_by_table(follower.finish())
    assert followed == fingerprints_by_table(directory_fingerprints(str(out)))
    assert followed["public.b"] == {"rows": 3000, "bytes": len(_text(3003)) - len(END_MARKER),
                                    "sha256": hashlib.sha256(_text(3003)[:-len(END_MARKER)]).hexdigest()}
    assert followed["public.empty"]["rows"] == 0 and followed["public.a"]["rows"] == 3


def test_a_table_file_missing_from_the_directory_is_an_error(tmp_path):
    out = tmp_path / "dump"
    out.mkdir()
    (out / "3001.dat").write_bytes(_text(3001))
    (out / "toc.dat").write_bytes(_toc([(3001, "a"), (3002, "empty")]))
    with pytest.raises(PgError, match="names 3002.dat but"):
        DirectoryFollower(str(out)).start().finish()


def test_abort_stops_the_thread_and_closes_the_files(tmp_path):
    out = tmp_path / "dump"
    out.mkdir()
    (out / "3001.dat").write_bytes(_text(3001))
    follower = DirectoryFollower(str(out), poll_s=0.001).start()
    _wait_for(follower, "3001.dat", len(_text(3001)))
    follower.abort()
    assert not follower._thread.is_alive() and all(f.handle.closed for f in follower._files.values())
    assert os.listdir(out) == ["3001.dat"]


def test_a_file_is_closed_at_its_end_marker_and_not_at_rows_that_look_like_it(tmp_path):
    out = tmp_path / "dump"
    out.mkdir()
    follower = DirectoryFollower(str(out), poll_s=0.001).start()
    tricky = b"x\\\\.\n\n\n"  # a row ending in an escaped backslash + '.', then two empty rows: the marker's bytes
    with open(out / "3001.dat", "wb", buffering=0) as handle:
        handle.write(tricky)
        _wait_for(follower, "3001.dat", len(tricky))
        assert not follower._files["3001.dat"].handle.closed  # not mistaken for the end
        handle.write(b"more\n" + END_MARKER)
        _wait_for(follower, "3001.dat", len(tricky) + 5 + len(END_MARKER))
    deadline = time.monotonic() + 10
    while not follower._files["3001.dat"].handle.closed and time.monotonic() < deadline:
        time.sleep(0.005)
    assert follower._files["3001.dat"].handle.closed  # complete: its descriptor is released before the end
    (out / "toc.dat").write_bytes(_toc([(3001, "a")]))
    followed = fingerprints_by_table(follower.finish())
    assert followed == fingerprints_by_table(directory_fingerprints(str(out)))
    assert followed["public.a"]["rows"] == 4
