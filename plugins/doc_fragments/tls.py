# Copyright: (c) 2026, deploysafe.preflight contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:
    # TLS options of the modules that send HTTP(S) requests through health.http (health_check, smoke_check).
    DOCUMENTATION = r"""
options:
  validate_certs:
    description: Verify the TLS certificate of HTTPS URLs.
    type: bool
    default: true
  ca_path:
    description: CA bundle to verify HTTPS URLs with.
    type: path
"""
