# Copyright: (c) 2026, deploysafe.preflight contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Per-table fingerprints read from pg_dump's own output, so the data is read once.

A table's fingerprint is the sha256 and line count of its COPY text as `COPY table (columns) TO STDOUT`
prints it (without the `\\.` end marker pg_dump adds): the same bytes pg_restore loads, and the same
bytes a COPY of the restored table prints (see copyprint.py). Two readers produce it:

- CustomArchiveTap: fed the uncompressed (-Z0) custom-format stream as it passes to zstd. It parses the
  header and TOC (archive versions 1.12-1.16, PostgreSQL 9.0-18), then each data block. pg_dump writes
  one length-prefixed chunk per row, so a block is `row\\n <sign+int> row\\n <sign+int> ...`; the chunk
  headers are removed with one C-speed regex per buffer instead of a Python loop per row.
- directory_fingerprints: reads toc.dat and the plain `<dumpId>.dat` files of a -Fd -Z0 dump.

Format reference: PostgreSQL src/bin/pg_dump/pg_backup_archiver.c (ReadHead, ReadToc) and
pg_backup_custom.c (_StartData, _CustomWriteFunc, _EndData, the large-object blocks).
"""

from __future__ import annotations

import hashlib
import os
import queue
import re
import threading
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Tuple

from . import PgError

MAGIC = b"PGDMP"
FORMAT_CUSTOM = 1
FORMAT_DIRECTORY = (3, 5)  # toc.dat of a -Fd dump says 3 (PostgreSQL 15); 5 is archDirectory in the enum
MIN_VERSION, MAX_VERSION = (1, 12), (1, 16)
BLK_DATA, BLK_BLOBS = 1, 3
END_MARKER = b"\\.\n\n\n"  # pg_dump's end-of-data line and blank lines; not part of COPY TO output
CHUNK = 1 << 20


class Incomplete(Exception):
    """More bytes are needed."""


@dataclass
class TableData:
    """A TABLE DATA entry of the TOC and, once read, its fingerprint."""
    dump_id: int
    schema: str
    table: str
    filename: Optional[str] = None
    rows: int = 0
    sha256: str = ""
    bytes: int = 0


@dataclass
class DumpToc:
    version: Tuple[int, int, int]
    int_size: int
    off_size: int
    encoding: Optional[str]
    tables: Dict[int, TableData] = field(default_factory=dict)


class _Reader:
    """Cursor over a bytes-like buffer with the archive's integer and string encodings."""

    def __init__(self, buf, int_size: int = 4) -> None:
        self.buf, self.pos, self.int_size = buf, 0, int_size

    def take(self, n: int) -> bytes:
        if self.pos + n > len(self.buf):
            raise Incomplete()
        out = bytes(self.buf[self.pos:self.pos + n])
        self.pos += n
        return out

    def byte(self) -> int:
        return self.take(1)[0]

    def int(self) -> int:
        sign = self.byte()
        value = int.from_bytes(self.take(self.int_size), "little")
        return -value if sign else value

    def str(self) -> Optional[str]:
        length = self.int()
        return None if length < 0 else self.take(length).decode("utf-8", "replace")


def read_toc(buf, expect_format) -> Tuple[DumpToc, int]:
    """(TOC, bytes used) of an archive header + TOC at the start of buf; Incomplete if buf is too short."""
    r = _Reader(buf)
    if r.take(5) != MAGIC:
        raise PgError("pg_dump output does not start with the archive magic PGDMP")
    vmaj, vmin, vrev = r.byte(), r.byte(), r.byte()
    if not MIN_VERSION <= (vmaj, vmin) <= MAX_VERSION:
        raise PgError(f"pg_dump archive version {vmaj}.{vmin} is not one this collection can read "
                      f"({MIN_VERSION[0]}.{MIN_VERSION[1]}-{MAX_VERSION[0]}.{MAX_VERSION[1]}); use content_hash md5")
    r.int_size = r.byte()
    off_size = r.byte()
    fmt = r.byte()
    if fmt not in (expect_format if isinstance(expect_format, tuple) else (expect_format,)):
        raise PgError(f"pg_dump archive format {fmt} is not the expected {expect_format}")
    compressed = r.byte() if (vmaj, vmin) >= (1, 15) else r.int()
    if compressed not in (0, -1) or ((vmaj, vmin) < (1, 15) and compressed == -1):
        raise PgError("the pg_dump archive is compressed; content fingerprints need --compress=0")
    for _field in range(7):  # creation time
        r.int()
    r.str()  # database name
    r.str()  # server version
    r.str()  # pg_dump version
    toc = DumpToc(version=(vmaj, vmin, vrev), int_size=r.int_size, off_size=off_size, encoding=None)
    for _entry in range(r.int()):
        dump_id = r.int()
        r.int()  # had dumper
        r.str()  # table oid
        r.str()  # oid
        tag, desc = r.str(), r.str()
        r.int()  # section
        defn = r.str()
        r.str()  # drop statement
        r.str()  # copy statement
        namespace = r.str()
        r.str()  # tablespace
        if (vmaj, vmin) >= (1, 14):
            r.str()  # table access method
        if (vmaj, vmin) >= (1, 16):
            r.int()  # relkind
        r.str()  # owner
        r.str()  # "false" (WITH OIDS)
        while r.str() is not None:  # dependencies
            pass
        filename = None
        if fmt == FORMAT_CUSTOM:
            r.byte()  # offset flag
            r.take(off_size)
        else:
            filename = r.str()
        if desc == "ENCODING" and defn:
            match = re.search(r"'([^']*)'", defn)
            toc.encoding = match.group(1) if match else None
        elif desc == "TABLE DATA":
            toc.tables[dump_id] = TableData(dump_id, namespace or "", tag or "", filename)
    return toc, r.pos


