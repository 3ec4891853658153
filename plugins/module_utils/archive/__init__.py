# Copyright: (c) 2026, deploysafe.preflight contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Archive layer: streamed, compressed, optionally encrypted, hashed and atomically published artifacts.

Shared by the PostgreSQL and S3 backups. Nothing here holds a whole backup in memory.

Writing::

    from ...archive import CommandProducer, artifact_name, write_artifact
    producer = CommandProducer(["pg_dump", "-Fc", "-Z0"], env=env, name="pg_dump")   # or StreamProducer(f)
    name = artifact_name("nightly", "app", encrypted=True)    # nightly-app-20261125T140000Z.dump.zst.age
    result = write_artifact(producer, "/backups", name, level=3, threads=-1,
                            recipients=["age1..."], content_type="application/x-pg-dump-custom",
                            source_identity={"kind": "postgresql", ...},
                            source=lambda: {...})          # dict, or callable run after the producer ended
    result.path, result.manifest_path, result.sha256, result.plaintext_sha256, result.manifest

  Pipeline: producer.stream -> HashingReader (plaintext sha256) -> zstd (level, threads, frame checksum)
  -> age (pyrage.encrypt_io over a zstd stream_reader, when recipients are given) -> HashingWriter
  (sha256 of stored bytes + 64-bit sha256 per 1 MiB block) -> `<name>.partial` (0600, O_EXCL) -> fsync
  -> producer.finish() (raises on non-zero exit / stderr errors) -> rename to `<name>` -> fsync dir ->
  manifest `<name>.manifest.json` (atomic, 0600). Any failure aborts the producer, removes the partial
  (and the artifact if the manifest could not be written) and raises ArchiveError.

  A producer is any object with `stream` (readable binary), `finish()` and `abort()`, and optionally
  `warnings` (list of str): CommandProducer (a command's stdout), StreamProducer (any stream) and
  DirectoryProducer (a deterministic tar of a directory once a `prepare` callable finished, e.g.
  pg_dump -Fd; `untar_safely` unpacks such a stream refusing absolute paths, `..` and links).

Reading and verifying::

    read_artifact(path, sink, encrypted=True, identities=load_identities("key.txt"))  # plaintext -> sink
    report = verify_artifact(path, identity_file="key.txt")   # VerifyReport: checks, differing_blocks
    verdict = verify_verdict(report)                          # evidence-contract verdict

Manifest (format "deploysafe.preflight/archive-manifest", version 1; `load_manifest` checks it):
  tool{name,version}, artifact{name,bytes,sha256,block_size,block_sha256[]},
  plaintext{bytes,sha256,content_type}, compression{algorithm,level,threads,checksum},
  encryption null | {scheme:"age", recipients:[fingerprint]}, source_identity{}, source{} (producer
  specific: e.g. PostgreSQL server version, per-table row counts and hashes), started_at, finished_at,
  duration_s, digest (sha256 over the rest, detects edits; not a signature).
  Recipient fingerprint = "sha256:" + first 16 hex digits of sha256(public key text).
"""

from __future__ import annotations

from .crypto import fingerprint, identity_fingerprints, load_identities, parse_recipients
from .errors import ArchiveError
from .manifest import MANIFEST_FORMAT, MANIFEST_SUFFIX, MANIFEST_VERSION, load_manifest, manifest_path, write_manifest
from .producer import CommandProducer, StreamProducer, split_stderr
from .reader import ReadResult, read_artifact
from .tardir import CONTENT_TYPE_TAR, DirectoryProducer, TarSink, tar_directory, untar_safely
from .verify import Check, VerifyReport, verify_artifact, verify_verdict
from .writer import PARTIAL_SUFFIX, ArtifactResult, artifact_name, utc_stamp, write_artifact

__all__ = [
    "ArchiveError", "ArtifactResult", "CONTENT_TYPE_TAR", "Check", "CommandProducer", "DirectoryProducer",
    "MANIFEST_FORMAT", "MANIFEST_SUFFIX",
    "MANIFEST_VERSION", "PARTIAL_SUFFIX", "ReadResult", "StreamProducer", "VerifyReport", "artifact_name",
    "fingerprint", "identity_fingerprints", "load_identities", "load_manifest", "manifest_path",
    "parse_recipients", "read_artifact", "split_stderr", "TarSink", "tar_directory", "untar_safely", "utc_stamp",
    "verify_artifact", "verify_verdict", "write_artifact",
]
