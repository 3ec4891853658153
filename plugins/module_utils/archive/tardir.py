# Copyright: (c) 2026, deploysafe.preflight contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A directory as an artifact: a deterministic tar stream of it (producer), and a safe unpacker."""

from __future__ import annotations

import os
import stat
import tarfile
from typing import Any, BinaryIO, Callable, Dict, Iterator, List, Optional

from ..files import walk_entries
from .errors import ArchiveError

CONTENT_TYPE_TAR = "application/x-tar"


def _member(path: str, rel: str) -> tarfile.TarInfo:
    """The TarInfo of a regular file or directory with fixed owner/mtime/mode; anything else is refused."""
    st = os.lstat(path)
    info = tarfile.TarInfo(rel.replace(os.sep, "/"))
    if stat.S_ISREG(st.st_mode):
        info.type, info.size, info.mode = tarfile.REGTYPE, st.st_size, 0o600
    elif stat.S_ISDIR(st.st_mode):
        info.type, info.mode = tarfile.DIRTYPE, 0o700
    else:
        raise ArchiveError(f"{path} is not a regular file or directory; refusing to archive it")
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    info.mtime = 0
    return info


def tar_chunks(root: str, counter: Optional[List[int]] = None, chunk: int = 1 << 20,
               order: Optional[Callable[[tarfile.TarInfo], Any]] = None,
               listing: Optional[List[Dict[str, int]]] = None) -> Iterator[bytes]:
    """A PAX tar of root's regular files and subdirectories, in sorted path order (or sorted by the key
    `order` gives each member's TarInfo) with fixed owner/mtime (the same tree gives the same bytes), as a
    sequence of byte strings of at most `chunk` bytes of file data each. Links and special files are refused.
    counter[0] counts the members; listing, if given, gets {name, bytes} of each member in tar order."""
    offset = 0
    try:
        members = [(_member(entry.path, rel), entry.path) for rel, entry in walk_entries(root)]
        if order is not None:
            members.sort(key=lambda member: order(member[0]))
        for info, path in members:
            if listing is not None:
                listing.append({"name": info.name, "bytes": info.size})
            header = info.tobuf(tarfile.PAX_FORMAT, tarfile.ENCODING, "surrogateescape")
            offset += len(header)
            yield header
            if info.isreg():
                left = info.size
                with open(path, "rb", buffering=0) as handle:
                    while left:
                        data = handle.read(min(chunk, left))
                        if not data:
                            raise ArchiveError(f"{path} shrank while it was archived")
                        left -= len(data)
                        yield data
                pad = -info.size % tarfile.BLOCKSIZE
                if pad:
                    yield tarfile.NUL * pad
                offset += info.size + pad
            if counter is not None:
                counter[0] += 1
    except OSError as exc:
        # an unreadable file or directory must fail the archive, never leave a tree that looks complete
        raise ArchiveError(f"cannot archive {exc.filename or root}: {exc.strerror or exc}") from None
    end = tarfile.BLOCKSIZE * 2  # two zero blocks, then zeros to a whole record, as tarfile writes them
    yield tarfile.NUL * (end + (-(offset + end) % tarfile.RECORDSIZE))


def tar_directory(root: str, out: BinaryIO) -> int:
    """Write tar_chunks(root) to out; returns the number of members."""
    counter = [0]
    for data in tar_chunks(root, counter):
        out.write(data)
    return counter[0]


class _TarReader:
    """Readable stream over tar_chunks, made in the reading thread: no pipe and no copy in between."""

    def __init__(self, start: Callable[[], Iterator[bytes]]) -> None:
        self._start = start
        self._chunks: Optional[Iterator[bytes]] = None
        self._pending = b""
        self.closed = False

    def readable(self) -> bool:
        return True

    def read(self, n: int = -1) -> bytes:
        if self.closed:
            raise ValueError("read of a closed tar stream")
        if self._chunks is None:
            self._chunks = self._start()
        data, self._pending = self._pending, b""
        while not data:
            data = next(self._chunks, None)
            if data is None:
                return b""
        if 0 <= n < len(data):
            data, self._pending = data[:n], data[n:]
        return data

    def close(self) -> None:
        self.closed = True
        if self._chunks is not None:
            close = getattr(self._chunks, "close", None)
            if close is not None:
                close()  # closes the file being read now, if any