class TableHasher:
    """sha256 + line count of a table's COPY text, holding back the last bytes until the end so that
    pg_dump's end marker (when present) is left out. pg_dump 9.0-18 always writes it, so the last 5 bytes
    are the marker; were it ever dropped, data ending in an escaped backslash + '.' and two empty rows would
    look like one and show as a (false) difference, never as a false match."""

    def __init__(self) -> None:
        self.hasher = hashlib.sha256()
        self.tail = b""
        self.bytes = 0

    def update(self, data) -> None:
        if len(data) >= len(END_MARKER):
            self.hasher.update(self.tail)
            view = memoryview(data)
            self.hasher.update(view[:-len(END_MARKER)])
            self.tail = bytes(view[-len(END_MARKER):])
            self.bytes += len(data)
        elif data:
            joined = self.tail + bytes(data)
            keep = joined[-len(END_MARKER):]
            self.hasher.update(joined[:len(joined) - len(keep)])
            self.tail = keep
            self.bytes += len(data)

    def finish(self, entry: TableData, rows: int, rows_with_marker: int) -> None:
        """rows: the row count if the text had no end marker, rows_with_marker: if it had one."""
        if self.tail == END_MARKER:
            rows = rows_with_marker
            self.bytes -= len(END_MARKER)
        else:
            self.hasher.update(self.tail)
        entry.rows, entry.sha256, entry.bytes = rows, self.hasher.hexdigest(), self.bytes


class CustomArchiveTap:
    """Fed the bytes of `pg_dump -Fc -Z0` in order (feed()); result() gives the TOC with per-table
    fingerprints. A parse error is kept (and feeding stops) so the dump itself is never disturbed."""

    def __init__(self) -> None:
        self.toc: Optional[DumpToc] = None
        self.error: Optional[BaseException] = None
        self._buf = bytearray()
        self._state = "toc"
        self._table: Optional[TableData] = None
        self._hasher: Optional[TableHasher] = None
        self._newlines = 0
        self._scanned = 0
        self._blob_left = 0

    def _setup_patterns(self, int_size: int) -> None:
        header = 1 + int_size
        self._header = header
        # A row terminator followed by the next chunk's header (sign byte 0 + length): removed as a whole.
        self._row_break = re.compile(b"\n\x00[\x00-\xff]{%d}" % int_size)
        self._end = b"\n" + b"\x00" * header  # last row's newline + a zero-length chunk: end of the block

    def feed(self, data) -> None:
        if self.error is not None or not data:
            return
        try:
            self._buf += data
            self._run()
        except BaseException as exc:  # kept for result(); the dump must go on
            self.error = exc
            self._buf = bytearray()

    def _run(self) -> None:
        while True:
            if self._state == "toc":
                try:
                    self.toc, used = read_toc(self._buf, FORMAT_CUSTOM)
                except Incomplete:
                    return
                self._setup_patterns(self.toc.int_size)
                del self._buf[:used]
                self._state = "block"
            elif self._state == "rows":
                if not self._rows():
                    return
            elif not self._blocks():
                return

    def _blocks(self) -> bool:
        """Block headers and large-object chunks; False when more bytes are needed."""
        r = _Reader(self._buf, self.toc.int_size)
        try:
            if self._state == "block":
                kind, dump_id = r.byte(), r.int()
                if kind == BLK_DATA:
                    first = r.int()
                    self._table = self.toc.tables.get(dump_id) or TableData(dump_id, "", "")
                    self._hasher, self._newlines, self._scanned = TableHasher(), 0, 0
                    if first == 0:
                        self._table.sha256 = hashlib.sha256().hexdigest()
                        self._state = "block"
                    else:
                        self._state = "rows"
                elif kind == BLK_BLOBS:
                    self._state = "blob"
                else:
                    raise PgError(f"unexpected block type {kind} in the pg_dump archive")
            elif self._state == "blob":  # large object: oid, then chunks until a zero length
                oid = r.int()
                self._state = "blob_chunk" if oid else "block"
            elif self._state == "blob_chunk":
                if self._blob_left:
                    skip = min(self._blob_left, len(self._buf))
                    r.pos, self._blob_left = skip, self._blob_left - skip
                else:
                    length = r.int()
                    self._state, self._blob_left = ("blob_chunk", length) if length else ("blob", 0)
        except Incomplete:
            return False
        del self._buf[:r.pos]
        return bool(self._buf)

    def _rows(self) -> bool:
        """COPY rows of the current table; the buffer always starts at the beginning of a row."""
        buf = self._buf
        end = buf.find(self._end, max(0, self._scanned - len(self._end)))
        if end >= 0:
            cut = end + len(self._end)
        else:
            cut = self._last_break(buf)
            if cut <= 0:
                self._scanned = len(buf)
                return False
        text, breaks = self._row_break.subn(b"\n", memoryview(buf)[:cut])
        self._hasher.update(text)
        self._newlines += breaks
        del buf[:cut]
        self._scanned = len(buf)
        if end >= 0:
            # every row break matched, plus the end marker's last newline when it is there
            self._hasher.finish(self._table, self._newlines, self._newlines - 1)
            self._state = "block"
            return True
        return False

    def _last_break(self, buf) -> int:
        """End of the last complete chunk header after a row terminator in buf (0: none yet).

        A raw newline is either a row terminator or a byte of a chunk length. A length byte lies at most
        4 bytes after the terminator that precedes its header, so a newline with no other newline in the
        5 bytes before it, and a sign byte 0 after it, is a terminator (pg_dump's end marker `\\.` +
        three newlines fails the sign-byte test)."""
        pos = buf.rfind(b"\n", 0, len(buf) - self._header)
        while pos >= 0:
            if buf[pos + 1] == 0 and buf.find(b"\n", max(0, pos - self._header), pos) < 0:
                return pos + 1 + self._header
            pos = buf.rfind(b"\n", 0, pos)
        return 0

    def result(self) -> DumpToc:
        """The TOC with every TABLE DATA entry fingerprinted; PgError when the stream could not be read."""
        if self.error is not None:
            raise PgError(f"cannot fingerprint tables from the pg_dump stream: {self.error}")
        if self.toc is None or self._state != "block" or self._buf:
            raise PgError("cannot fingerprint tables from the pg_dump stream: it ended inside "
                          + ("the table of contents" if self.toc is None else "a data block"))
        return self.toc


