"""The JSON-path subset of the smoke checks: what it selects, and the reason when it selects nothing."""

from __future__ import annotations

import pytest

from ansible_collections.deploysafe.preflight.plugins.module_utils.smoke.jsonpath import JsonPathError, parse, select

DOC = {"items": [{"id": 1, "title": "a", "tags": ["x"]}, {"id": 2, "title": "b", "tags": []}],
       "count": 2, "meta": {"odd key": True, "it's": 1, "nothing": None}}


@pytest.mark.parametrize("path, value", [
    ("$", DOC),
    ("$.count", 2),
    ("$.items[0].title", "a"),
    ("$.items[-1].id", 2),
    ("$['meta']['odd key']", True),
    ('$["meta"]["odd key"]', True),
    (r"$.meta['it\'s']", 1),
    ("$.meta.nothing", None),
    ("$.items[*].id", [1, 2]),
    ("$.items.*.title", ["a", "b"]),
    ("$.items[*].tags[*]", ["x"]),
    ("$.meta.*", [True, 1, None]),
    ("$.items[*].missing", []),
])
def test_select_finds(path, value):
    found, got, why = select(DOC, path)
    assert found and got == value and why == ""


@pytest.mark.parametrize("path, why", [
    ("$.items[2]", "$.items[2]: no such index ($.items is a list of 2 item(s))"),
    ("$.items[-3]", "$.items[-3]: no such index"),
    ("$.nope.title", "$.nope: no such key ($ is an object with 3 key(s))"),
    ("$.count.x", "$.count.x: not an object ($.count is a int)"),
    ("$.meta[0]", "$.meta[0]: not a list ($.meta is an object with 3 key(s))"),
    ("$.meta.nothing.x", "$.meta.nothing.x: not an object ($.meta.nothing is null)"),
])
def test_select_says_where_it_stops(path, why):
    found, value, reason = select(DOC, path)
    assert not found and value is None
    assert reason.startswith(why), reason


def test_select_on_a_list_document():
    assert select([{"a": 1}], "$[0].a") == (True, 1, "")


@pytest.mark.parametrize("path, message", [
    ("items[0]", "must start with '$'"),
    ("$..title", "recursive descent"),
    ("$.items[0:2]", "unsupported syntax at position 7"),
    ("$.items[?(@.id)]", "unsupported syntax"),
    ("$.", "expected a name after '.'"),
    ("$.9lives", "expected a name after '.'"),
    ("$['unterminated]", "unsupported syntax"),
    (None, "must start with '$'"),
])
def test_parse_refuses_what_is_outside_the_subset(path, message):
    with pytest.raises(JsonPathError, match=message.replace("$", r"\$").replace("[", r"\[").replace("(", r"\(")):
        parse(path)


def test_parse_steps():
    assert [s.text() for s in parse("$.a['b c'][3][*].d")] == [".a", "['b c']", "[3]", "[*]", ".d"]
