"""A real HTTP/1.1 server on loopback whose answers a test writes byte for byte (chunked, closed mid-body,
never answering...), optionally behind TLS. Each connection is served by a thread until it closes."""

from __future__ import annotations

import socket
import ssl
import threading
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Optional


@dataclass
class Request:
    method: str
    target: str
    headers: Dict[str, str]
    body: bytes


@dataclass
class RawServer:
    """respond(request) -> bytes to send, (bytes, "close") to send them and close, or None to close the
    connection without a word."""
    respond: Callable[[Request], Any]
    tls: Optional[ssl.SSLContext] = None
    seen: List[Request] = field(default_factory=list)
    connections: int = 0

    def __post_init__(self):
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.sock.settimeout(0.2)
        self.stopped = threading.Event()
        self.threads: List[threading.Thread] = []
        self.clients: List[socket.socket] = []
        self.lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def url(self) -> str:
        scheme = "https" if self.tls else "http"
        return f"{scheme}://127.0.0.1:{self.sock.getsockname()[1]}"

    def _accept(self) -> None:
        while not self.stopped.is_set():
            try:
                client, _addr = self.sock.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            with self.lock:
                self.connections += 1
                self.clients.append(client)
            thread = threading.Thread(target=self._serve, args=(client,), daemon=True)
            thread.start()
            self.threads.append(thread)

    def _serve(self, client: socket.socket) -> None:
        try:
            client.settimeout(5)
            if self.tls:
                client = self.tls.wrap_socket(client, server_side=True)
            buf = b""
            while not self.stopped.is_set():
                while b"\r\n\r\n" not in buf:
                    data = client.recv(65536)
                    if not data:
                        return
                    buf += data
                head, buf = buf.split(b"\r\n\r\n", 1)
                lines = head.decode("latin-1").split("\r\n")
                method, target, _version = lines[0].split(" ", 2)
                headers = {k.strip().lower(): v.strip() for k, v in (line.split(":", 1) for line in lines[1:])}
                length = int(headers.get("content-length", "0"))
                while len(buf) < length:
                    buf += client.recv(65536)
                body, buf = buf[:length], buf[length:]
                request = Request(method, target, headers, body)
                with self.lock:
                    self.seen.append(request)
                answer = self.respond(request)
                if answer is None:
                    return
                close = isinstance(answer, tuple)
                if close:
                    answer = answer[0]
                client.sendall(answer)
                head = answer.split(b"\r\n\r\n", 1)[0].lower()
                if close or b"connection: close" in head or (b"content-length" not in head and b"chunked" not in head):
                    return   # the client learns the end of the body (or of the connection) from the close
        except (OSError, ValueError):
            return
        finally:
            try:
                client.close()
            except OSError:
                pass

    def stop(self) -> None:
        self.stopped.set()
        self.sock.close()
        with self.lock:
            for client in self.clients:
                try:
                    client.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
        for thread in self.threads:
            thread.join(5)


def response(status: int = 200, body: bytes = b"ok", headers: Optional[Dict[str, str]] = None) -> bytes:
    head = {"Content-Length": str(len(body)), **(headers or {})}
    lines = [f"HTTP/1.1 {status} X"] + [f"{k}: {v}" for k, v in head.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def chunked(parts: List[bytes], status: int = 200) -> bytes:
    out = f"HTTP/1.1 {status} OK\r\nTransfer-Encoding: chunked\r\n\r\n".encode()
    for part in parts:
        out += f"{len(part):x}\r\n".encode() + part + b"\r\n"
    return out + b"0\r\n\r\n"
