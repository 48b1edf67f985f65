"""The forward-proxy front door: absolute-URI requests and CONNECT with TLS interception, each
decrypted request handed to the same Flask app's view at the tenant's path.

One port serves plain ``http://`` proxying, ``CONNECT host:port`` tunnels (answered 200 or
407, then TLS with a leaf minted for ``host`` by the local CA), and an ``https://`` proxy URL
(TLS to the proxy, TLS again inside the tunnel through memory BIOs). Connections are kept alive
across requests. An event loop (`mockbank.proxy.reactor`) holds idle connections and collects
plain request heads; a bounded pool of threads runs `ProxyConnection.run` when a request is
ready. The request line and headers are parsed here (http.server's ``email``-based parsing cost
a tenth of a proxied request), the body's framing per RFC 9112 (`mockbank.proxy.http`), and the
app is called directly as a WSGI callable.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import select
import socket
import ssl
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mockbank.accesslog import proxy_access
from mockbank.clock import monotonic
from mockbank.outbound import is_loopback
from mockbank.proxy.http import (
    MAX_BODY_BYTES,
    MAX_LINE,
    BadHead,
    FramingError,
    HeadTooLarge,
    Reader,
    RequestHeaders,
    body_framing,
    read_chunked,
    read_request_headers,
)
from mockbank.proxy.reactor import BACKLOG, HEAD_TIMEOUT_S, Reactor
from mockbank.proxy.sandbox import route_to_sandbox
from mockbank.proxy.tenant import Tenant
from mockbank.proxy.tls import TLSInTLS
from mockbank.proxy.wsgi import environ_for, response_head, run_app

if TYPE_CHECKING:
    from flask import Flask

    from mockbank.proxy.ca import LocalCA  # imports cryptography: only where a CA is made
    from mockbank.proxy.resources import ProxyResources

__all__ = ["MAX_BODY_BYTES", "ForwardProxy", "ProxyConnection", "ProxyContext"]

log = logging.getLogger("mockbank.proxy")

BODY_TIMEOUT_S = 30.0  # the longest wait for the next bytes of a body


@dataclass
class ProxyContext:
    """What the proxy view needs beyond the WSGI environ (``environ["mockbank.proxy"]``)."""

    target: str
    raw_headers: list[tuple[str, str]] = field(default_factory=list)
    connect_headers: dict[str, str] = field(default_factory=dict)
    connect_authenticated: bool = False
    tunnel: bool = False
    relay_loopback: bool = True  # False when the proxy listens on a non-loopback address


class ProxyConnection:
    """One client connection: absolute-URI requests, or a CONNECT tunnel, kept alive."""

    def __init__(self, proxy: ForwardProxy, sock: socket.socket, address: Any) -> None:
        self.proxy = proxy
        self.tenant = proxy.tenant
        self.raw = sock
        self.client_address = address if isinstance(address, tuple) else ("", 0)
        # urllib3 leaves Nagle on behind a proxy; without NODELAY both ends wait 40 ms.
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        # wrap_socket detaches the plain socket; a duplicate descriptor keeps reaching the
        # connection for the event loop, the "drop" fault and shutdown when the proxy stops.
        self.control = sock.dup()
        self._readable = select.poll()  # is a byte waiting on the socket now?
        self._readable.register(self.control, select.POLLIN)
        self.connection: Any = sock
        self.reader = Reader(sock, timeout=BODY_TIMEOUT_S)
        self.buffer = self.reader.buffer  # the event loop appends a plain request head here
        self.tunnel: tuple[str, int, dict[str, str]] | None = None
        self.close_connection = True
        self.command, self.path, self.request_version = "", "", "HTTP/1.1"
        self.headers = RequestHeaders([])
        self._layers: list[Any] = []  # every TLS layer, closed in close()
        self._closed = False

    @property
    def plain(self) -> bool:
        return self.connection is self.raw

    def run(self) -> bool:
        """Serve the requests that are ready; True if the connection stays open for more."""
        try:
            if self.plain and not self.buffer and not self._outer_tls():
                return False
            while True:
                self.reader.deadline = monotonic() + HEAD_TIMEOUT_S
                if not self._handle_one() or self.close_connection:
                    return False
                if not self._pending():
                    return True
        except (OSError, ssl.SSLError, ValueError):
            return False  # the client went away, stalled, or the proxy is stopping

    def _pending(self) -> bool:
        pending = getattr(self.connection, "pending", None)
        return self.reader.buffered > 0 or (pending is not None and pending() > 0)

    def _outer_tls(self) -> bool:
        """The event loop saw a TLS handshake: the client speaks TLS to the proxy itself."""
        self.raw.settimeout(HEAD_TIMEOUT_S)
        try:
            self._layer(self.proxy.outer_context().wrap_socket(self.raw, server_side=True))
        except (ssl.SSLError, OSError):
            return False
        return True

    def _layer(self, connection: Any) -> None:
        self.connection = connection
        self._layers.append(connection)
        self.reader.connection = connection

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        for layer in reversed(self._layers):
            with contextlib.suppress(OSError, ValueError):
                layer.close()
        for sock in (self.raw, self.control):
            with contextlib.suppress(OSError):
                sock.close()

    def _quickack(self) -> None:
        """Before a read in the middle of a request that would wait for the client: ACK now.

        Linux may delay an ACK by 40 ms, and a client with Nagle on (urllib3 behind a proxy)
        holds its body back until the headers are ACKed. The flag does not stick, so it is set
        before every such read; a read that finds bytes waiting (decrypted, or on the socket)
        does not wait and needs none (the option costs a system call and an ACK segment)."""
        pending = getattr(self.connection, "pending", None)
        with contextlib.suppress(OSError, AttributeError, ValueError):
            if (pending is not None and pending() > 0) or self._readable.poll(0):
                return
            self.control.setsockopt(socket.IPPROTO_TCP, socket.TCP_QUICKACK, 1)

    # -- one request ----------------------------------------------------------------------
    def _handle_one(self) -> bool:
        self.reader.before_wait = None  # between requests the client waits for nothing
        line = self.reader.readline(MAX_LINE + 1)
        if line in (b"\r\n", b"\n"):  # one empty line before a request line is allowed
            line = self.reader.readline(MAX_LINE + 1)
        if not line:
            return False
        self.reader.before_wait = self._quickack  # the rest of the request may be held back
        self.close_connection = True
        if len(line) > MAX_LINE:
            self.send_error(414, "Request line too long")
            return False
        if not self._parse_request(line):
            return False
        self.reader.deadline = None
        self._dispatch()
        return True

    def _parse_request(self, line: bytes) -> bool:
        """The request line and headers (HTTP/1.0 and 1.1) and the body's framing."""
        requestline = line.decode("iso-8859-1").rstrip("\r\n")
        words = requestline.split()
        if not words:
            return False
        if len(words) != 3:
            self.send_error(400, f"Bad request syntax ({requestline[:100]!r})")
            return False
        command, path, version = words
        if version not in ("HTTP/1.1", "HTTP/1.0"):
            if version.startswith("HTTP/") and version[5:6].isdigit() and version[5:6] >= "2":
                self.send_error(505, f"Invalid HTTP version ({version[:20]})")
            else:
                self.send_error(400, f"Bad request version ({version[:20]!r})")
            return False
        self.command, self.path, self.request_version = command, path, version
        try:
            self.headers = read_request_headers(self.reader)
            self.framing = body_framing(self.headers, version)
        except HeadTooLarge as error:
            self.send_error(431, str(error))
            return False
        except BadHead as error:
            self.send_error(400, str(error))
            return False
        except FramingError as error:
            self.send_error(error.status, str(error))
            return False
        connection = (self.headers.get("Connection") or "").lower()
        keep_alive = version == "HTTP/1.1" or "keep-alive" in connection
        self.close_connection = not keep_alive or "close" in connection
        expect = (self.headers.get("Expect") or "").lower()
        if expect == "100-continue" and version == "HTTP/1.1":
            self.connection.sendall(b"HTTP/1.1 100 Continue\r\n\r\n")
        return True

    def send_error(self, code: int, message: str) -> None:
        """Protocol-level failures (bad request line, framing, huge headers) in the tenant's
        format; the connection closes after it, so nothing that follows is read as a request."""
        proxy_access(self.tenant.provider, self.command or "-", self.path or "-", code)
        body = self.tenant.refusal(message)
        self._write(code, [("Content-Type", self.tenant.content_type)], body, close=True)

    # -- dispatch -------------------------------------------------------------------------
    def _dispatch(self) -> None:
        if self.command == "CONNECT":
            if self.tunnel is not None:
                self.send_error(400, "CONNECT inside a tunnel is not supported.")
                return
            self._connect()
            return
        if self.tunnel is not None:
            host, port, connect_headers = self.tunnel
            if self.path.startswith(("http://", "https://")):
                target = self.path
            else:
                authority = _authority(host, port, 443)
                target = f"https://{authority}{self.path if self.path.startswith('/') else '/'}"
            self._forward(target, connect_headers, tunnel=True)
            return
        if self.path.startswith(("http://", "https://")):
            self._forward(self.path, {}, tunnel=False)
            return
        self.send_error(400, self.tenant.usage)

    def _connect(self) -> None:
        host, _, port_text = self.path.rpartition(":")
        host = host.strip("[]")
        if not host or not port_text.isdigit() or not 0 < int(port_text) < 65536:
            self.send_error(400, f"CONNECT needs host:port, got {self.path[:100]!r}.")
            return
        port = int(port_text)
        connect_headers = {k.lower(): v for k, v in self.headers.items()}
        context = self._context(f"https://{_authority(host, port, 443)}/", tunnel=True)
        context.connect_headers = connect_headers
        status, headers, body = self._call_app(self.tenant.connect_path, context, b"", 0)
        if status != 200:
            self._write(status, headers, body, close=True)
            return
        if self.reader.buffered:  # TLS bytes before our 200: not a client we can serve
            self.send_error(400, "data sent before the CONNECT was answered")
            return
        self.connection.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
        tls_context = self.proxy.ca.server_context(host)
        self.connection.settimeout(HEAD_TIMEOUT_S)
        try:
            if isinstance(self.connection, ssl.SSLSocket):
                self._layer(TLSInTLS(self.connection, tls_context))
            else:
                self._layer(tls_context.wrap_socket(self.connection, server_side=True))
        except (ssl.SSLError, OSError):
            # The client did not trust our CA (or gave up): nothing more can be said to it.
            self.close_connection = True
            return
        self.tunnel = (host, port, connect_headers)
        self.close_connection = False

    def _context(self, target: str, *, tunnel: bool) -> ProxyContext:
        return ProxyContext(
            target=target,
            raw_headers=self.headers.items(),
            tunnel=tunnel,
            relay_loopback=self.proxy.relay_loopback,
        )

    def _read_body(self) -> tuple[bytes, int | None]:
        """The request body, and the declared length when it is over the limit (unread)."""
        kind, length = self.framing
        if kind == "chunked":
            body, over = read_chunked(self.reader, MAX_BODY_BYTES)
        elif length > MAX_BODY_BYTES:
            body, over = b"", length
        else:
            body, over = self.reader.read(length), None
            if len(body) < length:
                raise ConnectionAbortedError("the client closed mid-body")
        if over is not None:
            self.close_connection = True  # the rest of the body is never read
        return body, over

    def _forward(self, target: str, connect_headers: dict[str, str], *, tunnel: bool) -> None:
        try:
            body, declared = self._read_body()
        except FramingError as error:
            self.send_error(error.status, str(error))
            return
        context = self._context(target, tunnel=tunnel)
        context.raw_headers = [
            (k, v)
            for k, v in context.raw_headers
            if k.lower() not in ("content-length", "transfer-encoding")
        ]
        context.connect_headers = connect_headers
        context.connect_authenticated = tunnel
        length = declared if declared is not None else len(body)
        status, headers, out = self._call_app(self.tenant.path, context, body, length)
        self._write(status, headers, out, close=self.close_connection)

    # -- the app ---------------------------------------------------------------------------
    def _call_app(
        self, path: str, context: ProxyContext, body: bytes, length: int
    ) -> tuple[int, list[tuple[str, str]], bytes]:
        environ = environ_for(
            (self.command, self.path, self.request_version),
            self.headers,
            target=context.target,
            path=path,
            body=body,
            content_length=length,
            client=self.client_address,
            extra={"werkzeug.socket": self.control, "mockbank.proxy": context},
        )
        route_to_sandbox(environ, context.connect_headers)
        try:
            status, headers, data = run_app(self.proxy.app, environ)
        except ConnectionAbortedError:
            raise  # a "drop" fault: the socket is already shut
        except Exception:  # the app renders its own errors; this is a bug below Flask
            log.exception("the proxy could not run the app for %s", self.command)
            tenant = self.tenant
            headers = [("Content-Type", tenant.content_type)]
            return tenant.unexpected_status, headers, tenant.unexpected_body
        return int(status.split(None, 1)[0]), headers, data

    def _write(
        self, status: int, headers: list[tuple[str, str]], body: bytes, *, close: bool
    ) -> None:
        if close:
            self.close_connection = True
        head = response_head(status, headers, len(body), close=close, phrase=self.tenant.phrase)
        self.connection.sendall(head if self.command == "HEAD" else head + body)