class TappedStream:
    """Readable wrapper that shows every byte read to a tap (CustomArchiveTap.feed) in a thread of its own,
    so that parsing and hashing overlap with the compression pipeline reading this stream. The queue is
    bounded (a few MiB in flight); finish() waits until the tap has seen everything."""

    def __init__(self, raw, tap: CustomArchiveTap, depth: int = 8) -> None:
        self.raw, self.tap = raw, tap
        self._queue: "queue.Queue[Optional[bytes]]" = queue.Queue(maxsize=depth)
        self._thread = threading.Thread(target=self._drain, name="pg-dump-tap", daemon=True)
        self._thread.start()
        self._ended = False

    def _drain(self) -> None:
        while True:
            data = self._queue.get()
            if data is None:
                return
            self.tap.feed(data)

    def read(self, n: int = -1) -> bytes:
        data = self.raw.read(n)
        if data:
            self._queue.put(data)
        return data

    def readable(self) -> bool:
        return True

    def finish(self) -> None:
        """Wait for the tap to see every byte read so far (idempotent)."""
        if not self._ended:
            self._ended = True
            self._queue.put(None)
        self._thread.join()

    def close(self) -> None:
        self.raw.close()

    @property
    def closed(self) -> bool:
        return self.raw.closed


def directory_fingerprints(directory: str) -> DumpToc:
    """Fingerprints of a `pg_dump -Fd -Z0` directory: toc.dat, then each table's `<dumpId>.dat`."""
    try:
        with open(os.path.join(directory, "toc.dat"), "rb") as handle:
            head = handle.read()
    except OSError as exc:
        raise PgError(f"cannot read {directory}/toc.dat: {exc.strerror or exc}") from None
    try:
        toc, _used = read_toc(head, FORMAT_DIRECTORY)
    except Incomplete:
        raise PgError(f"{directory}/toc.dat is truncated") from None
    for entry in toc.tables.values():
        hasher, newlines = TableHasher(), 0
        path = os.path.join(directory, entry.filename or f"{entry.dump_id}.dat")
        try:
            with open(path, "rb") as handle:
                while True:
                    data = handle.read(CHUNK)
                    if not data:
                        break
                    hasher.update(data)
                    newlines += data.count(b"\n")
        except OSError as exc:
            raise PgError(f"cannot read {path}: {exc.strerror or exc}") from None
        hasher.finish(entry, newlines, newlines - 3)
    return toc


def fingerprints_by_table(toc: DumpToc) -> Dict[str, Dict[str, Any]]:
    """{'schema.table': {'rows', 'sha256', 'bytes'}} of the TOC's TABLE DATA entries."""
    return {f"{t.schema}.{t.table}": {"rows": t.rows, "sha256": t.sha256, "bytes": t.bytes}
            for t in toc.tables.values()}


__all__: List[str] = ["CustomArchiveTap", "DumpToc", "TableData", "TappedStream", "directory_fingerprints",
                      "fingerprints_by_table", "read_toc"]
