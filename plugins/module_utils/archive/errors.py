# Copyright: (c) 2026, deploysafe.preflight contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one error type of the archive layer."""

from __future__ import annotations

from ..errors import PreflightError


class ArchiveError(PreflightError):
    """Writing, reading or verifying an artifact failed; the message says what and where."""
