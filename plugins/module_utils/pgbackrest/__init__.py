# Copyright: (c) 2026, deploysafe.preflight contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""pgBackRest: physical backups with WAL archiving, driven (never re-implemented), and proven by restores.

- config: the stanza's configuration file (render, read back) and the archive_command that pushes WAL
- command: run pgbackrest as the data directory's owner; info, check, verify parsed
- source: the source server as seen over SQL (archive settings, archiver status, markers)
- backup: a backup with its evidence (label, type, sizes, WAL range, archiving and repository status)
- scratch: a scratch cluster restored from the repository, started on a free port, always removed
- restore_verify: restore (latest or PITR) into the scratch cluster and prove the data, RTO and RPO
Errors are PgBackRestError: the message says what failed and where, never a password.
"""

from __future__ import annotations

from ..errors import PreflightError


class PgBackRestError(PreflightError):
    """A pgBackRest operation or its input failed; the message says what and where."""
