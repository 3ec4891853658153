# Copyright: (c) 2026, deploysafe.preflight contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Label selectors as the API server evaluates them (metav1.LabelSelector). Pure functions, shared by
the manifest consistency checks (PodDisruptionBudgets) and the runtime snapshot (NetworkPolicies)."""

from __future__ import annotations

from typing import Any, Mapping


def selector_matches(selector: Any, labels: Mapping[str, str]) -> bool:
    """True when a LabelSelector ({matchLabels, matchExpressions}) selects an object with these labels.

    As in Kubernetes: every matchLabels pair and every expression must hold; an empty selector ({})
    selects everything (a NetworkPolicy with `podSelector: {}` applies to every pod of its namespace);
    a missing selector (None) selects nothing; an unknown operator selects nothing. NotIn and
    DoesNotExist hold for an object without the key."""
    if not isinstance(selector, Mapping):
        return False
    for key, value in (selector.get("matchLabels") or {}).items():
        if labels.get(str(key)) != str(value):
            return False
    for expr in selector.get("matchExpressions") or []:
        if not isinstance(expr, Mapping):
            return False
        key, op = str(expr.get("key")), expr.get("operator")
        values = [str(v) for v in expr.get("values") or []]
        holds = {"In": key in labels and labels[key] in values,
                 "NotIn": labels.get(key) not in values,
                 "Exists": key in labels,
                 "DoesNotExist": key not in labels}.get(str(op), False)
        if not holds:
            return False
    return True
