# Copyright: (c) 2026, deploysafe.preflight contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""HTTP/1.1 client connections for the built-in engine: an asyncio Protocol fed to httptools' parser (llhttp).

One request at a time per connection (no pipelining), keep-alive unless the server says otherwise.
A general-purpose client (aiohttp) spends about 90 % of a small request's CPU in its own machinery;
this one writes pre-encoded request bytes and lets llhttp (C) frame the answer: Content-Length,
chunked transfer encoding, `Connection: close`, and bodies that end when the server closes.
"""

from __future__ import annotations

import json
import ssl
from dataclasses import dataclass
from typing import Any, Callable, List, Optional, Tuple
from urllib.parse import urlsplit

from .checks import build_check
from .plan import LoadTestError, RequestSpec

try:
    import httptools
    HAS_HTTPTOOLS = True
except ImportError:  # the module reports missing_required_lib
    httptools = None
    HAS_HTTPTOOLS = False

USER_AGENT = "deploysafe-load/1"
Origin = Tuple[str, str, int]            # scheme, host, port


@dataclass
class Prepared:
    """A request of the mix, encoded once: the engine writes `wire` as it is for every send."""
    spec: RequestSpec
    origin: Origin
    wire: bytes
    is_head: bool
    keep_body: bool                         # a body check needs the bytes; otherwise they are dropped
    check: Optional[Callable[[bytes], str]]  # body -> "" or what was wrong


def prepare(spec: RequestSpec) -> Prepared:
    """Encode `spec` as HTTP/1.1 bytes; refuse header names or values that would split the request."""
    parts = urlsplit(spec.url)
    scheme = parts.scheme
    port = parts.port or (443 if scheme == "https" else 80)
    host = parts.hostname or ""
    authority = parts.netloc.rsplit("@", 1)[-1]
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    body: Optional[bytes] = None
    headers = {"Host": authority, "User-Agent": USER_AGENT, "Accept": "*/*"}
    if spec.json is not None:
        body = json.dumps(spec.json, separators=(",", ":")).encode()
        headers["Content-Type"] = "application/json"
    elif spec.body is not None:
        body = spec.body.encode()
    given = {k.lower(): k for k in spec.headers}
    for name in list(headers):
        if name.lower() in given:
            del headers[name]
    headers.update(spec.headers)
    if body is not None or spec.method in ("POST", "PUT", "PATCH"):
        headers["Content-Length"] = str(len(body or b""))
    lines = [f"{spec.method} {target} HTTP/1.1"]
    for name, value in headers.items():
        if any(c in name for c in "\r\n: \t") or "\r" in value or "\n" in value:
            # The value is not repeated: it may be a secret.
            raise LoadTestError(f"request {spec.name!r}: header {name!r} has a name or value that is not valid HTTP")
        lines.append(f"{name}: {value}")
    try:
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
    except UnicodeEncodeError:
        raise LoadTestError(f"request {spec.name!r}: URL and header values must be ASCII/latin-1 "
                            "(percent-encode the URL)") from None
    check = build_check(spec)
    return Prepared(spec=spec, origin=(scheme, host, port), wire=head + (body or b""), is_head=spec.method == "HEAD",
                    keep_body=check is not None, check=check)


def client_ssl_context(verify: bool, ca_path: Optional[str]) -> ssl.SSLContext:
    """Verification on by default against the system store, or against `ca_path` (a PEM bundle)."""
    if not verify:
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        return ctx
    try:
        return ssl.create_default_context(cafile=ca_path) if ca_path else ssl.create_default_context()
    except (OSError, ssl.SSLError) as exc:
        raise LoadTestError(f"ca_path {ca_path!r} is not a readable PEM CA bundle: {exc}") from None


class Connection:
    """One keep-alive connection (an asyncio Protocol). The owner's `on_response(conn, status, body, kind,
    message)` is called once per request sent: kind is "" for a complete response, else the failure."""

    def __init__(self, owner: Any):
        self.owner = owner
        self.parser = httptools.HttpResponseParser(self)
        self.transport: Any = None
        self.busy = False
        self.closed = False
        self.deadline = 0.0
        self.status = 0
        self.body: Optional[List[bytes]] = None
        self.in_head = False
        self.head: List[bytes] = []
        self.is_head = False
        self.head_done = False
        self.request: Any = None            # what the owner is waiting for on this connection

    # -- asyncio.Protocol ----------------------------------------------------------------------
    def connection_made(self, transport) -> None:
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        if self.in_head:
            self.head.append(data)
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            self.fail("protocol", "the server switched protocols (upgrade)")
        except httptools.HttpParserError as exc:
            self.fail("protocol", f"invalid HTTP/1.1 response: {exc}")
        if self.head_done:   # a HEAD answer has headers only; llhttp would wait for the body they announce
            self.head_done = False
            self.parser = httptools.HttpResponseParser(self)
            self._complete()

    def eof_received(self) -> bool:
        return False   # close our side too

    def connection_lost(self, exc: Optional[BaseException]) -> None:
        self.closed = True
        if not self.busy:
            return
        if exc is None and not self.in_head and self._ends_at_close():
            self._complete()   # a body without length or chunking ends when the server closes
        elif self.in_head and not self.head:
            self.fail("disconnected", "the server closed the connection without answering")
        else:
            self.fail("disconnected", f"the connection closed before the response was complete"
                                      f"{': ' + str(exc) if exc else ''}")

    def pause_writing(self) -> None:
        pass

    def resume_writing(self) -> None:
        pass

    # -- httptools callbacks -------------------------------------------------------------------
    def on_headers_complete(self) -> None:
        self.in_head = False
        self.status = self.parser.get_status_code()
        if self.is_head:
            self.head_done = True

    def on_body(self, body: bytes) -> None:
        if self.body is not None:
            self.body.append(body)

    def on_message_complete(self) -> None:
        if self.busy and not self.is_head:   # _complete(), inlined: this runs once per response
            self.busy = False
            if not self.parser.should_keep_alive():
                self.close()
            body = self.body
            self.owner.on_response(self, self.status, b"".join(body) if body is not None else None, "", "")

    # -- the owner's side ----------------------------------------------------------------------
    def send(self, prepared: Prepared, deadline: float) -> None:
        self.busy = True
        self.deadline = deadline
        self.in_head = True
        self.head.clear()
        self.is_head = prepared.is_head
        self.body = [] if prepared.keep_body else None
        try:
            self.transport.write(prepared.wire)
        except (RuntimeError, OSError) as exc:   # the transport closed under us (uvloop raises on write)
            self.fail("disconnected", f"the connection closed before the request was sent: {exc}")

    def fail(self, kind: str, message: str) -> None:
        """End the request in flight with a failure and drop the connection (its state is unknown)."""
        self.close(abort=True)
        if self.busy:
            self.busy = False
            self.owner.on_response(self, 0, None, kind, message)

    def close(self, abort: bool = False) -> None:
        self.closed = True
        if self.transport is not None and not self.transport.is_closing():
            if abort:
                self.transport.abort()
            else:
                self.transport.close()

    def _complete(self) -> None:
        self.busy = False
        if not self.parser.should_keep_alive():
            self.close()   # `Connection: close` (or HTTP/1.0): the next request opens a new connection
        body = self.body
        self.owner.on_response(self, self.status, b"".join(body) if body is not None else None, "", "")

    def _ends_at_close(self) -> bool:
        """No Content-Length and no chunked coding: the body is whatever came before the close (RFC 9112 6.3)."""
        head = b"".join(self.head).split(b"\r\n\r\n", 1)[0].lower()
        return b"\ncontent-length:" not in head and b"\ntransfer-encoding:" not in head


class BodilessConnection(Connection):
    """For a mix whose checks never read a body: llhttp skips the body callback (one Python call less per
    response; httptools wires only the callbacks the protocol object has)."""
    on_body = None   # type: ignore[assignment]


async def open_connection(loop, owner: Any, origin: Origin, ssl_ctx: Optional[ssl.SSLContext],
                          keep_bodies: bool = True) -> Connection:
    scheme, host, port = origin
    tls = ssl_ctx if scheme == "https" else None
    kind = Connection if keep_bodies else BodilessConnection
    _transport, conn = await loop.create_connection(lambda: kind(owner), host, port, ssl=tls,
                                                    server_hostname=host if tls else None)
    return conn
