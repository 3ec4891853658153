# Copyright: (c) 2026, deploysafe.preflight contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What every manifest check shares: the error type and a parsed object with its lines. In its own file
so the checks (checks.py, schema.py, consistency.py, dry_run.py) do not import the package __init__,
which imports them to run the scan."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict

from ansible_collections.deploysafe.preflight.plugins.module_utils.errors import PreflightError
from ansible_collections.deploysafe.preflight.plugins.module_utils.findings import Location


class ManifestError(PreflightError):
    """Invalid input options (missing path, unreachable cluster) rather than a finding in a manifest."""


def escape_pointer(token: Any) -> str:
    return str(token).replace("~", "~0").replace("/", "~1")


@dataclass
class Document:
    """One Kubernetes object with where it came from and the line of every JSON pointer in it."""

    file: str
    index: int
    obj: Any
    lines: Dict[str, int] = field(default_factory=dict)

    @property
    def kind(self) -> str:
        return str(self.obj.get("kind", "")) if isinstance(self.obj, dict) else ""

    @property
    def api_version(self) -> str:
        return str(self.obj.get("apiVersion", "")) if isinstance(self.obj, dict) else ""

    @property
    def name(self) -> str:
        meta = self.obj.get("metadata") if isinstance(self.obj, dict) else None
        return str((meta or {}).get("name") or (meta or {}).get("generateName") or "?") if isinstance(meta, dict) else "?"

    @property
    def namespace(self) -> str:
        meta = self.obj.get("metadata") if isinstance(self.obj, dict) else None
        return str(meta.get("namespace") or "") if isinstance(meta, dict) else ""

    def ref(self) -> str:
        return f"{self.kind or '?'}/{self.name}"

    def location(self, pointer: str = "") -> Location:
        """Location of pointer, using the closest ancestor that has a known line."""
        probe = pointer
        while probe and probe not in self.lines:
            probe = probe.rsplit("/", 1)[0]
        return Location(file=self.file, line=self.lines.get(probe) or self.lines.get(""), pointer=pointer)
