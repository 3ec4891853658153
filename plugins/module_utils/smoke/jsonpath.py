# Copyright: (c) 2026, deploysafe.preflight contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The small JSON-path subset the smoke checks accept, without a dependency.

Grammar: ``$`` then any number of steps: ``.name`` (letters, digits, ``_``, ``-``), ``['any name']`` or
``["any name"]``, ``[N]`` (a list index; negative counts from the end) and ``[*]`` or ``.*`` (every
element of a list, every value of an object). Not supported: recursive descent (``..``), slices,
filters (``?()``), unions.

A path without a wildcard selects one value, or nothing (the reason says at which step it stopped). A
path with a wildcard selects the list of every value it reaches (possibly empty), so ``min_items`` on
``$.items[*].id`` counts them and ``contains`` asks whether one of them is equal.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, List, Tuple, Union

from ..errors import PreflightError

WILDCARD = "*"
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")
_INDEX = re.compile(r"\[(-?\d+)\]")
_QUOTED = re.compile(r"""\[(?:'((?:[^'\\]|\\.)*)'|"((?:[^"\\]|\\.)*)")\]""")


class JsonPathError(PreflightError, ValueError):
    """A path outside the supported subset; the message says where it stops making sense."""


@dataclass(frozen=True)
class PathStep:
    """A parsed step: a key (str), an index (int) or the wildcard (kind 'wild')."""
    kind: str      # key | index | wild
    value: Union[str, int] = ""

    def text(self) -> str:
        if self.kind == "wild":
            return "[*]"
        if self.kind == "index":
            return f"[{self.value}]"
        return f".{self.value}" if _NAME.fullmatch(str(self.value)) else f"[{str(self.value)!r}]"


def parse(path: str) -> List[PathStep]:
    """The steps of path; JsonPathError names the offending position."""
    if not isinstance(path, str) or not path.startswith("$"):
        raise JsonPathError(f"JSON path {path!r} must start with '$' (e.g. $.items[0].title)")
    steps: List[PathStep] = []
    pos = 1
    while pos < len(path):
        rest = path[pos:]
        if rest.startswith(".."):
            raise JsonPathError(f"JSON path {path!r}: recursive descent '..' is not supported (at {pos})")
        if rest.startswith(".*"):
            steps.append(PathStep("wild"))
            pos += 2
            continue
        if rest.startswith("."):
            match = _NAME.match(rest, 1)
            if not match:
                raise JsonPathError(f"JSON path {path!r}: expected a name after '.' at position {pos} "
                                    "(use ['...'] for other keys)")
            steps.append(PathStep("key", match.group(0)))
            pos += match.end()
            continue
        if rest.startswith("[*]"):
            steps.append(PathStep("wild"))
            pos += 3
            continue
        match = _INDEX.match(rest) or _QUOTED.match(rest)
        if not match:
            raise JsonPathError(f"JSON path {path!r}: unsupported syntax at position {pos}: {rest[:20]!r} "
                                "(supported: .name, ['name'], [N], [*], .*)")
        if match.re is _INDEX:
            steps.append(PathStep("index", int(match.group(1))))
        else:
            quoted = match.group(1) if match.group(1) is not None else match.group(2)
            steps.append(PathStep("key", re.sub(r"\\(.)", r"\1", quoted)))
        pos += match.end()
    return steps


def _kind(value: Any) -> str:
    if isinstance(value, dict):
        return f"an object with {len(value)} key(s)"
    if isinstance(value, list):
        return f"a list of {len(value)} item(s)"
    return "null" if value is None else f"a {type(value).__name__}"


def select(doc: Any, path: str) -> Tuple[bool, Any, str]:
    """(found, value, why not). With a wildcard in path, found is True and value is the list of every
    value reached; without, value is the one value, or found is False and why names the failing step."""
    steps = parse(path)
    values: List[Any] = [doc]
    multi = False
    walked = "$"
    for step in steps:
        reached: List[Any] = []
        for value in values:
            if step.kind == "wild":
                if isinstance(value, list):
                    reached.extend(value)
                elif isinstance(value, dict):
                    reached.extend(value.values())
            elif step.kind == "index":
                if isinstance(value, list) and -len(value) <= int(step.value) < len(value):
                    reached.append(value[int(step.value)])
            elif isinstance(value, dict) and step.value in value:
                reached.append(value[step.value])
        if step.kind == "wild":
            multi = True
        if not reached and not multi:
            here = values[0]
            what = ("no such key" if isinstance(here, dict) else "not an object") if step.kind == "key" else \
                ("no such index" if isinstance(here, list) else "not a list")
            return False, None, f"{walked}{step.text()}: {what} ({walked} is {_kind(here)})"
        values = reached
        walked += step.text()
    if multi:
        return True, values, ""
    return True, values[0], ""