class DirectoryProducer:
    """Archive-layer producer for a directory that must be complete before it is archived.

    The first read of `stream` runs `prepare()` (e.g. waits for pg_dump -Fd to finish; it raises on
    failure), then the stream yields tar_chunks(root), made on demand in the reading thread (a pipe and a
    tar thread cost more than the compression: measured). An error is kept and raised as ArchiveError
    (by read() and again by finish()); abort() calls `cancel` (e.g. kills the command).
    The caller owns root and removes it afterwards.
    """

    def __init__(self, root: str, prepare: Callable[[], None], cancel: Optional[Callable[[], None]] = None,
                 name: str = "directory tar",
                 order: Optional[Callable[[tarfile.TarInfo], Any]] = None) -> None:
        self.root, self.name, self._order = root, name, order
        self.listing: List[Dict[str, int]] = []  # {name, bytes} of each member, in tar order
        self._prepare, self._cancel = prepare, cancel
        self.warnings: List[str] = []
        self.error: Optional[BaseException] = None
        self._counter = [0]
        self.stream = _TarReader(self._chunks)

    @property
    def members(self) -> int:
        return self._counter[0]

    def _chunks(self) -> Iterator[bytes]:
        try:
            self._prepare()
            yield from tar_chunks(self.root, self._counter, order=self._order, listing=self.listing)
        except GeneratorExit:  # closed before the end (the write failed or was aborted): not an error of ours
            raise
        except BaseException as exc:
            self.error = exc if isinstance(exc, ArchiveError) else ArchiveError(f"archiving {self.root} failed: {exc}")
            raise self.error from None

    def finish(self) -> None:
        self.stream.close()
        if self.error is not None:
            raise self.error

    def abort(self) -> None:
        if self._cancel is not None:
            try:
                self._cancel()
            except Exception:
                pass
        self.stream.close()


def _unsafe(name: str) -> Optional[str]:
    if name.startswith("/") or os.path.isabs(name):
        return "absolute path"
    if ".." in name.replace("\\", "/").split("/"):
        return "'..' component"
    return None


