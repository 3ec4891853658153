# Copyright: (c) 2026, deploysafe.preflight contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Smoke check definitions (validated from plain dicts) and the response assertions they carry.

A check: {name, url (absolute, or a path joined to base_url), method, headers, body | json,
expect: {status, json: [{path, equals | contains | min_items | matches | exists}], body_contains, max_ms},
retries, timeout}. Every assertion message says what was expected and what came back, shortened;
request headers and bodies never enter a message (they may carry credentials).
"""

from __future__ import annotations

import difflib
import json
import re
import urllib.parse
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Tuple

from ..errors import PreflightError
from .jsonpath import JsonPathError, parse, select

OPERATORS = ("equals", "contains", "min_items", "matches", "exists")
CHECK_KEYS = ("name", "url", "method", "headers", "body", "json", "expect", "retries", "timeout")
EXPECT_KEYS = ("status", "json", "body_contains", "max_ms")
READ_ONLY_METHODS = ("GET", "HEAD", "OPTIONS")
SHOWN_CHARS = 120
_UNSET = object()


class SmokeError(PreflightError, ValueError):
    """A smoke check definition that cannot be used; the message names the check and the key."""


@dataclass
class JsonAssertion:
    path: str
    operator: str
    expected: Any


@dataclass
class SmokeCheck:
    name: str
    url: str
    method: str = "GET"
    headers: Dict[str, str] = field(default_factory=dict)
    data: Optional[bytes] = None                 # the request body, from body or json
    content_type: str = ""
    status: List[int] = field(default_factory=lambda: [200])
    json: List[JsonAssertion] = field(default_factory=list)
    body_contains: List[str] = field(default_factory=list)
    max_ms: Optional[float] = None
    retries: int = 0
    timeout: float = 10.0

    @property
    def read_only(self) -> bool:
        return self.method in READ_ONLY_METHODS


def shown(value: Any, limit: int = SHOWN_CHARS) -> str:
    """A value as compact JSON, cut to limit characters (responses can be large)."""
    try:
        text = json.dumps(value, sort_keys=True, ensure_ascii=False, default=str)
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= limit else text[:limit - 1] + "…"


def _unknown(keys: Any, known: Tuple[str, ...], where: str) -> None:
    unknown = sorted(str(k) for k in keys if k not in known)
    if unknown:
        hints = [f"{k} (did you mean {close[0]}?)" if close else k
                 for k in unknown for close in [difflib.get_close_matches(k, known, n=1)]]
        raise SmokeError(f"{where}: unknown key(s) {', '.join(hints)}; known: {', '.join(known)}")


def _present(entry: Dict[str, Any], key: str) -> bool:
    # Ansible fills absent suboptions with None: None means "not given" here.
    return entry.get(key) is not None


def parse_assertion(raw: Any, where: str) -> JsonAssertion:
    if not isinstance(raw, dict):
        raise SmokeError(f"{where}: must be a dict like {{path: '$.items[0].title', equals: ...}}, got {shown(raw)}")
    _unknown(raw, ("path",) + OPERATORS, where)
    path = raw.get("path")
    try:
        parse(path)
    except JsonPathError as exc:
        raise SmokeError(f"{where}: {exc}") from None
    ops = [op for op in OPERATORS if _present(raw, op)]
    if len(ops) != 1:
        raise SmokeError(f"{where} ({path}): give exactly one of {', '.join(OPERATORS)}, got {ops or 'none'}")
    op, expected = ops[0], raw[ops[0]]
    if op == "min_items" and (isinstance(expected, bool) or not isinstance(expected, int) or expected < 0):
        raise SmokeError(f"{where} ({path}): min_items must be a whole number >= 0, got {shown(expected)}")
    if op == "matches":
        try:
            re.compile(str(expected))
        except re.error as exc:
            raise SmokeError(f"{where} ({path}): matches is not a valid regular expression: {exc}") from None
    if op == "exists" and not isinstance(expected, bool):
        raise SmokeError(f"{where} ({path}): exists must be true or false, got {shown(expected)}")
    return JsonAssertion(path, op, expected)


def _url(raw: Any, base_url: str, where: str) -> str:
    if not isinstance(raw, str) or not raw:
        raise SmokeError(f"{where}: url is required (absolute, or a path relative to base_url)")
    if raw.startswith(("http://", "https://")):
        return raw
    if not base_url:
        raise SmokeError(f"{where}: url {raw!r} is relative but base_url is not set")
    if not base_url.startswith(("http://", "https://")):
        raise SmokeError(f"base_url {base_url!r} must start with http:// or https://")
    return urllib.parse.urljoin(base_url.rstrip("/") + "/", raw.lstrip("/"))


def _number(value: Any, where: str, key: str, minimum: float, kind: type) -> Any:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < minimum \
            or (kind is int and float(value) != int(value)):
        raise SmokeError(f"{where}: {key} must be a {'whole ' if kind is int else ''}number >= {minimum:g}, got {shown(value)}")
    return kind(value)


def parse_check(raw: Any, position: int, base_url: str = "", timeout: float = 10.0, retries: int = 0) -> SmokeCheck:
    """One check from its dict; timeout and retries are the defaults the check may override."""
    where = f"check {position}"
    if not isinstance(raw, dict):
        raise SmokeError(f"{where}: must be a dict with at least name and url, got {shown(raw)}")
    _unknown([k for k in raw if _present(raw, k)], CHECK_KEYS, where)
    name = raw.get("name")
    if not isinstance(name, str) or not name.strip():
        raise SmokeError(f"{where}: name is required (a short text naming what is checked)")
    where = f"check {position} ({name})"
    method = str(raw.get("method") or "GET").upper()
    if not re.fullmatch(r"[A-Z]+", method):
        raise SmokeError(f"{where}: method {method!r} is not an HTTP method")
    headers = raw.get("headers") or {}
    if not isinstance(headers, dict):
        raise SmokeError(f"{where}: headers must be a dict")
    if _present(raw, "body") and _present(raw, "json"):
        raise SmokeError(f"{where}: give body or json, not both")
    data, content_type = None, ""
    if _present(raw, "json"):
        data, content_type = json.dumps(raw["json"]).encode(), "application/json"
    elif _present(raw, "body"):
        data = str(raw["body"]).encode()
    expect = raw.get("expect") or {}
    if not isinstance(expect, dict):
        raise SmokeError(f"{where}: expect must be a dict ({', '.join(EXPECT_KEYS)})")
    _unknown([k for k in expect if _present(expect, k)], EXPECT_KEYS, f"{where} expect")
    status = expect.get("status") if _present(expect, "status") else [200]
    status = status if isinstance(status, list) else [status]
    if not status or not all(isinstance(s, int) and not isinstance(s, bool) and 100 <= s <= 599 for s in status):
        raise SmokeError(f"{where}: expect.status must be HTTP status codes (100-599), got {shown(status)}")
    asserts = expect.get("json") or []
    if not isinstance(asserts, list):
        raise SmokeError(f"{where}: expect.json must be a list of {{path, <operator>: value}}")
    contains = expect.get("body_contains") or []
    contains = contains if isinstance(contains, list) else [contains]
    max_ms = expect.get("max_ms")
    return SmokeCheck(
        name=name.strip(), url=_url(raw.get("url"), base_url, where), method=method,
        headers={str(k): str(v) for k, v in headers.items()}, data=data, content_type=content_type,
        status=status, json=[parse_assertion(a, f"{where} expect.json[{i}]") for i, a in enumerate(asserts)],
        body_contains=[str(c) for c in contains],
        max_ms=None if max_ms is None else _number(max_ms, where, "expect.max_ms", 0, float),
        retries=_number(raw["retries"] if _present(raw, "retries") else retries, where, "retries", 0, int),
        timeout=_number(raw["timeout"] if _present(raw, "timeout") else timeout, where, "timeout", 0.001, float),
    )


def parse_checks(raw: Any, base_url: str = "", timeout: float = 10.0, retries: int = 0) -> List[SmokeCheck]:
    """Every check, validated before any request is sent; names must be unique (they name test cases)."""
    if not isinstance(raw, list):
        raise SmokeError(f"checks must be a list of dicts, got {shown(raw)}")
    checks = [parse_check(entry, i, base_url, timeout, retries) for i, entry in enumerate(raw, 1)]
    names = [c.name for c in checks]
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise SmokeError(f"check names must be unique; repeated: {', '.join(repeated)}")
    return checks


def _equal(actual: Any, expected: Any) -> bool:
    """JSON equality: true is not 1, 1 is 1.0, containers compared element by element."""
    if isinstance(actual, bool) or isinstance(expected, bool):
        return isinstance(actual, bool) and isinstance(expected, bool) and actual == expected
    if isinstance(actual, (int, float)) and isinstance(expected, (int, float)):
        return actual == expected
    if isinstance(actual, list) and isinstance(expected, list):
        return len(actual) == len(expected) and all(_equal(a, e) for a, e in zip(actual, expected))
    if isinstance(actual, dict) and isinstance(expected, dict):
        return actual.keys() == expected.keys() and all(_equal(actual[k], expected[k]) for k in actual)
    return type(actual) is type(expected) and actual == expected


def check_assertion(doc: Any, assertion: JsonAssertion) -> Tuple[bool, str, Any]:
    """(ok, message, actual value or None). The message says expected vs actual; empty when ok."""
    found, actual, why = select(doc, assertion.path)
    op, expected = assertion.operator, assertion.expected
    if op == "exists":
        ok = found == expected
        return ok, "" if ok else (f"{assertion.path}: expected it to be absent, got {shown(actual)}" if found
                                  else f"{assertion.path}: expected it to exist: {why}"), actual
    if not found:
        return False, f"{assertion.path}: expected {op} {shown(expected)}, but {why}", None
    if op == "equals":
        ok = _equal(actual, expected)
        return ok, "" if ok else f"{assertion.path}: expected {shown(expected)}, got {shown(actual)}", actual
    if op == "min_items":
        if not isinstance(actual, (list, dict)):
            return False, f"{assertion.path}: expected at least {expected} item(s), got {shown(actual)} (not a list)", actual
        ok = len(actual) >= expected
        return ok, "" if ok else f"{assertion.path}: expected at least {expected} item(s), got {len(actual)}", actual
    if op == "contains":
        if isinstance(actual, str):
            ok = isinstance(expected, str) and expected in actual
        elif isinstance(actual, list):
            ok = any(_equal(item, expected) for item in actual)
        elif isinstance(actual, dict):
            ok = isinstance(expected, str) and expected in actual
        else:
            return False, f"{assertion.path}: expected to contain {shown(expected)}, got {shown(actual)} " \
                          "(not a string, list or object)", actual
        return ok, "" if ok else f"{assertion.path}: expected to contain {shown(expected)}, got {shown(actual)}", actual
    # matches: a regular expression searched in a string value
    if not isinstance(actual, str):
        return False, f"{assertion.path}: expected a string matching /{expected}/, got {shown(actual)}", actual
    ok = re.search(str(expected), actual) is not None
    return ok, "" if ok else f"{assertion.path}: expected to match /{expected}/, got {shown(actual)}", actual
