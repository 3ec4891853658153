# Copyright: (c) 2026, deploysafe.preflight contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""S3 bucket backup, restore and per-object proof (boto3), on top of the shared archive layer.

Modes of a backup (`backup.run_backup`):

* ``archive``: one streamed artifact through the archive layer. A thread lists the bucket and writes a
  POSIX tar (PAX headers) into a pipe; `write_artifact` reads the pipe (zstd, optional age, sha256,
  atomic publish). Tar members are named ``objects/<seq>`` (the S3 key is in the PAX header
  ``DEPLOYSAFE.key``), so extracting the tar can never write outside the extraction directory.
  The object manifest ``<artifact>.objects.jsonl`` (one JSON line per object) is published beside the
  artifact, its sha256 is sealed in the archive manifest's ``source.objects_manifest``, and it is also
  the last tar member (``MANIFEST.objects.jsonl``).
* ``mirror``: objects are copied (downloaded, hashed, uploaded) to
  ``s3://<dest_bucket>/<dest_prefix><name>/objects/<key>`` (``versions/<seq>/<key>`` for all versions);
  ``manifest.jsonl`` then ``backup.json`` (count, bytes, sha256 of the JSONL) are written last: a
  mirror without ``backup.json`` is incomplete.

Manifest line: key, version_id, is_latest, delete_marker, size, sha256 (computed while streaming),
etag, last_modified, content_type, metadata (user metadata), stored_as (tar member or mirror key).
"""

from __future__ import annotations

from ..errors import PreflightError


class S3Error(PreflightError):
    """An S3 backup, restore or verify step failed; the message says what and where."""
