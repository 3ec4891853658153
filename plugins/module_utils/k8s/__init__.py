# Copyright: (c) 2026, deploysafe.preflight contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Kubernetes capability: connection options like kubernetes.core's (connection.py), workload rollout
status and diagnostics (workloads.py), throwaway namespaces (namespace.py), the deploy rehearsal
(rehearsal.py), revision history and rollbacks (history.py), the rollback rehearsal (rollback.py), label
selectors (labels.py) and the runtime security snapshot of a live namespace (runtime_security.py, with its
checks in runtime_checks.py and the snapshot file and baseline diff in runtime_snapshot.py).
Everything talks to the API server through the `kubernetes` Python client; nothing here touches
AnsibleModule."""

from __future__ import annotations

from ansible_collections.deploysafe.preflight.plugins.module_utils.errors import PreflightError


class K8sError(PreflightError):
    """A Kubernetes operation could not be done: bad options, unreachable cluster, forbidden request."""
