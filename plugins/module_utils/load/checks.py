# Copyright: (c) 2026, deploysafe.preflight contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Response checks of the built-in engine beyond the status: a body substring and JSON values by path.

A failed check makes the request an error of kind `check_body` or `check_json`; the message names the
request and the path, never the body (it may hold data the report must not carry)."""

from __future__ import annotations

import json
import re
from typing import Any, Callable, List, Optional, Union

from .plan import LoadTestError, RequestSpec

_STEP = re.compile(r"\.?([^.\[\]]+)|\[(-?\d+)\]")
_MISSING = object()


def parse_path(path: str) -> List[Union[str, int]]:
    """`data.items[0].id` (a leading `$.` is allowed) -> ["data", "items", 0, "id"]."""
    text = path[2:] if path.startswith("$.") else path.lstrip("$")
    steps: List[Union[str, int]] = []
    pos = 0
    while pos < len(text):
        m = _STEP.match(text, pos)
        if not m or m.end() == pos:
            raise LoadTestError(f"JSON path {path!r}: cannot read it at character {pos + 1} "
                                "(use dotted keys and [index], e.g. data.items[0].id)")
        steps.append(m.group(1) if m.group(1) is not None else int(m.group(2)))
        pos = m.end()
    if not steps:
        raise LoadTestError(f"JSON path {path!r} is empty")
    return steps


def lookup(doc: Any, steps: List[Union[str, int]]) -> Any:
    for step in steps:
        if isinstance(step, int) and isinstance(doc, list) and -len(doc) <= step < len(doc):
            doc = doc[step]
        elif isinstance(doc, dict) and str(step) in doc:
            doc = doc[str(step)]
        else:
            return _MISSING
    return doc


def build_check(spec: RequestSpec) -> Optional[Callable[[bytes], str]]:
    """body -> "" when every check of `spec` holds, else "check_body" / "check_json" (the failure kind)."""
    needle = spec.expect_body.encode() if spec.expect_body else b""
    paths = [(p, parse_path(p), v) for p, v in (spec.expect_json or {}).items()]
    if not needle and not paths:
        return None

    def check(body: bytes) -> str:
        if needle and needle not in body:
            return "check_body"
        if paths:
            try:
                doc = json.loads(body)
            except ValueError:
                return "check_json"
            for _path, steps, want in paths:
                got = lookup(doc, steps)
                if got is _MISSING or (want is not None and got != want):
                    return "check_json"
        return ""
    return check


def describe(spec: RequestSpec, kind: str) -> str:
    """What a failed check expected, for the run's first error of that kind."""
    if kind == "check_body":
        return f"{spec.method} {spec.url}: the body does not contain {spec.expect_body!r}"
    wanted = ", ".join(f"{p} == {json.dumps(v)}" if v is not None else f"{p} present"
                       for p, v in (spec.expect_json or {}).items())
    return f"{spec.method} {spec.url}: the body is not JSON with {wanted}"
