# Copyright: (c) 2026, deploysafe.preflight contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Checklist items: which verdict file each reads from <run_dir>/<name>.json and whether it is critical."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Tuple, Union

from ..errors import PreflightError

SIGNOFF_NAME = "signoff"
_NAME_RE = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]*")


class ChecklistError(PreflightError):
    """A checklist definition, sign-off or report that cannot be used; the message says what and where."""


@dataclass(frozen=True)
class Item:
    id: Union[int, str]
    name: str
    title: str
    critical: bool
    # the verdict names the item reads (<record>.json, <record>@<host>.json); the worst one decides
    records: Tuple[str, ...] = ()

    @property
    def sources(self) -> Tuple[str, ...]:
        return self.records or (self.name,)


# (name, title, critical, records): the 12 items of playbooks/predeploy.yml; names are the roles' names.
# Two items read a second role's verdict: the security item the live namespace's runtime snapshot (step 3),
# the deployment item the production dry-run (step 12), so each stays one line a reviewer signs.
DEFAULT_ITEMS = (
    ("image_validate", "Container image validated", True, ()),
    ("manifest_validate", "Kubernetes manifests validated", True, ()),
    ("security_scan", "Security scan and runtime security clean", True, ("security_scan", "runtime_security")),
    ("pg_backup", "PostgreSQL backup taken and proven", True, ()),
    ("s3_backup", "S3 backup taken and proven", True, ()),
    ("backup_schedule", "Backup schedule in place", False, ()),
    ("deploy_rehearsal", "Deployment rehearsed and dry-run in production", True,
     ("deploy_rehearsal", "production_dry_run")),
    ("rollback_rehearsal", "Rollback rehearsed", True, ()),
    ("load_test", "Load test within thresholds", True, ()),
    ("health_check", "Health checks pass", True, ()),
    ("monitoring_gate", "Monitoring quiet (no firing alerts)", False, ()),
    (SIGNOFF_NAME, "Human sign-off recorded", True, ()),
)
_DEFAULTS = {name: (title, critical, records) for name, title, critical, records in DEFAULT_ITEMS}


def build_items(items: Optional[List[Dict[str, Any]]] = None, critical: Optional[Dict[str, bool]] = None) -> List[Item]:
    """The checklist: the defaults, or the user's list of dicts (name, optional id/title/critical).

    A user item named like a default inherits its title and criticality; an unknown one is critical
    unless it says otherwise (an unplanned check should block rather than slip through).
    `critical` maps names to a criticality that overrides both.
    """
    source = items or [{"name": entry[0]} for entry in DEFAULT_ITEMS]
    result: List[Item] = []
    for position, entry in enumerate(source, 1):
        if not isinstance(entry, dict):
            raise ChecklistError(f"checklist item {position} must be a dict with at least 'name', got {entry!r}")
        unknown = set(entry) - {"id", "name", "title", "critical", "records"}
        if unknown:
            raise ChecklistError(f"checklist item {position}: unknown keys {sorted(unknown)} (id, name, title, critical, records)")
        name = entry.get("name")
        if not isinstance(name, str) or not _NAME_RE.fullmatch(name):
            raise ChecklistError(f"checklist item {position}: name {name!r} must be a plain file name (letters, digits, _ - .)")
        title, is_critical, records = _DEFAULTS.get(name, (name, True, ()))
        flag = entry.get("critical", is_critical)
        if not isinstance(flag, bool):
            raise ChecklistError(f"checklist item {name!r}: critical must be true or false, got {flag!r}")
        records = _records(name, entry.get("records", records))
        result.append(Item(id=entry.get("id", position), name=name, title=str(entry.get("title") or title),
                           critical=flag, records=records))
    for name, flag in (critical or {}).items():
        if not isinstance(flag, bool):
            raise ChecklistError(f"critical override for {name!r} must be true or false, got {flag!r}")
        if name not in {i.name for i in result}:
            raise ChecklistError(f"critical override names {name!r}, which is not a checklist item")
        result = [Item(i.id, i.name, i.title, flag, i.records) if i.name == name else i for i in result]
    for key in ("name", "id"):
        seen = [str(getattr(i, key)) for i in result]
        dupes = sorted({v for v in seen if seen.count(v) > 1})
        if dupes:
            raise ChecklistError(f"checklist item {key}s must be unique; repeated: {', '.join(dupes)}")
    read = [record for i in result for record in i.sources]
    shared = sorted({r for r in read if read.count(r) > 1})
    if shared:
        raise ChecklistError(f"a verdict may count for one checklist item only; read by several: {', '.join(shared)}")
    return result


def _records(name: str, value: Any) -> Tuple[str, ...]:
    """The verdict names an item reads: a non-empty list of plain names; the sign-off reads only its own."""
    if value in (None, (), []):
        return ()
    if not isinstance(value, (list, tuple)) or not value:
        raise ChecklistError(f"checklist item {name!r}: records must be a list of verdict names, got {value!r}")
    for record in value:
        if not isinstance(record, str) or not _NAME_RE.fullmatch(record):
            raise ChecklistError(f"checklist item {name!r}: record {record!r} must be a plain file name (letters, digits, _ - .)")
    if name == SIGNOFF_NAME and tuple(value) != (SIGNOFF_NAME,):
        raise ChecklistError(f"checklist item {SIGNOFF_NAME!r} reads only its own record, not {list(value)}")
    if len(set(value)) != len(value):
        raise ChecklistError(f"checklist item {name!r}: records repeat a name: {list(value)}")
    return tuple(value) if tuple(value) != (name,) else ()


_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_max_age(value: Any) -> Optional[int]:
    """Seconds from 3600, '3600', '90m', '24h' or '7d'; None or '' means no age limit."""
    if value is None or value == "":
        return None
    text = str(value).strip().lower()
    match = re.fullmatch(r"(\d+)\s*([smhd]?)", text)
    if not match or int(match.group(1)) <= 0:
        raise ChecklistError(f"max_age {value!r} must be a positive number of seconds or like 90m, 24h, 7d")
    return int(match.group(1)) * _UNITS[match.group(2) or "s"]
