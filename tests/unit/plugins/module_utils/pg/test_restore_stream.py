"""Which member a scratch restore may stream into pg_restore: only the last, after toc.dat."""

from __future__ import annotations

from ansible_collections.deploysafe.preflight.plugins.module_utils.pg.restore_stream import streamed_member


def _manifest(*names):
    return {"source": {"members": [{"name": n, "bytes": 1} for n in names]}}


def test_the_last_table_file_after_the_toc_streams():
    assert streamed_member(_manifest("toc.dat", "3401.dat", "3406.dat")) == "3406.dat"


def test_older_or_odd_layouts_unpack_first():
    assert streamed_member({"source": {}}) is None  # before the restore order: no member list
    assert streamed_member(_manifest("3401.dat", "toc.dat")) is None  # sorted order: toc.dat last
    assert streamed_member(_manifest("toc.dat")) is None
    assert streamed_member(_manifest("toc.dat", "sub/3401.dat")) is None
    assert streamed_member(_manifest("toc.dat", "blobs.toc")) is None
    assert streamed_member(_manifest("toc.dat", "blob_16384.dat")) is None  # large objects unpack first
