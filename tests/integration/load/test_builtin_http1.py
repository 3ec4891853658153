"""The built-in engine's HTTP/1.1 client against real loopback servers that answer byte for byte:
chunked bodies, `Connection: close`, bodies ending at the close, a close mid-body, no answer at all,
TLS with a CA made at test time, request bodies and headers, and the body / JSON checks."""

from __future__ import annotations

import json
import ssl

import pytest

from ansible_collections.deploysafe.preflight.plugins.module_utils.load.plan import LoadTestError
from ansible_collections.deploysafe.preflight.plugins.module_utils.load.runner import run_load_test
from deploysafe_testenv.k8s.pki import CertificateAuthority

from load_helpers import assert_passed
from raw_http import RawServer, chunked, response

SHORT = [{"name": "s", "duration": 0.6, "target": 2, "start": 2}]


@pytest.fixture
def serve():
    servers = []

    def start(respond, tls=None):
        server = RawServer(respond, tls=tls)
        servers.append(server)
        return server
    yield start
    for server in servers:
        server.stop()


def run(url, **opts):
    base = {"requests": [url], "stages": SHORT, "max_requests": 1000, "think_time": 0.02, "max_duration": 20, "timeout": 2,
            "thresholds": {"p95_ms": None, "p99_ms": None}}
    base.update(opts)
    return run_load_test(base)


def kinds(result):
    return result["run"]["error_kinds"]


def test_chunked_bodies_are_read_and_checked(serve):
    doc = json.dumps({"data": {"items": [{"id": 7, "state": "ready"}]}}).encode()
    server = serve(lambda req: chunked([doc[:9], doc[9:20], doc[20:]]))
    good = run(server.url, requests=[{"url": server.url + "/", "expect_body": '"state": "ready"',
                                      "expect_json": {"data.items[0].id": 7, "$.data.items[0].state": "ready"}}])
    assert good["verdict"]["status"] == "pass", good["verdict"]["summary"]
    assert good["stats"]["overall"]["requests"] >= 20 and good["stats"]["overall"]["errors"] == 0
    # chunks reused one keep-alive connection per user
    assert server.connections <= 2
    bad = run(server.url, requests=[{"url": server.url + "/", "name": "j", "expect_json": {"data.items[0].id": 8}},
                                    {"url": server.url + "/", "name": "b", "expect_body": "absent"}])
    assert bad["verdict"]["status"] == "fail"
    assert set(kinds(bad)) == {"check_json", "check_body"}
    assert "data.items[0].id == 8" in bad["run"]["first_errors"]["check_json"]


