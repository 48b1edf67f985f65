"""Forwarding detokenized requests to their real targets, over pooled keep-alive connections.

The pool matters for the DESIGN's throughput bar: a fresh TLS handshake to the target for
every proxied request would cost more than the proxy itself.
"""

from __future__ import annotations

import contextlib
import http.client
import socket
import ssl
import threading
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from mockbank.outbound import create_connection

CONNECT_TIMEOUT_S = 10.0
READ_TIMEOUT_S = 30.0
IDLE_PER_HOST = 16
MAX_LINE = 65536
MAX_HEADERS = 100
HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "proxy-connection",
        "te",
        "trailer",
        "trailers",
        "transfer-encoding",
        "upgrade",
    }
)


class Unreachable(Exception):
    """The target could not be reached (refused, reset, timed out, TLS failed)."""


@dataclass(frozen=True)
class UpstreamResponse:
    status: int
    reason: str
    headers: list[tuple[str, str]]
    body: bytes


Key = tuple[str, str, int]


class Connection:
    """One keep-alive connection to a target: the socket and a buffered reader over it."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.rfile = sock.makefile("rb")
        # Whether this connection's TLS session is already kept for the next new connection.
        # Python copies a session out (serialized and parsed again, certificates included)
        # on every read of ``SSLSocket.session``: once per connection, never per request.
        self.session_kept = not isinstance(sock, ssl.SSLSocket)

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.rfile.close()
        with contextlib.suppress(OSError):
            self.sock.close()


def _read_line(rfile: Any) -> bytes:
    line: bytes = rfile.readline(MAX_LINE + 1)
    if len(line) > MAX_LINE:
        raise http.client.LineTooLong("header line")
    return line


def read_response(rfile: Any, method: str) -> tuple[UpstreamResponse, bool]:
    """Read one HTTP/1.x response; returns it and whether the connection must close.

    http.client parses response headers with the ``email`` package, a large share of the
    proxy's per-request cost; this reader handles what a target can send: interim 1xx
    answers, Content-Length, chunked and close-delimited bodies, HEAD, 204 and 304.
    """
    while True:
        version, status, reason = _read_status_line(rfile)
        headers = _read_headers(rfile)
        if not (100 <= status < 200 and status != 101):
            break  # an interim answer (100 Continue, 103 Early Hints): the real one follows
    lookup: dict[str, str] = {}
    for name, value in headers:
        key = name.lower()
        lookup[key] = f"{lookup[key]}, {value}" if key in lookup else value
    connection = lookup.get("connection", "").lower()
    close = "close" in connection or (version == "HTTP/1.0" and "keep-alive" not in connection)
    if method == "HEAD" or status in (204, 304) or status < 200:
        return UpstreamResponse(status, reason, headers, b""), close
    body, until_close = _read_body(rfile, lookup)
    return UpstreamResponse(status, reason, headers, body), close or until_close


def _read_status_line(rfile: Any) -> tuple[str, int, str]:
    line = _read_line(rfile)
    if not line:
        raise http.client.RemoteDisconnected("the target closed the connection unanswered")
    parts = line.decode("iso-8859-1").rstrip("\r\n").split(None, 2)
    if len(parts) < 2 or not parts[0].startswith("HTTP/1.") or not parts[1].isdigit():
        raise http.client.BadStatusLine(line[:100].decode("iso-8859-1"))
    status = int(parts[1])
    if not 100 <= status <= 999:
        raise http.client.BadStatusLine(line[:100].decode("iso-8859-1"))
    return parts[0], status, parts[2] if len(parts) > 2 else ""


def _read_headers(rfile: Any) -> list[tuple[str, str]]:
    """Header fields up to the blank line (obs-fold lines joined to the previous one)."""
    headers: list[tuple[str, str]] = []
    while True:
        field = _read_line(rfile)
        if field in (b"\r\n", b"\n", b""):
            return headers
        if len(headers) >= MAX_HEADERS:
            raise http.client.HTTPException(f"got more than {MAX_HEADERS} headers")
        text = field.decode("iso-8859-1").rstrip("\r\n")
        if text[:1] in (" ", "\t") and headers:
            name, value = headers[-1]
            headers[-1] = (name, f"{value} {text.strip()}")
            continue
        name, colon, value = text.partition(":")
        if colon:
            headers.append((name.strip(), value.strip()))


def _read_body(rfile: Any, lookup: dict[str, str]) -> tuple[bytes, bool]:
    """The body as its headers frame it; True when it ends at close (no length, not chunked)."""
    if "chunked" in lookup.get("transfer-encoding", "").lower():
        return _read_chunked(rfile), False
    length_text = lookup.get("content-length")
    if length_text is None:
        return rfile.read(), True
    if not length_text.strip().isdigit():
        raise http.client.HTTPException(f"bad Content-Length {length_text[:40]!r}")
    length = int(length_text)
    body: bytes = rfile.read(length) if length else b""
    if len(body) < length:
        raise http.client.IncompleteRead(body, length - len(body))
    return body, False


def _read_chunked(rfile: Any) -> bytes:
    chunks: list[bytes] = []
    while True:
        size_text = _read_line(rfile).split(b";", 1)[0].strip()
        try:
            size = int(size_text, 16)
        except ValueError:
            raise http.client.HTTPException("malformed chunked answer") from None
        if size == 0:
            while _read_line(rfile) not in (b"\r\n", b"\n", b""):
                pass  # trailers are dropped
            return b"".join(chunks)
        chunk = rfile.read(size)
        if len(chunk) < size:
            raise http.client.IncompleteRead(chunk, size - len(chunk))
        chunks.append(chunk)
        _read_line(rfile)


class Lease:
    """A connection taken from the pool for one request (connected before any token is used)."""

    def __init__(self, pool: UpstreamPool, key: Key, connection: Connection, reused: bool) -> None:
        self.pool, self.key, self.connection, self.reused = pool, key, connection, reused

    def send(
        self, method: str, target: str, headers: list[tuple[str, str]], body: bytes
    ) -> UpstreamResponse:
        """Send the request and read the whole answer; one retry on a stale pooled socket."""
        try:
            return self._send_once(method, target, headers, body)
        except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
            if not self.reused:
                raise
        # A pooled keep-alive socket the target had already closed: reconnect once.
        self.connection.close()
        self.connection = self.pool.connect(self.key)
        self.reused = False
        return self._send_once(method, target, headers, body)

    def _send_once(
        self, method: str, target: str, headers: list[tuple[str, str]], body: bytes
    ) -> UpstreamResponse:
        connection = self.connection
        lines = [f"{method} {target} HTTP/1.1"]
        lines.extend(f"{name}: {value}" for name, value in headers)
        # Head and body in one write: no Nagle/delayed-ACK stall between them.
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        connection.sock.sendall(head + body if body else head)
        result, close = read_response(connection.rfile, method)
        if close:
            connection.close()
        else:
            self.pool.release(self.key, connection)
        return result

    def discard(self) -> None:
        self.connection.close()


class UpstreamPool:
    """Idle keep-alive connections per (scheme, host, port)."""

    def __init__(self, tls_context: ssl.SSLContext) -> None:
        self.tls_context = tls_context
        self._idle: dict[Key, list[Connection]] = {}
        self._sessions: dict[Key, ssl.SSLSession] = {}
        self._lock = threading.Lock()

    @staticmethod
    def key_for(url: str) -> Key:
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        default = 443 if scheme == "https" else 80
        return scheme, parts.hostname or "", parts.port or default

    def connect(self, key: Key) -> Connection:
        scheme, host, port = key
        try:
            sock = create_connection((host, port), CONNECT_TIMEOUT_S)
        except OSError as error:
            raise Unreachable(f"{scheme}://{host}:{port}: {error}") from None
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if scheme == "https":
                # Resume the last TLS session with this origin: an abbreviated handshake.
                session = self._sessions.get(key)
                sock = self.tls_context.wrap_socket(sock, server_hostname=host, session=session)
            sock.settimeout(READ_TIMEOUT_S)
        except (OSError, ssl.SSLError) as error:
            sock.close()
            raise Unreachable(f"{scheme}://{host}:{port}: {error}") from None
        return Connection(sock)

    def lease(self, url: str) -> Lease:
        """A connected connection to `url`'s origin: pooled if one is idle, else new."""
        key = self.key_for(url)
        with self._lock:
            idle = self._idle.get(key)
            connection = idle.pop() if idle else None
        if connection is not None:
            return Lease(self, key, connection, reused=True)
        return Lease(self, key, self.connect(key), reused=False)

    def release(self, key: Key, connection: Connection) -> None:
        if not connection.session_kept:
            # After its first answer a TLS 1.3 connection has read the target's tickets.
            session = getattr(connection.sock, "session", None)
            if session is not None:
                self._sessions[key] = session
            connection.session_kept = True
        with self._lock:
            idle = self._idle.setdefault(key, [])
            if len(idle) < IDLE_PER_HOST:
                idle.append(connection)
                return
        connection.close()

    def close(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, {}
        for connections in idle.values():
            for connection in connections:
                connection.close()
