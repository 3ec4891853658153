"""Smoke check definitions (validation errors name the check and key) and the assertion operators."""

from __future__ import annotations

import pytest

from ansible_collections.deploysafe.preflight.plugins.module_utils.smoke.checks import (
    JsonAssertion, SmokeError, check_assertion, parse_check, parse_checks, shown)
from ansible_collections.deploysafe.preflight.plugins.module_utils.smoke.runner import display_url

DOC = {"items": [{"id": 1, "title": "How to rotate backup for secret"}, {"id": 2, "title": "b"}],
       "source": "index", "count": 2, "flag": True, "meta": {"k": 1}}


def run(path, op, expected):
    return check_assertion(DOC, JsonAssertion(path, op, expected))


@pytest.mark.parametrize("path, op, expected", [
    ("$.items[0].title", "equals", "How to rotate backup for secret"),
    ("$.count", "equals", 2.0),
    ("$.flag", "equals", True),
    ("$.items[*].id", "equals", [1, 2]),
    ("$.meta", "equals", {"k": 1}),
    ("$.items[0].title", "contains", "backup"),
    ("$.items[*].id", "contains", 2),
    ("$.meta", "contains", "k"),
    ("$.items", "min_items", 1),
    ("$.items[*].title", "min_items", 2),
    ("$.meta", "min_items", 1),
    ("$.items[0].title", "matches", "^How to \\w+ backup"),
    ("$.source", "exists", True),
    ("$.nope", "exists", False),
])
def test_assertions_that_hold(path, op, expected):
    ok, message, _actual = run(path, op, expected)
    assert ok and message == ""


@pytest.mark.parametrize("path, op, expected, message", [
    ("$.items[0].title", "equals", "How to restore", '$.items[0].title: expected "How to restore", got "How to rotate backup for secret"'),
    ("$.flag", "equals", 1, "$.flag: expected 1, got true"),
    ("$.count", "equals", "2", '$.count: expected "2", got 2'),
    ("$.items[0].title", "contains", "restore", 'expected to contain "restore", got "How to rotate'),
    ("$.items[*].id", "contains", 3, "expected to contain 3, got [1, 2]"),
    ("$.count", "contains", 2, "(not a string, list or object)"),
    ("$.items", "min_items", 3, "$.items: expected at least 3 item(s), got 2"),
    ("$.count", "min_items", 1, "got 2 (not a list)"),
    ("$.source", "matches", "^scan$", '$.source: expected to match /^scan$/, got "index"'),
    ("$.count", "matches", "2", "expected a string matching /2/, got 2"),
    ("$.items[5].title", "equals", "x", '$.items[5].title: expected equals "x", but $.items[5]: no such index'),
    ("$.source", "exists", False, '$.source: expected it to be absent, got "index"'),
    ("$.nope", "exists", True, "$.nope: expected it to exist: $.nope: no such key"),
])
def test_assertions_that_fail_say_expected_and_actual(path, op, expected, message):
    ok, got, _actual = run(path, op, expected)
    assert not ok
    assert message in got, got


def test_long_actual_values_are_cut():
    ok, message, _ = check_assertion({"a": "x" * 5000}, JsonAssertion("$.a", "equals", "y"))
    assert not ok and len(message) < 200 and message.endswith("…")
    assert shown("x" * 10, 5) == '"xxx…'


def test_parse_check_defaults_and_url_join():
    check = parse_check({"name": " search ", "url": "/api/search?q=backup"}, 1, base_url="http://127.0.0.1:8080/app/")
    assert check.name == "search" and check.url == "http://127.0.0.1:8080/app/api/search?q=backup"
    assert check.method == "GET" and check.status == [200] and check.read_only
    assert check.retries == 0 and check.timeout == 10.0 and check.max_ms is None
    posted = parse_check({"name": "p", "url": "http://h/x", "method": "post", "json": {"a": 1},
                          "expect": {"status": 201, "body_contains": "ok", "max_ms": 50}, "retries": 2}, 2)
    assert posted.data == b'{"a": 1}' and posted.content_type == "application/json" and not posted.read_only
    assert posted.status == [201] and posted.body_contains == ["ok"] and posted.max_ms == 50.0 and posted.retries == 2