def test_connection_close_and_bodies_that_end_at_the_close(serve):
    closing = serve(lambda req: response(body=b"bye", headers={"Connection": "close"}))
    result = run(closing.url, requests=[{"url": closing.url + "/", "expect_body": "bye"}])
    overall = result["stats"]["overall"]
    assert result["verdict"]["status"] == "pass" and overall["errors"] == 0, result["run"]["first_errors"]
    # a new connection for every request (plus, at most, one per user opened as the run ended)
    assert overall["requests"] >= 10 and overall["requests"] <= closing.connections <= overall["requests"] + 2
    until_eof = serve(lambda req: b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nall of it")
    result = run(until_eof.url, requests=[{"url": until_eof.url + "/", "expect_body": "all of it"}])
    assert result["verdict"]["status"] == "pass" and result["stats"]["overall"]["errors"] == 0


def test_a_close_mid_body_or_before_answering_is_a_failed_request(serve):
    mid_body = serve(lambda req: (b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly ten b", "close"))
    result = run(mid_body.url)
    assert result["verdict"]["status"] == "fail"
    assert set(kinds(result)) == {"disconnected"} and result["stats"]["overall"]["ok"] == 0
    chunks_cut = serve(lambda req: (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n", "close"))
    result = run(chunks_cut.url)
    assert set(kinds(result)) == {"disconnected"} and result["stats"]["overall"]["ok"] == 0
    assert "before the response was complete" in result["run"]["first_errors"]["disconnected"]
    silent = serve(lambda req: None)
    result = run(silent.url)
    assert set(kinds(result)) == {"disconnected"} and result["verdict"]["status"] == "fail"


def test_no_answer_times_out_within_the_bound(serve):
    import threading
    release = threading.Event()

    def hang(req):
        release.wait(5)
        return response()
    server = serve(hang)
    try:
        result = run(server.url, timeout=0.3, stages=[{"duration": 0.5, "target": 1, "start": 1}])
    finally:
        release.set()
    assert set(kinds(result)) == {"timeout"} and result["verdict"]["status"] == "fail"
    assert result["run"]["duration"] < 3
    assert "within 0.3s" in result["run"]["first_errors"]["timeout"]


def test_request_bodies_headers_and_head(serve):
    server = serve(lambda req: response(status=201 if req.method == "POST" else 200,
                                        body=b"" if req.method == "HEAD" else b"done"))
    token = "t-" + "x" * 8
    result = run(server.url, stages=[{"duration": 0.4, "target": 1, "start": 1}],
                 requests=[{"url": server.url + "/j", "name": "j", "method": "POST", "json": {"a": [1, 2]},
                            "expect_status": [201]},
                           {"url": server.url + "/raw?q=1", "name": "raw", "method": "PUT", "body": "k=v"},
                           {"url": server.url + "/h", "name": "h", "method": "HEAD"}],
                 request_headers={"raw": {"Content-Type": "application/x-www-form-urlencoded"}}, auth_token=token)
    assert result["verdict"]["status"] == "pass", result["verdict"]["summary"]
    assert set(result["stats"]["endpoints"]) == {"j", "raw", "h"}
    posts = [r for r in server.seen if r.method == "POST"]
    puts = [r for r in server.seen if r.method == "PUT"]
    assert posts and json.loads(posts[0].body) == {"a": [1, 2]}
    assert posts[0].headers["content-type"] == "application/json"
    assert puts and puts[0].body == b"k=v" and puts[0].target == "/raw?q=1"
    assert puts[0].headers["content-type"] == "application/x-www-form-urlencoded"
    assert all(r.headers["authorization"] == f"Bearer {token}" for r in server.seen)
    assert any(r.method == "HEAD" for r in server.seen)


def test_tls_verifies_against_the_given_ca(serve, tmp_path):
    ca = CertificateAuthority(tmp_path)
    cert = ca.issue("server", "localhost", server=True, dns_names=["localhost"], ips=["127.0.0.1"])
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert.cert, cert.key)
    server = serve(lambda req: response(body=b"secure"), tls=ctx)
    assert server.url.startswith("https://")
    trusted = run(server.url, ca_path=str(ca.files.cert), requests=[{"url": server.url + "/", "expect_body": "secure"}])
    assert trusted["verdict"]["status"] == "pass", trusted["verdict"]["summary"]
    untrusted = run(server.url)   # the system store does not know the test CA
    assert set(kinds(untrusted)) == {"tls"} and untrusted["verdict"]["status"] == "fail"
    unchecked = run(server.url, validate_certs=False)
    assert unchecked["verdict"]["status"] == "pass"
    with pytest.raises(LoadTestError, match="ca_path"):
        run(server.url, ca_path=str(tmp_path / "missing.pem"))


def test_open_model_on_the_raw_server(serve):
    server = serve(lambda req: response())
    result = run(server.url, model="open", stages=[{"duration": 1, "target": 200, "start": 200}])
    assert_passed(result)
    assert 180 <= result["stats"]["overall"]["requests"] <= 210
    assert server.connections <= 20


def test_checks_and_bodies_are_refused_for_other_engines():
    with pytest.raises(LoadTestError, match="built-in engine"):
        run("http://127.0.0.1:9/", engine="k6", requests=[{"url": "http://127.0.0.1:9/", "expect_body": "x"}])


def test_idle_keepalive_closed_by_the_server_is_reopened_not_failed(serve):
    # keep-alive answers, but the server drops each connection once it has answered: the user finds its
    # connection closed while thinking and opens another one; no request fails
    server = serve(lambda req: (response(body=b"ok"), "close"))
    result = run(server.url, think_time=0.05)
    overall = result["stats"]["overall"]
    assert result["verdict"]["status"] == "pass" and overall["errors"] == 0, result["run"]["first_errors"]
    assert server.connections >= overall["requests"] >= 10


def test_refused_connections_are_connect_errors():
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]   # closed again before the run: nothing listens there
    for model, target in (("closed", 2), ("open", 50)):
        result = run(f"http://127.0.0.1:{port}/", model=model,
                     stages=[{"duration": 0.5, "target": target, "start": target}])
        assert set(kinds(result)) == {"connect"} and result["verdict"]["status"] == "fail"
        assert str(port) in result["run"]["first_errors"]["connect"]
