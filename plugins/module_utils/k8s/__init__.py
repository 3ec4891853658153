# Copyright: (c) 2026, deploysafe.preflight contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Kubernetes capability: connection options like kubernetes.core's (connection.py), workload rollout
status and diagnostics (workloads.py), throwaway namespaces (namespace.py), the deploy rehearsal
(rehearsal.py), revision history and rollbacks (history.py) and the rollback rehearsal (rollback.py).
Everything talks to the API server through the `kubernetes` Python client; nothing here touches
AnsibleModule."""

from __future__ import annotations

from typing import List


class K8sError(Exception):
    """A Kubernetes operation could not be done: bad options, unreachable cluster, forbidden request."""


def missing_libraries() -> List[str]:
    """Python libraries the Kubernetes modules need that are not importable."""
    try:
        import kubernetes  # noqa: F401
    except ImportError:
        return ["kubernetes"]
    return []
