# Copyright: (c) 2026, deploysafe.preflight contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The image capability's error, in its own file so the readers (archive.py...) do not import the
package __init__, which imports them to run the scan."""

from __future__ import annotations

from ansible_collections.deploysafe.preflight.plugins.module_utils.errors import PreflightError


class ImageError(PreflightError):
    """The image cannot be read: missing file, not an image, truncated archive, unsafe member."""
