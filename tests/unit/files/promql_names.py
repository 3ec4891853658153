"""Metric names used by PromQL expressions (alert rules, Grafana dashboards), so a test can hold each shipped
query to the names the code writes."""

from __future__ import annotations

import json
import re
from pathlib import Path

# PromQL words that are not metric names: aggregation modifiers, vector matching, set operators
KEYWORDS = {"by", "without", "on", "ignoring", "group_left", "group_right", "bool", "and", "or", "unless",
            "offset", "inf", "nan"}
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'|`[^`]*`')
_MATCHERS = re.compile(r"\{[^{}]*\}")
_RANGE = re.compile(r"\[[^\]]*\]")
_LABEL_LIST = re.compile(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^()]*\)")
_IDENT = re.compile(r"(?<![\w$.])([A-Za-z_:][A-Za-z0-9_:]*)(\s*\()?")
_LABEL_VALUES = re.compile(r"^\s*label_values\((.*?)(?:,\s*[A-Za-z_]\w*)?\)\s*$", re.S)


def metric_names(expr: str) -> set:
    """Metric names in a PromQL expression (or a Grafana label_values(selector, label) query)."""
    inner = _LABEL_VALUES.match(expr)
    if inner:
        expr = inner.group(1)
    text = _STRING.sub('""', expr)
    text = _MATCHERS.sub("", text)
    text = _RANGE.sub("", text)
    text = _LABEL_LIST.sub("", text)
    text = re.sub(r"\$\{?\w+\}?", "", text)  # Grafana variables
    names = set()
    for name, call in _IDENT.findall(text):
        if not call and name.lower() not in KEYWORDS:
            names.add(name)
    return names


def dashboard_expressions(path: Path) -> list:
    """(where, expr) for every panel target and every query variable of the dashboard."""
    doc = json.loads(path.read_text())
    out = []
    for panel in doc["panels"]:
        for target in panel.get("targets", []):
            out.append((f"panel {panel['title']!r} {target['refId']}", target["expr"]))
    for var in doc["templating"]["list"]:
        if var["type"] == "query":
            query = var["query"]["query"] if isinstance(var["query"], dict) else var["query"]
            out.append((f"variable {var['name']}", query))
    return out
