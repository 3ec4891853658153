# Copyright: (c) 2026, deploysafe.preflight contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Backup retention: which backups a GFS policy keeps, why, and an audit of the backup history.

A location is a local directory or an ``s3://bucket/prefix/``, the places pg_backup and s3_backup
(archive mode) write. Files there form *backup sets* by name:

* ``<name>`` ending in ``.zst`` or ``.zst.age``: the artifact;
* ``<name>.manifest.json``: its manifest (written last by the archive layer, so it marks completeness);
* ``<name>.objects.jsonl``: the object list of an s3_backup archive (a companion);
* ``<name>.verified.json``: the verification record written by backup_verify (``record: true``);
* anything ending in ``.partial``: a temporary file of a backup that is still running or was killed.

Other files are ignored and never touched. A set is complete when both artifact and manifest exist;
otherwise its files are orphans. Sets are dated by the manifest's ``started_at`` (the moment the data
was captured, i.e. the recovery point), in UTC.

Modules: ``store`` (list/read/delete on a directory or S3 prefix), ``inventory`` (sets, orphans,
partials), ``verified`` (the verification record), ``policy`` (restic-style rules), ``plan``
(decisions + the never-delete-the-newest-verified invariant, and execution), ``audit`` (step-6 verdict).
"""

from __future__ import annotations

from ansible_collections.deploysafe.preflight.plugins.module_utils.errors import PreflightError


class RetentionError(PreflightError):
    """Bad policy or location, or a listing/reading error; the message says what and where."""
