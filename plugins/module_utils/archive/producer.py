# Copyright: (c) 2026, deploysafe.preflight contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Producers: where the plaintext of an artifact comes from (a command's stdout, or any stream)."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import tempfile
from typing import BinaryIO, Dict, List, Optional, Sequence, Tuple

from .errors import ArchiveError

# A line on stderr is an error unless it is plainly a warning/notice: pg_dump and friends report
# some failures only there, and a backup that "succeeded" with errors is not a backup.
_NOT_ERROR = re.compile(r"^\s*(\S+:\s*)?(warning|notice|hint|detail|info)\b", re.IGNORECASE)
STDERR_LIMIT = 64 * 1024


def split_stderr(text: str) -> Tuple[List[str], List[str]]:
    """(error lines, warning/notice lines) of a PostgreSQL client program's stderr."""
    lines = [line for line in text.splitlines() if line.strip()]
    return ([line for line in lines if not _NOT_ERROR.match(line)],
            [line for line in lines if _NOT_ERROR.match(line)])


class StreamProducer:
    """Any readable binary stream; finish() and abort() do nothing."""

    def __init__(self, stream: BinaryIO, name: str = "stream") -> None:
        self.stream = stream
        self.name = name
        self.warnings: List[str] = []

    def finish(self) -> None:
        pass

    def abort(self) -> None:
        pass


class CommandProducer:
    """Run argv with stdout as the artifact's plaintext; stderr goes to a temporary file.

    finish() waits and raises ArchiveError on a non-zero exit, a signal, or any stderr line that is
    not a warning/notice; warnings are kept in `warnings`. abort() kills the process group.
    """

    def __init__(self, argv: Sequence[str], env: Optional[Dict[str, str]] = None, name: Optional[str] = None,
                 stdin=subprocess.DEVNULL) -> None:
        self.name = name or os.path.basename(argv[0])
        self.warnings: List[str] = []
        self._stderr = tempfile.TemporaryFile()
        try:
            self.proc = subprocess.Popen(list(argv), stdin=stdin, stdout=subprocess.PIPE, stderr=self._stderr,
                                         env=env, start_new_session=True)
        except OSError as exc:
            self._stderr.close()
            raise ArchiveError(f"cannot run {argv[0]}: {exc.strerror or exc}") from None
        self.stream = self.proc.stdout

    def _stderr_text(self) -> str:
        self._stderr.seek(0)
        return self._stderr.read(STDERR_LIMIT).decode("utf-8", "replace")

    def finish(self) -> None:
        try:
            code = self.proc.wait()
            text = self._stderr_text()
        finally:
            self._close()
        lines = [line for line in text.splitlines() if line.strip()]
        errors, self.warnings = split_stderr(text)
        if code < 0:
            try:
                signame = signal.Signals(-code).name
            except ValueError:
                signame = str(-code)
            raise ArchiveError(f"{self.name} was killed by {signame} before it finished"
                               + (f": {lines[-1]}" if lines else ""))
        if code != 0 or errors:
            detail = "; ".join((errors or lines)[-5:]) or "no message"
            raise ArchiveError(f"{self.name} failed (exit status {code}): {detail}")

    def abort(self) -> None:
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        try:
            self.proc.wait()
        finally:
            self._close()

    def _close(self) -> None:
        if self.proc.stdout and not self.proc.stdout.closed:
            self.proc.stdout.close()
        if not self._stderr.closed:
            self._stderr.close()
