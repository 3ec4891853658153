# Copyright: (c) 2026, deploysafe.preflight contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A directory as an artifact: a deterministic tar stream of it (producer), and a safe unpacker."""

from __future__ import annotations

import os
import tarfile
import threading
from typing import BinaryIO, Callable, List, Optional

from ..files import walk_entries
from .errors import ArchiveError

CONTENT_TYPE_TAR = "application/x-tar"


def tar_directory(root: str, out: BinaryIO) -> int:
    """Write root's regular files and subdirectories to out as a PAX tar, in sorted path order, with
    fixed owner/mtime so the same tree gives the same bytes. Links and special files are refused."""
    count = 0
    with tarfile.open(fileobj=out, mode="w|", format=tarfile.PAX_FORMAT) as tar:
        try:
            for rel, entry in walk_entries(root):
                info = tar.gettarinfo(entry.path, arcname=rel.replace(os.sep, "/"))
                if not (info.isreg() or info.isdir()):
                    raise ArchiveError(f"{entry.path} is not a regular file or directory; refusing to archive it")
                info.uid = info.gid = 0
                info.uname = info.gname = ""
                info.mtime = 0
                info.mode = 0o700 if info.isdir() else 0o600
                if info.isreg():
                    with open(entry.path, "rb") as handle:
                        tar.addfile(info, handle)
                else:
                    tar.addfile(info)
                tar.members = []  # write mode never needs them: keep memory flat
                count += 1
        except OSError as exc:
            # an unreadable file or directory must fail the archive, never leave a tree that looks complete
            raise ArchiveError(f"cannot archive {exc.filename or root}: {exc.strerror or exc}") from None
    return count


class DirectoryProducer:
    """Archive-layer producer for a directory that must be complete before it is archived.

    A thread runs `prepare()` (e.g. waits for pg_dump -Fd to finish; it raises on failure), then
    streams tar_directory(root) into a pipe that write_artifact reads as the plaintext. finish() joins
    the thread and re-raises its error; abort() calls `cancel` (e.g. kills the command) and joins.
    The caller owns root and removes it afterwards.
    """

    def __init__(self, root: str, prepare: Callable[[], None], cancel: Optional[Callable[[], None]] = None,
                 name: str = "directory tar") -> None:
        self.root, self.name = root, name
        self._prepare, self._cancel = prepare, cancel
        self.warnings: List[str] = []
        self.error: Optional[BaseException] = None
        self.members = 0
        read_fd, write_fd = os.pipe()
        self.stream = os.fdopen(read_fd, "rb", buffering=1 << 20)
        self._pipe = os.fdopen(write_fd, "wb", buffering=1 << 20)
        self._thread = threading.Thread(target=self._run, name="dir-tar", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            self._prepare()
            self.members = tar_directory(self.root, self._pipe)
        except BaseException as exc:  # reported by finish(); closing the pipe gives the reader EOF
            self.error = exc
        finally:
            try:
                self._pipe.close()
            except OSError:
                pass

    def finish(self) -> None:
        self._thread.join()
        self._close_stream()
        if self.error is not None:
            if isinstance(self.error, ArchiveError):
                raise self.error
            raise ArchiveError(f"archiving {self.root} failed: {self.error}")

    def abort(self) -> None:
        if self._cancel is not None:
            try:
                self._cancel()
            except Exception:
                pass
        self._close_stream()  # a writer blocked on a full pipe gets EPIPE and stops
        self._thread.join()

    def _close_stream(self) -> None:
        if not self.stream.closed:
            try:
                self.stream.close()
            except OSError:
                pass


def _unsafe(name: str) -> Optional[str]:
    if name.startswith("/") or os.path.isabs(name):
        return "absolute path"
    if ".." in name.replace("\\", "/").split("/"):
        return "'..' component"
    return None


def untar_safely(stream: BinaryIO, dest: str) -> int:
    """Unpack a tar stream into the existing directory dest (0600 files, 0700 dirs). Only regular files
    and directories with relative paths and no `..` are accepted; anything else raises ArchiveError
    before it is written. Returns the number of members."""
    count = 0
    try:
        with tarfile.open(fileobj=stream, mode="r|") as tar:
            for info in tar:
                problem = _unsafe(info.name)
                if problem is None and not (info.isreg() or info.isdir()):
                    problem = "link or special file"
                if problem:
                    raise ArchiveError(f"refusing to unpack tar member {info.name!r}: {problem}")
                target = os.path.join(dest, os.path.normpath(info.name))
                if info.isdir():
                    os.makedirs(target, mode=0o700, exist_ok=True)
                else:
                    parent = os.path.dirname(target)
                    if parent:
                        os.makedirs(parent, mode=0o700, exist_ok=True)
                    source = tar.extractfile(info)
                    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                    with os.fdopen(fd, "wb") as handle:
                        while True:
                            chunk = source.read(1 << 20)
                            if not chunk:
                                break
                            handle.write(chunk)
                tar.members = []
                count += 1
    except tarfile.TarError as exc:
        raise ArchiveError(f"not a valid tar stream: {exc}") from None
    except OSError as exc:
        raise ArchiveError(f"cannot unpack into {dest}: {exc.strerror or exc}") from None
    return count
