# Copyright: (c) 2026, deploysafe.preflight contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The bundled offline schemas, one generated module per Kubernetes version (scripts/gen-k8s-schema):

- 1.36 from the OpenAPI document of the kube-apiserver the collection's tests run (mk/k8s.mk), so a
  test can regenerate it from that server and compare (tests/integration/validators);
- 1.37 from the kubernetes Python client pinned in requirements-dev.txt (its `release-1.37` models).

Each module states the version its source reported, and `schema_for()` picks one for a target version.
Imports are static so AnsiballZ ships every bundled schema with the module.
"""

from __future__ import annotations

from types import ModuleType
from typing import Tuple

from ansible_collections.deploysafe.preflight.plugins.module_utils.manifests import k8s_schema_1_36, k8s_schema_1_37
from ansible_collections.deploysafe.preflight.plugins.module_utils.manifests.api_versions import parse_version

SCHEMAS = {module.KUBERNETES_VERSION: module for module in (k8s_schema_1_36, k8s_schema_1_37)}
# The default target: the version of the control plane the collection is tested against.
DEFAULT_VERSION = "1.36"
KUBERNETES_VERSION = DEFAULT_VERSION
CLUSTER_SCOPED = k8s_schema_1_36.CLUSTER_SCOPED


def schema_for(target: str) -> Tuple[str, ModuleType]:
    """(version, schema module) for a target Kubernetes version: the bundled schema of that version, else the
    newest bundled one older than it, else the oldest bundled one (the caller reports which was used)."""
    wanted = parse_version(target)
    versions = sorted(SCHEMAS, key=parse_version)
    older = [v for v in versions if parse_version(v) <= wanted]
    chosen = older[-1] if older else versions[0]
    return chosen, SCHEMAS[chosen]
