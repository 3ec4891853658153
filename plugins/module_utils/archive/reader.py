# Copyright: (c) 2026, deploysafe.preflight contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Read an artifact back: stored bytes -> (age decrypt) -> zstd decompress -> a sink, hashing both ends."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, BinaryIO, Optional, Sequence

from .crypto import require_pyrage
from .errors import ArchiveError
from .streams import BLOCK_SIZE, HashingReader, HashingWriter, copy_stream
from .writer import require_zstandard


class _Discard:
    def write(self, data) -> int:
        return len(data)

    def flush(self) -> None:
        pass


@dataclass
class ReadResult:
    """Hashes of what was read (stored side always complete, plaintext side up to any error)."""
    stored_bytes: int
    sha256: str  # "" when read with hash_stored=False
    block_sha256: list
    plaintext_bytes: int
    plaintext_sha256: str
    error: Optional[str] = None     # first decryption/decompression error, None when clean
    error_stage: Optional[str] = None  # "decrypt" | "decompress" | "sink"


def read_artifact(path: str, sink: Optional[BinaryIO] = None, *, encrypted: bool,
                  identities: Sequence[Any] = (), block_size: int = BLOCK_SIZE, hash_stored: bool = True) -> ReadResult:
    """Stream the artifact at path into sink (None: discard) as plaintext.

    hash_stored=False skips the sha256 of the stored bytes (the result's sha256 is then ""): for a caller
    that has just checked them against the manifest and only needs the plaintext side.

    Never raises for content problems: a decrypt/decompress error is returned in `error` and the rest
    of the file is still hashed, so the caller can say where the stored bytes differ. Raises
    ArchiveError only when the file cannot be opened or read, or the sink fails (e.g. a closed pipe).
    """
    zstd = require_zstandard()
    try:
        handle = open(path, "rb", buffering=0)
    except OSError as exc:
        raise ArchiveError(f"cannot read artifact {path}: {exc.strerror or exc}") from None
    with handle:
        stored = HashingReader(handle, block_size=block_size, whole=hash_stored)
        plain = HashingWriter(sink if sink is not None else _Discard(), block_size=0)  # no per-block plaintext hashes: nothing reads them
        error = stage = None
        dctx = zstd.ZstdDecompressor()
        try:
            with dctx.stream_writer(plain, closefd=False, write_size=1 << 20) as zw:
                if encrypted:
                    lib = require_pyrage()
                    if not identities:
                        raise ArchiveError(f"artifact {path} is age-encrypted: an identity is needed to read it")
                    try:
                        lib.decrypt_io(stored, zw, list(identities))
                    except lib.DecryptError as exc:
                        if stored.error is not None:
                            raise stored.error
                        if plain.error is not None:
                            raise plain.error
                        error, stage = _decrypt_message(str(exc), plain.size), "decrypt"
                        if "zstd" in str(exc).lower() or "ZstdError" in str(exc):
                            stage = "decompress"
                else:
                    copy_stream(stored, zw)
        except zstd.ZstdError as exc:
            error, stage = f"zstd decompression failed after {plain.size} plaintext bytes: {exc}", "decompress"
        except OSError as exc:
            if plain.error is not None:
                raise ArchiveError(f"writing the plaintext of {path} failed: {exc.strerror or exc}") from None
            if stored.error is not None or not encrypted:
                raise ArchiveError(f"cannot read artifact {path}: {exc.strerror or exc}") from None
            # pyrage reports a failed STREAM chunk (authentication tag mismatch) as an I/O error.
            error, stage = (f"age decryption failed after {plain.size} plaintext bytes "
                            f"(a chunk does not authenticate: the stored bytes were changed): {exc}"), "decrypt"
        # Hash whatever the decoder did not consume, so the stored sha256 and blocks are complete.
        try:
            copy_stream(stored, _Discard())
        except OSError as exc:
            raise ArchiveError(f"cannot read artifact {path}: {exc.strerror or exc}") from None
    return ReadResult(stored_bytes=stored.size, sha256=stored.hexdigest(), block_sha256=stored.blocks(),
                      plaintext_bytes=plain.size, plaintext_sha256=plain.hexdigest(), error=error,
                      error_stage=stage)


def _decrypt_message(text: str, plaintext_done: int) -> str:
    low = text.lower()
    if "no matching keys" in low or "no identity matched" in low:
        return "age decryption failed: none of the identities matches a recipient of this artifact"
    return f"age decryption failed after {plaintext_done} plaintext bytes: {text}"
