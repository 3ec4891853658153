# Copyright: (c) 2026, deploysafe.preflight contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The root of every error the collection's module_utils raise on purpose.

Each capability keeps its own error type (BackupError, S3Error, ManifestError...) so a caller can be
precise, and each of them subclasses PreflightError so a caller that only wants "a check failed in a
way we explain" can catch one type. The message says what failed and where; modules turn it into
fail_json(msg=...) without a traceback.
"""

from __future__ import annotations


class PreflightError(Exception):
    """A check or action failed for a reason the message explains (what and where)."""
