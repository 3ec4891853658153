# Copyright: (c) 2026, deploysafe.preflight contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""PostgreSQL backup, restore and proof of restorability, on top of the archive layer.

- connection: ConnParams (from module params), connect(), libpq_env() for pg_dump/pg_restore
- tools: find the pg_dump/pg_restore/psql matching the server's major version
- content: table lists, per-table row counts + order-independent content hashes (settings pinned),
  foreign key / check constraint and sequence checks, all computed in SQL
- dumpstream: copy_sha256 fingerprints read from pg_dump's own output (custom stream, directory files)
- copyprint: the same fingerprints of live tables (COPY ... TO STDOUT), for restore-verify
- backup: run_backup() (snapshot-consistent pg_dump -> archive.write_artifact), plan_backup()
- restore: restore_artifact(), restore_verify() (scratch database), compare_database()
Errors are PgError (or archive.ArchiveError from the archive layer).
"""

from __future__ import annotations

from ..errors import PreflightError


class PgError(PreflightError):
    """A PostgreSQL operation failed; the message says what and where (never a password)."""
