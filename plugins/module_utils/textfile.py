# Copyright: (c) 2026, deploysafe.preflight contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Gauges in the Prometheus text exposition format, for node_exporter's textfile collector.

Shared by backup_metrics (retention.metrics) and the checklist's readiness metrics (checklist.metrics):
rendering with the escaping the format requires, and atomic replacement of the .prom file (a temporary name
in the same directory that does not end in .prom, fsync, rename), so node_exporter never reads half a file.
"""

from __future__ import annotations

import os
import re
from typing import Any, Dict, List, Mapping, Sequence, Tuple

from .errors import PreflightError
from .verdict import atomic_write_bytes

# (labels, value) of one sample of a gauge
Sample = Tuple[Mapping[str, Any], float]
_FILE_NAME = re.compile(r"^[A-Za-z0-9_-]+$")


class TextfileError(PreflightError):
    """A .prom file cannot be rendered or written (the message says which and why)."""


def escape_label_value(value: Any) -> str:
    """A label value as the exposition format wants it: backslash, double quote and newline escaped."""
    return str(value).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def escape_help(text: str) -> str:
    return text.replace("\\", "\\\\").replace("\n", "\\n")


def format_value(value: float) -> str:
    value = float(value)
    return str(int(value)) if value.is_integer() and abs(value) < 2 ** 53 else repr(value)


def prom_file_name(prefix: str, name: str, what: str = "name") -> str:
    """<prefix><name>.prom, refusing names that are not letters, digits, _ and - (they name a file)."""
    if not _FILE_NAME.match(name or ""):
        raise TextfileError(f"{what} {name!r} must be letters, digits, _ or - (it names the .prom file)")
    return f"{prefix}{name}.prom"


def render_gauges(families: Sequence[Tuple[str, str, Sequence[Sample]]]) -> str:
    """The exposition text of (name, help, samples) families, in the given order: HELP, TYPE gauge, samples.
    A family without samples is left out (an absent series, not a misleading 0)."""
    lines: List[str] = []
    for name, help_text, samples in families:
        if not samples:
            continue
        lines += [f"# HELP {name} {escape_help(help_text)}", f"# TYPE {name} gauge"]
        for labels, value in samples:
            label_text = ",".join(f'{key}="{escape_label_value(val)}"' for key, val in labels.items())
            lines.append(f"{name}{{{label_text}}} {format_value(value)}" if label_text
                         else f"{name} {format_value(value)}")
    return "\n".join(lines) + "\n" if lines else ""


def write_textfile(path: str, text: str, hint: str = "node_exporter's --collector.textfile.directory") -> None:
    """Replace path with text atomically, mode 0644 (node_exporter runs as its own user)."""
    directory = os.path.dirname(path) or "."
    if not os.path.isdir(directory):
        raise TextfileError(f"textfile directory {directory} does not exist ({hint})")
    try:
        atomic_write_bytes(path, text.encode(), mode=0o644)
    except OSError as exc:
        raise TextfileError(f"cannot write {path}: {exc.strerror or exc}") from None


def replace_textfile(path: str, text: str, check_mode: bool = False,
                     hint: str = "node_exporter's --collector.textfile.directory") -> Tuple[bool, Dict[str, str]]:
    """(changed, diff): write text to path unless it already holds it (or in check mode)."""
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            before = handle.read()
    except FileNotFoundError:
        before = ""
    except OSError as exc:
        raise TextfileError(f"cannot read {path}: {exc.strerror or exc}") from None
    changed = before != text
    if changed and not check_mode:
        write_textfile(path, text, hint)
    return changed, {"before_header": path, "after_header": path, "before": before, "after": text}
