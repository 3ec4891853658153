# Copyright: (c) 2026, deploysafe.preflight contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""File-like wrappers that hash and count bytes as they pass, so nothing is read twice."""

from __future__ import annotations

import hashlib
from typing import BinaryIO, List, Optional

# Stored bytes are also hashed per block so that verification can say *where* an artifact differs.
BLOCK_SIZE = 1 << 20
BLOCK_HASH_HEX = 16  # 64 bits per block: enough to locate a change; the full sha256 proves integrity


class BlockHasher:
    """sha256 of the whole stream plus a short sha256 per block (block_size 0: no block hashes; whole
    False: only the byte count and the blocks, hexdigest() is "")."""

    def __init__(self, block_size: int = BLOCK_SIZE, whole: bool = True) -> None:
        self.block_size = block_size
        self.total = hashlib.sha256() if whole else None
        self.blocks: List[str] = []
        self._block = hashlib.sha256()
        self._in_block = 0
        self.size = 0

    def update(self, data) -> None:
        view = memoryview(data)
        if self.total is not None:
            self.total.update(view)
        self.size += len(view)
        while self.block_size and len(view):
            take = min(len(view), self.block_size - self._in_block)
            self._block.update(view[:take])
            self._in_block += take
            view = view[take:]
            if self._in_block == self.block_size:
                self._close_block()

    def _close_block(self) -> None:
        self.blocks.append(self._block.hexdigest()[:BLOCK_HASH_HEX])
        self._block = hashlib.sha256()
        self._in_block = 0

    def finish(self) -> List[str]:
        """Close the last partial block; returns the block hashes."""
        if self._in_block:
            self._close_block()
        return self.blocks

    def hexdigest(self) -> str:
        return self.total.hexdigest() if self.total is not None else ""


class HashingReader:
    """Readable wrapper: sha256 and byte count of everything read through it.

    Exceptions raised by the wrapped stream are kept in `error`, because pyrage turns any exception
    from a Python reader into a string inside its own EncryptError.
    """

    def __init__(self, raw: BinaryIO, block_size: int = 0, whole: bool = True) -> None:
        self.raw = raw
        self.hasher = BlockHasher(block_size, whole)
        self.error: Optional[BaseException] = None

    @property
    def size(self) -> int:
        return self.hasher.size

    def read(self, n: int = -1) -> bytes:
        try:
            data = self.raw.read(n)
        except BaseException as exc:
            self.error = exc
            raise
        self.hasher.update(data)
        return data

    def readable(self) -> bool:
        return True

    def hexdigest(self) -> str:
        return self.hasher.hexdigest()

    def blocks(self) -> List[str]:
        """Per-block hashes (meaningful when a block_size was given); closes the last block."""
        return self.hasher.finish()


class HashingWriter:
    """Writable wrapper: sha256 (whole and per block) and byte count of everything written.

    Like HashingReader it remembers the first exception of the wrapped stream (e.g. ENOSPC).
    """

    def __init__(self, raw: Optional[BinaryIO], block_size: int = BLOCK_SIZE) -> None:
        self.raw = raw
        self.hasher = BlockHasher(block_size)
        self.error: Optional[BaseException] = None

    @property
    def size(self) -> int:
        return self.hasher.size

    def write(self, data) -> int:
        if self.raw is not None:
            try:
                self.raw.write(data)
            except BaseException as exc:
                self.error = exc
                raise
        self.hasher.update(data)
        return len(data)

    def flush(self) -> None:
        if self.raw is not None:
            self.raw.flush()

    def writable(self) -> bool:
        return True

    def hexdigest(self) -> str:
        return self.hasher.hexdigest()


def copy_stream(reader, writer, chunk: int = 1 << 20) -> None:
    """Copy until EOF in fixed chunks: constant memory whatever the stream size."""
    while True:
        data = reader.read(chunk)
        if not data:
            return
        writer.write(data)
