# Copyright: (c) 2026, deploysafe.preflight contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A scratch restore of a directory-format backup that starts pg_restore before the unpack ends.

Backups order their tar as toc.dat, then the table files smallest first (backup._restore_order), and list
the members in the manifest. A scratch restore unpacks everything but the last (largest) member to files,
then makes that one a FIFO, starts pg_restore, and streams the member's bytes into it while pg_restore
restores the rest: the unpack of the biggest table overlaps its load instead of coming before it.

Only for scratch databases (restore-verify, drills): the artifact's integrity (age, zstd checksum, the
plaintext sha256) is known only at the end of the stream, after pg_restore has read it. A scratch database
is dropped whatever happens and the proof fails on any mismatch; a production restore verifies first.
"""

from __future__ import annotations

import errno
import fcntl
import os
import re
import subprocess
import time
from typing import Any, BinaryIO, Dict, List, Optional

from ..archive import ArchiveError

POLL_S = 0.002
TABLE_FILE = re.compile(r"[0-9]+\.dat\Z")  # a TABLE DATA file (<dumpId>.dat); not toc.dat, blobs or subdirectories


def streamed_member(manifest: Dict[str, Any]) -> Optional[str]:
    """The member to stream: the tar's last one, when it is a table's data file and toc.dat comes before
    it; None for older backups (sorted order, toc.dat last) and anything else."""
    members: List[Dict[str, Any]] = manifest.get("source", {}).get("members") or []
    names = [str(m.get("name") or "") for m in members if isinstance(m, dict)]
    if len(names) < 2 or "toc.dat" not in names[:-1]:
        return None
    last = names[-1]
    return last if TABLE_FILE.match(last) else None


class FifoStart:
    """TarSink open_member hook: at the header of `member`, make it a FIFO, start pg_restore (argv) and
    return the FIFO's write end once pg_restore has opened it. `proc` and `started_at` tell the caller."""

    def __init__(self, member: str, argv: List[str], env: Dict[str, str], stderr: BinaryIO) -> None:
        self.member, self.argv, self.env, self.stderr = member, argv, env, stderr
        self.proc: Optional[subprocess.Popen] = None
        self.started_at: Optional[float] = None

    def __call__(self, name: str, target: str, size: int) -> Optional[BinaryIO]:
        if name != self.member or self.proc is not None:
            return None
        os.mkfifo(target, 0o600)
        self.proc = subprocess.Popen(self.argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=self.stderr, env=self.env)
        self.started_at = time.monotonic()
        return _open_writer(target, self.proc)

    def stop(self) -> None:
        """Kill pg_restore if it still runs (the stream failed: what it restored is not trusted)."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


def _open_writer(target: str, proc: subprocess.Popen) -> BinaryIO:
    """Open the FIFO for writing without blocking forever: poll until pg_restore opens it for reading or
    exits (then its own error says why; --exit-on-error makes it stop at the first one)."""
    while True:
        try:
            fd = os.open(target, os.O_WRONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
            break
        except OSError as exc:
            if exc.errno != errno.ENXIO:  # ENXIO: no reader yet
                raise
        if proc.poll() is not None:
            raise ArchiveError(f"pg_restore ended (exit status {proc.returncode}) before it read "
                               f"{os.path.basename(target)}")
        time.sleep(POLL_S)
    fcntl.fcntl(fd, fcntl.F_SETFL, fcntl.fcntl(fd, fcntl.F_GETFL) & ~os.O_NONBLOCK)
    return os.fdopen(fd, "wb", buffering=1 << 16)  # BufferedWriter: whole writes, whatever the pipe takes
