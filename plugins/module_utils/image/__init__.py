# Copyright: (c) 2026, deploysafe.preflight contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Container image validation: read an OCI layout or an OCI/docker-archive tarball in place
(never extracted), walk every layer with whiteouts applied, and run the image checks; plus a
Dockerfile lint (dockerfile.py) shared with the repository scan."""


class ImageError(Exception):
    """The image cannot be read: missing file, not an image, truncated archive, unsafe member."""
