"""The custom-format stream reader against synthetic archives built to pg_dump's layout (WriteHead,
WriteToc, one length-prefixed chunk per row), fed in every possible split."""

from __future__ import annotations

import hashlib

import pytest

from ansible_collections.deploysafe.preflight.plugins.module_utils.pg import PgError
from ansible_collections.deploysafe.preflight.plugins.module_utils.pg.dumpstream import (
    END_MARKER, CustomArchiveTap, fingerprints_by_table)


def _int(value: int) -> bytes:
    return bytes([1 if value < 0 else 0]) + abs(value).to_bytes(4, "little")


def _str(text) -> bytes:
    if text is None:
        return _int(-1)
    raw = text.encode()
    return _int(len(raw)) + raw


def _entry(dump_id, desc, tag, namespace="public", defn=""):
    fields = [_int(dump_id), _int(1), _str("0"), _str("0"), _str(tag), _str(desc), _int(2), _str(defn), _str(""),
              _str(""), _str(namespace), _str(""), _str("heap"), _str("postgres"), _str("false"), _str(None)]
    return b"".join(fields) + b"\x01" + b"\x00" * 8  # offset flag + 8-byte offset


def archive(tables, marker=True, blobs=False) -> bytes:
    """tables: [(dump_id, name, [row bytes without newline])] -> a -Fc -Z0 stream of archive version 1.14."""
    head = b"PGDMP" + bytes([1, 14, 0, 4, 8, 1]) + _int(0) + b"".join(_int(0) for _ in range(7))
    head += _str("db") + _str("15.0") + _str("15.0")
    entries = [_entry(9000, "ENCODING", "ENCODING", None, "SET client_encoding = 'LATIN1';\n")]
    entries += [_entry(i, "TABLE DATA", name) for i, name, _rows in tables]
    out = head + _int(len(entries)) + b"".join(entries)
    for dump_id, _name, rows in tables:
        out += b"\x01" + _int(dump_id)
        for row in rows:
            out += _int(len(row) + 1) + row + b"\n"
        if marker:
            out += _int(len(END_MARKER)) + END_MARKER
        out += _int(0)
    if blobs:  # one large object with two chunks, holding newlines and what looks like chunk headers
        out += b"\x03" + _int(7777) + _int(16400) + _int(6) + b"\n\x00\n\x00\x00\x00" + _int(3) + b"abc" + _int(0)
        out += _int(0)
    return out


TABLES = [(3001, "a", [b"1\tx", b"abcdefghi", b"\\N\t\\\\.", b"y" * 9, b"z" * 2569]),  # lengths 10, 2570 = \n bytes
          (3002, "empty", []),
          (3003, "b", [b"row %d" % i for i in range(300)])]


def expected():
    return {f"public.{name}": {"rows": len(rows), "bytes": sum(len(r) + 1 for r in rows),
                               "sha256": hashlib.sha256(b"".join(r + b"\n" for r in rows)).hexdigest()}
            for _i, name, rows in TABLES}


def feed(stream: bytes, size: int):
    tap = CustomArchiveTap()
    for start in range(0, len(stream), size):
        tap.feed(stream[start:start + size])
    return tap.result()


@pytest.mark.parametrize("marker", [True, False])
@pytest.mark.parametrize("blobs", [False, True])
def test_every_feed_size_gives_the_fingerprints_of_the_copy_text(marker, blobs):
    stream = archive(TABLES, marker=marker, blobs=blobs)
    for size in list(range(1, 40)) + [1000, 4096, len(stream)]:
        toc = feed(stream, size)
        assert fingerprints_by_table(toc) == expected(), size
        assert toc.encoding == "LATIN1"


def test_truncated_stream_is_an_error_not_a_fingerprint():
    stream = archive(TABLES)
    with pytest.raises(PgError, match="ended inside a data block"):
        feed(stream[:-7], 100)
    with pytest.raises(PgError, match="ended inside the table of contents"):
        feed(stream[:40], 100)


def test_unknown_archive_version_and_compression_are_refused():
    stream = bytearray(archive(TABLES))
    stream[6] = 17
    with pytest.raises(PgError, match="version 1.17 is not one this collection can read"):
        feed(bytes(stream), 1 << 20)
    stream = bytearray(archive(TABLES))
    stream[12] = 6  # compression level 6 (gzip)
    with pytest.raises(PgError, match="compress=0"):
        feed(bytes(stream), 1 << 20)
