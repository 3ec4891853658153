# Copyright: (c) 2026, deploysafe.preflight contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:
    # The release's manifests, as every module that reads them takes them (manifests.load_manifests).
    DOCUMENTATION = r"""
options:
  paths:
    description:
      - Manifest files or directories. Directories are searched recursively for C(*.yaml), C(*.yml) and C(*.json)
        files (symlinks not followed); a file may hold several YAML documents.
    type: list
    elements: path
    default: []
  content:
    description: Manifest text, for example the output of C(helm template) or C(kustomize build).
    type: str
"""
