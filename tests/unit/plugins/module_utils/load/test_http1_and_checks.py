"""Pure parts of the built-in engine's HTTP/1.1 client: request encoding, response checks, the recorder's
deferred HDR path and its reservoir."""

from __future__ import annotations

import json
import random

import pytest

from ansible_collections.deploysafe.preflight.plugins.module_utils.load.checks import build_check, lookup, parse_path
from ansible_collections.deploysafe.preflight.plugins.module_utils.load.http1 import prepare
from ansible_collections.deploysafe.preflight.plugins.module_utils.load.plan import LoadTestError, build_requests
from ansible_collections.deploysafe.preflight.plugins.module_utils.load.stats import RESERVOIR, Recorder, Window


def one(item, **kw):
    return build_requests([item], **kw)[0]


def test_prepare_encodes_method_target_headers_and_bodies():
    p = prepare(one({"url": "http://127.0.0.1:8080/a/b?q=1&r=2", "method": "post", "json": {"x": [1, "é"]}},
                    headers={"X-Trace": "abc"}))
    head, body = p.wire.split(b"\r\n\r\n", 1)
    lines = head.decode().split("\r\n")
    assert lines[0] == "POST /a/b?q=1&r=2 HTTP/1.1"
    assert "Host: 127.0.0.1:8080" in lines and "X-Trace: abc" in lines
    assert "Content-Type: application/json" in lines and f"Content-Length: {len(body)}" in lines
    assert json.loads(body) == {"x": [1, "é"]}
    assert p.origin == ("http", "127.0.0.1", 8080) and not p.keep_body and p.check is None
    raw = prepare(one({"url": "https://localhost/put", "method": "PUT", "body": "k=v"}))
    assert raw.origin == ("https", "localhost", 443) and raw.wire.endswith(b"\r\n\r\nk=v")
    assert b"Content-Length: 3\r\n" in raw.wire and b"Host: localhost\r\n" in raw.wire
    # a user's header replaces the default of the same name (any case), once
    ua = prepare(one({"url": "http://127.0.0.1/"}, headers={"user-agent": "mine"}))
    assert ua.wire.count(b"ser-agent") == 1 and b"user-agent: mine" in ua.wire
    assert b"Content-Length" not in prepare(one({"url": "http://127.0.0.1/"})).wire


def test_prepare_refuses_header_injection_without_echoing_the_value():
    secret = "s3cr" + "et\r\nX-Evil: 1"
    with pytest.raises(LoadTestError, match="X-Token") as err:
        prepare(one({"url": "http://127.0.0.1/"}, headers={"X-Token": secret}))
    assert "s3cr" not in str(err.value)


def test_json_paths_parse_and_look_up():
    assert parse_path("data.items[0].id") == ["data", "items", 0, "id"]
    assert parse_path("$.a[-1]") == ["a", -1]
    doc = {"data": {"items": [{"id": 7}, {"id": 9}]}, "a": [1, 2]}
    assert lookup(doc, parse_path("data.items[1].id")) == 9
    assert lookup(doc, parse_path("$.a[-1]")) == 2
    for bad in ("data.items[5].id", "nope", "a.b"):
        assert lookup(doc, parse_path(bad)) is not None and lookup(doc, parse_path(bad)) != 9
    with pytest.raises(LoadTestError, match="JSON path"):
        parse_path("a[x]")


def test_body_and_json_checks_name_their_kind():
    spec = one({"url": "http://127.0.0.1/", "expect_body": "ready", "expect_json": {"state": "ready", "id": None}})
    check = build_check(spec)
    assert check(b'{"state": "ready", "id": 3}') == ""
    assert check(b'{"state": "ready"}') == "check_json"          # id must be present
    assert check(b'{"state": "readyish", "id": 1}') == "check_json"
    assert check(b'{"state": "busy", "id": 1}') == "check_body"
    assert check(b"ready but not json") == "check_json"
    assert build_check(one({"url": "http://127.0.0.1/"})) is None
    with pytest.raises(LoadTestError, match="expect_json must be a mapping"):
        one({"url": "http://127.0.0.1/", "expect_json": ["state"]})
    with pytest.raises(LoadTestError, match="body must be a string"):
        one({"url": "http://127.0.0.1/", "body": {"a": 1}})


def test_recorder_defers_hdr_records_and_keeps_exact_counts():
    rec = Recorder(window_s=1.0)
    for i in range(1000):
        rec.record("s", "e", i / 1000.0, (i % 10 + 1) / 1000.0, ok=i % 100 != 0, kind="http_500")
    stats = rec.scope_stats()
    assert stats["requests"] == 1000 and stats["errors"] == 10 and rec.error_kinds == {"http_500": 10}
    assert stats["p50_ms"] == pytest.approx(5.0, rel=0.01) and stats["max_ms"] == pytest.approx(10.0, rel=0.01)
    rec.record("s", "e", 0.5, 0.020, ok=True)   # recorded after a read: still counted
    assert rec.scope_stats()["requests"] == 1001 and rec.scope_stats()["max_ms"] == pytest.approx(20.0, rel=0.01)
    other = Recorder()
    other.merge_encoded(*rec.encoded())
    assert other.scope_stats()["requests"] == 1001


def test_window_reservoir_is_a_uniform_sample():
    random.seed(7)
    w = Window(start=0.0)
    n = 100_000
    for us in range(n):
        w.add(us, True)
    assert w.count == n and len(w.sample) == RESERVOIR and w.max_us == n - 1
    # a uniform sample of 0..n-1 has its median near n/2 and reaches both ends
    assert abs(w.percentile(50) * 1000 - n / 2) < n * 0.1
    assert min(w.sample) < n * 0.05 and max(w.sample) > n * 0.95
