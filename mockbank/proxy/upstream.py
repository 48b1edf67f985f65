"""Forwarding detokenized requests to their real targets, over pooled keep-alive connections.

The pool matters for the DESIGN's throughput bar: a fresh TLS handshake to the target for
every proxied request would cost more than the proxy itself.
"""

from __future__ import annotations

import http.client
import socket
import ssl
import threading
from dataclasses import dataclass
from urllib.parse import urlsplit

CONNECT_TIMEOUT_S = 10.0
READ_TIMEOUT_S = 30.0
IDLE_PER_HOST = 16
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


class Lease:
    """A connection taken from the pool for one request (connected before any token is used)."""

    def __init__(
        self, pool: UpstreamPool, key: Key, connection: http.client.HTTPConnection, reused: bool
    ) -> None:
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
        connection.putrequest(method, target, skip_host=True, skip_accept_encoding=True)
        for name, value in headers:
            connection.putheader(name, value)
        connection.endheaders(body if body or method not in ("GET", "HEAD") else None)
        response = connection.getresponse()
        data = response.read()
        result = UpstreamResponse(
            response.status, response.reason, list(response.getheaders()), data
        )
        if response.will_close:
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
        self._idle: dict[Key, list[http.client.HTTPConnection]] = {}
        self._lock = threading.Lock()

    @staticmethod
    def key_for(url: str) -> Key:
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        default = 443 if scheme == "https" else 80
        return scheme, parts.hostname or "", parts.port or default

    def connect(self, key: Key) -> http.client.HTTPConnection:
        scheme, host, port = key
        connection: http.client.HTTPConnection
        if scheme == "https":
            connection = http.client.HTTPSConnection(
                host, port, timeout=CONNECT_TIMEOUT_S, context=self.tls_context
            )
        else:
            connection = http.client.HTTPConnection(host, port, timeout=CONNECT_TIMEOUT_S)
        try:
            connection.connect()
        except (OSError, ssl.SSLError) as error:
            connection.close()
            raise Unreachable(f"{scheme}://{host}:{port}: {error}") from None
        sock = connection.sock
        if sock is not None:
            sock.settimeout(READ_TIMEOUT_S)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return connection

    def lease(self, url: str) -> Lease:
        """A connected connection to `url`'s origin: pooled if one is idle, else new."""
        key = self.key_for(url)
        with self._lock:
            idle = self._idle.get(key)
            connection = idle.pop() if idle else None
        if connection is not None:
            return Lease(self, key, connection, reused=True)
        return Lease(self, key, self.connect(key), reused=False)

    def release(self, key: Key, connection: http.client.HTTPConnection) -> None:
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