class TarSink:
    """Writable: unpacks the tar stream written to it into the existing directory dest as it arrives (in
    the writer's thread: no pipe, no second thread). Only regular files and directories with relative
    paths and no `..` are accepted (0600 files, 0700 dirs); anything else raises ArchiveError before it is
    written. Understands ustar headers and the PAX extended headers ('x': path, size) that tarfile's PAX
    format writes; close() checks the stream ended between members and returns the number of members.

    open_member(name, target, size), if given, may return a writable of its own for a regular member
    (e.g. a FIFO a reader is already waiting on) instead of a new file at target; None keeps the file."""

    def __init__(self, dest: str, open_member: Optional[Callable[[str, str, int], Optional[BinaryIO]]] = None) -> None:
        self.dest = dest
        self._open_member = open_member
        self.members = 0
        self._buf = bytearray()
        self._left = 0  # data bytes of the current member still to come
        self._pad = 0  # then zero padding to the next 512-byte block
        self._out = None  # file being written, or None to skip the data (a PAX header is collected in _pax)
        self._pax: Optional[bytearray] = None
        self._override: dict = {}
        self._name = ""
        self._ended = False

    def writable(self) -> bool:
        return True

    def flush(self) -> None:
        pass

    def write(self, data) -> int:
        view = memoryview(data)
        size = len(view)
        try:
            while len(view):
                if self._left:
                    take = view[:self._left]
                    if self._out is not None:
                        self._out.write(take)
                    elif self._pax is not None:
                        self._pax += take
                    self._left -= len(take)
                    view = view[len(take):]
                    if not self._left:
                        self._end_member()
                elif self._pad:
                    skip = min(self._pad, len(view))
                    self._pad -= skip
                    view = view[skip:]
                elif self._ended:
                    return size  # zero blocks and record padding after the end-of-archive marker
                else:
                    need = tarfile.BLOCKSIZE - len(self._buf)
                    self._buf += view[:need]
                    view = view[need:]
                    if len(self._buf) == tarfile.BLOCKSIZE:
                        block, self._buf = bytes(self._buf), bytearray()
                        self._header(block)
        except OSError as exc:
            raise ArchiveError(f"cannot unpack into {self.dest}: {exc.strerror or exc}") from None
        return size

    def _header(self, block: bytes) -> None:
        if block == tarfile.NUL * tarfile.BLOCKSIZE:
            self._ended = True
            return
        try:
            info = tarfile.TarInfo.frombuf(block, tarfile.ENCODING, "surrogateescape")
        except tarfile.HeaderError as exc:
            raise ArchiveError(f"not a valid tar stream: {exc}") from None
        if info.type == tarfile.XHDTYPE:  # PAX extended header: its records apply to the next member
            self._pax, self._out, self._name = bytearray(), None, info.name
            self._start_data(info.size)
            return
        name = self._override.pop("path", info.name)
        size = self._override.pop("size", info.size)
        self._override = {}
        problem = _unsafe(name)
        if problem is None and not (info.isreg() or info.isdir()):
            problem = "link or special file"
        if problem:
            raise ArchiveError(f"refusing to unpack tar member {name!r}: {problem}")
        target = os.path.join(self.dest, os.path.normpath(name))
        self._name = name
        if info.isdir():
            os.makedirs(target, mode=0o700, exist_ok=True)
            self.members += 1
            return
        parent = os.path.dirname(target)
        if parent:
            os.makedirs(parent, mode=0o700, exist_ok=True)
        own = self._open_member(name, target, size) if self._open_member is not None else None
        if own is not None:
            self._out = own
        else:
            fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            self._out = os.fdopen(fd, "wb", buffering=0)
        self._start_data(size)

    def _start_data(self, size: int) -> None:
        self._left, self._pad = size, -size % tarfile.BLOCKSIZE
        if not size:
            self._end_member()

    def _end_member(self) -> None:
        if self._pax is not None:
            self._override, self._pax = _pax_records(bytes(self._pax)), None
            return
        if self._out is not None:
            self._out.close()
            self._out = None
        self.members += 1

    def discard(self) -> None:
        """Close the file being written, if any (the stream failed; the caller removes dest)."""
        if self._out is not None:
            self._out.close()
            self._out = None

    def close(self) -> int:
        """The number of members; ArchiveError if the stream stopped inside a member or header."""
        self.discard()
        if self._left or self._pad or self._buf or self._pax is not None or self._override:
            raise ArchiveError(f"not a valid tar stream: it ends inside member {self._name!r}"
                               if self._left or self._pad else "not a valid tar stream: it ends inside a header")
        if not self.members and not self._ended:
            raise ArchiveError("not a valid tar stream: empty file")
        return self.members


def _pax_records(payload: bytes) -> dict:
    """path and size from a PAX extended header ("<len> <key>=<value>\n" records)."""
    out: dict = {}
    pos = 0
    while pos < len(payload):
        space = payload.find(b" ", pos)
        try:
            length = int(payload[pos:space])
        except ValueError:
            raise ArchiveError("not a valid tar stream: bad PAX extended header") from None
        record = payload[space + 1:pos + length]
        if length <= 0 or not record.endswith(b"\n") or b"=" not in record:
            raise ArchiveError("not a valid tar stream: bad PAX extended header")
        key, _eq, value = record[:-1].partition(b"=")
        if key == b"path":
            out["path"] = value.decode("utf-8", "surrogateescape")
        elif key == b"size":
            out["size"] = int(value)
        pos += length
    return out


def untar_safely(stream: BinaryIO, dest: str) -> int:
    """Unpack a tar stream into the existing directory dest (0600 files, 0700 dirs). Only regular files
    and directories with relative paths and no `..` are accepted; anything else raises ArchiveError
    before it is written. Returns the number of members."""
    sink = TarSink(dest)
    try:
        while True:
            data = stream.read(1 << 20)
            if not data:
                break
            sink.write(data)
    except OSError as exc:
        raise ArchiveError(f"cannot unpack into {dest}: {exc.strerror or exc}") from None
    finally:
        sink.discard()
    return sink.close()
