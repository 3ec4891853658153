# Copyright: (c) 2026, deploysafe.preflight contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Fingerprint a `pg_dump -Fd -Z0` directory while pg_dump is still writing it.

pg_dump writes each table's rows as plain COPY text to `<dumpId>.dat` and toc.dat last. A thread
follows the .dat files as they grow (reading the new bytes from the page cache, sha256 and newline
count, the same definition as dumpstream.directory_fingerprints), so that the hashing overlaps with
the dump instead of following it. Once pg_dump has exited, finish() reads what is left, parses toc.dat
and returns the TOC with each TABLE DATA entry fingerprinted. Large-object files (blob_*.dat) are not
table data and are not followed.
"""

from __future__ import annotations

import os
import re
import threading
from typing import Dict, Optional

from . import PgError
from .dumpstream import CHUNK, END_MARKER, FORMAT_DIRECTORY, DumpToc, Incomplete, TableHasher, read_toc

_TABLE_FILE = re.compile(r"[0-9]+\.dat")


class _Followed:
    """One growing .dat file: open handle, running hash, newline count, bytes read. Once the file ends
    with pg_dump's end-of-data line `\\.` (then two newlines) it is complete, because COPY text escapes a
    backslash, so no row is that line, and its handle is closed: a dump of thousands of tables holds few
    descriptors. (A row ending in an escaped backslash + '.' followed by two empty rows ends in the same five
    bytes, which is why the byte before them must be a row's newline; finish() checks sizes anyway.)"""

    def __init__(self, path: str) -> None:
        self.path = path
        self.handle = open(path, "rb", buffering=0)
        self.hasher = TableHasher()
        self.newlines = 0
        self.read = 0
        self.last = b""  # the last 6 bytes read

    def drain(self) -> bool:
        """Hash whatever pg_dump has appended since the last call; True if anything was new."""
        grew = False
        while not self.handle.closed:
            data = self.handle.read(CHUNK)
            if not data:
                if self.last == b"\n" + END_MARKER or (self.read == len(END_MARKER) and self.last == END_MARKER):
                    self.handle.close()
                return grew
            grew = True
            self.last = (self.last + data[-6:])[-6:]
            self.hasher.update(data)
            self.newlines += data.count(b"\n")
            self.read += len(data)
        return grew

    def size(self) -> int:
        return os.stat(self.path).st_size if self.handle.closed else os.fstat(self.handle.fileno()).st_size


class DirectoryFollower:
    """Follow a pg_dump -Fd -Z0 output directory from a thread; start() before or right after pg_dump
    starts, finish() after it exited cleanly (abort() if it failed)."""

    def __init__(self, directory: str, poll_s: float = 0.01) -> None:
        self.directory = directory
        self.poll_s = poll_s
        self.error: Optional[BaseException] = None
        self._files: Dict[str, _Followed] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="pg-dir-fingerprints", daemon=True)

    def start(self) -> "DirectoryFollower":
        self._thread.start()
        return self

    def _scan(self) -> bool:
        """One pass over the directory: open new table files, hash new bytes; True if anything grew."""
        try:
            names = os.listdir(self.directory)
        except FileNotFoundError:  # pg_dump has not created it yet
            return False
        grew = False
        for name in names:
            if name not in self._files and _TABLE_FILE.fullmatch(name):
                self._files[name] = _Followed(os.path.join(self.directory, name))
        for followed in self._files.values():
            grew = followed.drain() or grew
        return grew

    def _run(self) -> None:
        try:
            while not self._stop.is_set():
                if not self._scan():
                    self._stop.wait(self.poll_s)
        except BaseException as exc:  # reported by finish()
            self.error = exc

    def _close(self) -> None:
        self._stop.set()
        self._thread.join()
        for followed in self._files.values():
            followed.handle.close()

    def abort(self) -> None:
        """Stop following (pg_dump failed); idempotent."""
        self._close()

    def finish(self) -> DumpToc:
        """After pg_dump exited 0: hash the rest, read toc.dat, fingerprint every TABLE DATA entry."""
        self._stop.set()
        self._thread.join()
        try:
            if self.error is not None:
                raise PgError(f"cannot fingerprint the tables of {self.directory}: {self.error}")
            try:
                self._scan()  # the thread stopped: this is the only reader now
                with open(os.path.join(self.directory, "toc.dat"), "rb") as handle:
                    head = handle.read()
            except OSError as exc:
                raise PgError(f"cannot fingerprint the tables of {self.directory}: "
                              f"{exc.filename}: {exc.strerror or exc}") from None
            try:
                toc, _used = read_toc(head, FORMAT_DIRECTORY)
            except Incomplete:
                raise PgError(f"{self.directory}/toc.dat is truncated") from None
            for entry in toc.tables.values():
                name = entry.filename or f"{entry.dump_id}.dat"
                followed = self._files.get(name)
                if followed is None:
                    raise PgError(f"pg_dump's TOC names {name} but {self.directory} has no such table file")
                size = followed.size()
                if size != followed.read:  # the file changed under us: never publish a partial hash
                    raise PgError(f"{name} is {size} bytes but {followed.read} were fingerprinted")
                followed.hasher.finish(entry, followed.newlines, followed.newlines - 3)
            return toc
        finally:
            self._close()


__all__ = ["DirectoryFollower"]
