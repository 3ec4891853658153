# Copyright: (c) 2026, deploysafe.preflight contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:
    # The release's manifests, as the Kubernetes modules that apply them take them (objects.load_objects).
    DOCUMENTATION = r"""
options:
  paths:
    description: Manifest files or directories (C(*.yaml), C(*.yml), C(*.json); multi-document YAML).
    type: list
    elements: path
    default: []
  content:
    description: Manifest text, for example the output of C(helm template) or C(kustomize build).
    type: str
"""