def test_ansible_none_fillers_count_as_absent():
    check = parse_check({"name": "n", "url": "http://h/", "method": None, "body": None, "json": None,
                         "expect": {"status": None, "json": None, "max_ms": None}}, 1)
    assert check.method == "GET" and check.data is None and check.status == [200]


@pytest.mark.parametrize("raw, message", [
    ("GET /", "check 1: must be a dict"),
    ({"url": "/x"}, "check 1: name is required"),
    ({"name": "s"}, r"check 1 \(s\): url is required"),
    ({"name": "s", "url": "/x"}, "relative but base_url is not set"),
    ({"name": "s", "url": "http://h/", "expct": {}}, r"unknown key\(s\) expct \(did you mean expect\?\)"),
    ({"name": "s", "url": "http://h/", "expect": {"stauts": [200]}}, r"check 1 \(s\) expect: unknown key\(s\) stauts"),
    ({"name": "s", "url": "http://h/", "body": "a", "json": {}}, "body or json, not both"),
    ({"name": "s", "url": "http://h/", "method": "GE T"}, "not an HTTP method"),
    ({"name": "s", "url": "http://h/", "expect": {"status": [700]}}, "expect.status must be HTTP status codes"),
    ({"name": "s", "url": "http://h/", "expect": {"max_ms": "fast"}}, "expect.max_ms must be a number"),
    ({"name": "s", "url": "http://h/", "retries": -1}, "retries must be a whole number"),
    ({"name": "s", "url": "http://h/", "timeout": 0}, "timeout must be a number >= 0.001"),
    ({"name": "s", "url": "http://h/", "expect": {"json": {"path": "$"}}}, "expect.json must be a list"),
    ({"name": "s", "url": "http://h/", "expect": {"json": [{"path": "$.a"}]}},
     r"expect.json\[0\] \(\$.a\): give exactly one of"),
    ({"name": "s", "url": "http://h/", "expect": {"json": [{"path": "$.a", "equals": 1, "contains": 1}]}},
     "give exactly one of"),
    ({"name": "s", "url": "http://h/", "expect": {"json": [{"path": "a", "equals": 1}]}}, "must start with"),
    ({"name": "s", "url": "http://h/", "expect": {"json": [{"path": "$", "equal": 1}]}}, "did you mean equals"),
    ({"name": "s", "url": "http://h/", "expect": {"json": [{"path": "$", "min_items": -1}]}}, "min_items must be"),
    ({"name": "s", "url": "http://h/", "expect": {"json": [{"path": "$", "matches": "("}]}}, "not a valid regular"),
    ({"name": "s", "url": "http://h/", "expect": {"json": [{"path": "$", "exists": "yes"}]}}, "exists must be true or false"),
])
def test_bad_definitions_name_the_check_and_key(raw, message):
    with pytest.raises(SmokeError, match=message):
        parse_checks([raw])


def test_check_list_errors():
    with pytest.raises(SmokeError, match="checks must be a list"):
        parse_checks({"name": "x"})
    with pytest.raises(SmokeError, match="repeated: a"):
        parse_checks([{"name": "a", "url": "http://h/"}, {"name": "a", "url": "http://h/y"}])
    with pytest.raises(SmokeError, match="base_url 'ftp://h' must start with http"):
        parse_checks([{"name": "a", "url": "/x"}], base_url="ftp://h")


def test_display_url_hides_credentials():
    assert display_url("https://user:pw@h.example:8443/a?q=backup&api_key=K&Token=T&flag") == \
        "https://h.example:8443/a?q=backup&api_key=***&Token=***&flag"
    assert display_url("http://[::1]:8080/x") == "http://[::1]:8080/x"