def _authority(host: str, port: int, default: int) -> str:
    shown = f"[{host}]" if ":" in host else host
    return shown if port == default else f"{shown}:{port}"


def _listen(host: str, port: int, label: str) -> socket.socket:
    from mockbank.serving import PortInUse

    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host.strip("[]"), port))
        sock.listen(BACKLOG)
    except OSError as error:
        sock.close()
        if error.errno == errno.EADDRINUSE:
            raise PortInUse(port, "--proxy-port", label) from None
        raise
    return sock


class ForwardProxy:
    """The proxy listener: `start()`, `stop()`, `url` (what `mockbank serve` runs).

    Requests go to `app` at the `tenant`'s paths. The CA and the upstream pool belong to the
    app's `State` (``state.proxy``): a `ca` given here becomes the one it serves with.
    """

    label = "proxy"
    default_tenant: Tenant | None = None  # a subclass for one tenant names it here

    def __init__(
        self,
        app: Flask,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        tenant: Tenant | None = None,
        ca: LocalCA | None = None,
        ca_dir: Path | None = None,
        relay_loopback: bool | None = None,
    ) -> None:
        self.app = app
        chosen = tenant or self.default_tenant
        if chosen is None:
            raise TypeError("ForwardProxy needs a tenant (where its requests go in the app)")
        self.tenant = chosen
        self.resources: ProxyResources = app.extensions["mockbank"].proxy
        if ca is not None:
            self.resources.use_ca(ca)
        # The CA's file exists from now (made on the first start); the CA itself is loaded
        # on the first TLS use.
        self.ca_path = self.resources.ca_path(ca_dir)
        self.host = host
        # Listening beyond loopback, the proxy relays to loopback targets only where mapped
        # (--upstream): it must not open the machine's local services to the network.
        self.relay_loopback = is_loopback(host) if relay_loopback is None else relay_loopback
        listener = _listen(host, port, chosen.label)
        self.port: int = listener.getsockname()[1]
        self._reactor = Reactor(
            listener, lambda sock, address: ProxyConnection(self, sock, address)
        )
        # The proxy as an http:// URL (CONNECT and absolute-URI requests), and the same port as
        # an https:// proxy URL (TLS to the proxy, then the tunnel).
        self.url = f"http://{_authority(host, self.port, 0)}"
        self.https_url = f"https://{_authority(host, self.port, 0)}"
        self._thread: threading.Thread | None = None
        self._outer: ssl.SSLContext | None = None

    @property
    def ca(self) -> LocalCA:
        return self.resources.ca()

    def outer_context(self) -> ssl.SSLContext:
        """The TLS context clients of an ``https://`` proxy URL talk to (leaf per SNI name)."""
        if self._outer is None:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.minimum_version = ssl.TLSVersion.TLSv1_2
            default = self.ca.server_context(self.host)
            chain = self.ca.directory / "leaves"
            safe = "".join(c if c.isalnum() or c in ".-" else "_" for c in self.host.lower())
            context.load_cert_chain(chain / f"{safe}.pem")
            context.set_alpn_protocols(["http/1.1"])
            del default

            def pick(sock: Any, name: str | None, _: ssl.SSLContext) -> None:
                if name:
                    sock.context = self.ca.server_context(name)

            context.sni_callback = pick
            self._outer = context
        return self._outer

    def start(self) -> None:
        """Serve in a daemon thread (the listening socket is already bound)."""
        self._thread = threading.Thread(
            target=self._reactor.serve_forever,
            name=f"mockbank-{self.label.replace(' ', '-')}-{self.port}",
            daemon=True,
        )
        self._thread.start()

    def stop(self) -> None:
        """Stop accepting, close open connections and tunnels, wait for the listener thread."""
        self._reactor.stop(timeout=5 if self._thread is not None else 0)
        if self._thread is not None and self._thread.ident is not None:  # started
            self._thread.join(timeout=5)
        self.resources.close_pool()  # idle target connections; the State closes the rest

    @property
    def open_connections(self) -> int:
        """Connections open now (idle, sending a head, or being served)."""
        return self._reactor.open_connections

    def __enter__(self) -> ForwardProxy:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
