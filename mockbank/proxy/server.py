"""The forward-proxy front door (DESIGN §3): absolute-URI requests and CONNECT with TLS
interception, each decrypted request handed to the same Flask app's Forter proxy view.

One port serves plain ``http://`` proxying, ``CONNECT host:port`` tunnels (answered 200 or
407, then TLS with a leaf minted for ``host`` by the local CA), and an ``https://`` proxy URL
(TLS to the proxy, TLS again inside the tunnel through memory BIOs). Inside a tunnel the
connection is kept alive across requests. werkzeug's own handler closes every connection and
drains the socket after each request, so the HTTP/1.1 loop here is our own, on top of
`http.server.BaseHTTPRequestHandler`'s connection loop; the request line and headers are parsed
here too (http.server's ``email``-based parsing cost a tenth of a proxied request), and the app
is called directly as a WSGI callable.
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import re
import socket
import socketserver
import ssl
import sys
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from mockbank.accesslog import proxy_access
from mockbank.proxy.ca import LocalCA, ca_for_app
from mockbank.proxy.sandbox import route_to_sandbox

if TYPE_CHECKING:
    from flask import Flask

log = logging.getLogger("mockbank.proxy")

PROXY_PATH = "/forter/proxy"
CONNECT_PATH = "/forter/proxy/connect"
MAX_BODY_BYTES = 10 * 1024 * 1024  # DESIGN §1: the proxy accepts bodies up to 10 MiB
IDLE_TIMEOUT_S = 120.0
POLL_S = 0.05
TLS_HANDSHAKE = 0x16
_SKIP_RESPONSE_HEADERS = frozenset({"connection", "keep-alive", "transfer-encoding"})


@dataclass
class ProxyContext:
    """What the proxy view needs beyond the WSGI environ (``environ["mockbank.proxy"]``)."""

    target: str
    raw_headers: list[tuple[str, str]] = field(default_factory=list)
    connect_headers: dict[str, str] = field(default_factory=dict)
    connect_authenticated: bool = False
    tunnel: bool = False


class _Writer(io.BufferedIOBase):
    """A write-only file over ``sendall`` (``SocketIO.write`` may write only part)."""

    def __init__(self, sock: Any) -> None:
        self._sock = sock

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        self._sock.sendall(data)
        return len(data)


MAX_HEADERS = 100  # as http.client: more is a 431
MAX_LINE = 65536


class RequestHeaders:
    """A request's header fields in arrival order, looked up case-insensitively.

    ``http.server`` parses headers with the ``email`` package, which costs about as much as
    the rest of the proxy's own work on a small request; this is the subset the proxy uses.
    """

    __slots__ = ("_fields", "_index")

    def __init__(self, fields: list[tuple[str, str]]) -> None:
        self._fields = fields
        self._index: dict[str, str] = {}
        for name, value in fields:
            self._index.setdefault(name.lower(), value)  # the first one wins, as in email

    def get(self, name: str, default: Any = None) -> Any:
        return self._index.get(name.lower(), default)

    def items(self) -> list[tuple[str, str]]:
        return list(self._fields)

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name.lower() in self._index

    def __len__(self) -> int:
        return len(self._fields)


class _HeadTooLarge(Exception):
    pass


class _BadHead(Exception):
    pass


_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")


def read_request_headers(rfile: Any) -> RequestHeaders:
    """Read header lines up to the blank line (obs-fold lines joined to the previous one)."""
    fields: list[tuple[str, str]] = []
    while True:
        line = rfile.readline(MAX_LINE + 1)
        if len(line) > MAX_LINE:
            raise _HeadTooLarge("Line too long")
        if line in (b"\r\n", b"\n", b""):
            break
        if len(fields) >= MAX_HEADERS:
            raise _HeadTooLarge("Too many headers")
        text = line.decode("iso-8859-1").rstrip("\r\n")
        if text[:1] in (" ", "\t") and fields:
            name, value = fields[-1]
            fields[-1] = (name, f"{value} {text.strip()}")
            continue
        name, colon, value = text.partition(":")
        # What is forwarded must be a well-formed field: a token name (RFC 9110 §5.1) and no
        # CR or NUL in the value, which a target could read as the start of another field.
        if not colon or not _TOKEN.fullmatch(name) or "\r" in value or "\0" in value:
            raise _BadHead(f"Malformed header line {text[:60]!r}")
        fields.append((name, value.strip()))
    return RequestHeaders(fields)


class TLSInTLS:
    """A TLS server session running over an already-TLS socket (an ``https://`` proxy URL)."""

    def __init__(self, outer: ssl.SSLSocket, context: ssl.SSLContext) -> None:
        self.outer = outer
        self._incoming = ssl.MemoryBIO()
        self._outgoing = ssl.MemoryBIO()
        self._tls = context.wrap_bio(self._incoming, self._outgoing, server_side=True)
        self._run(self._tls.do_handshake)

    def _flush(self) -> None:
        data = self._outgoing.read()
        if data:
            self.outer.sendall(data)

    def _run(self, operation: Any, *args: Any) -> Any:
        while True:
            try:
                result = operation(*args)
            except ssl.SSLWantReadError:
                self._flush()
                data = self.outer.recv(65536)
                if data:
                    self._incoming.write(data)
                else:
                    self._incoming.write_eof()
                continue
            self._flush()
            return result

    def recv(self, size: int) -> bytes:
        try:
            data: bytes = self._run(self._tls.read, size)
            return data
        except (ssl.SSLZeroReturnError, ssl.SSLEOFError):
            return b""

    def recv_into(self, buffer: Any, size: int = 0) -> int:
        data = self.recv(size or len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def sendall(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            written: int = self._run(self._tls.write, view)
            view = view[written:]

    def send(self, data: bytes) -> int:
        self.sendall(data)
        return len(data)

    def makefile(self, mode: str = "rb", buffering: int = -1) -> Any:
        raw = socket.SocketIO(self, "rb")  # type: ignore[arg-type]
        return io.BufferedReader(raw)

    def _decref_socketios(self) -> None:
        pass  # SocketIO.close calls this on real sockets

    def settimeout(self, value: float | None) -> None:
        self.outer.settimeout(value)

    def close(self) -> None:
        self.outer.close()


class _Server(socketserver.ThreadingMixIn, socketserver.TCPServer):
    allow_reuse_address = True
    daemon_threads = True
    block_on_close = False

    def __init__(self, proxy: ForterProxy, address: tuple[str, int]) -> None:
        self.proxy = proxy
        self._open: set[socket.socket] = set()
        self._open_lock = threading.Lock()
        family = socket.AF_INET6 if ":" in address[0] else socket.AF_INET
        self.address_family = family
        super().__init__(address, ProxyHandler)

    def track(self, sock: socket.socket) -> None:
        with self._open_lock:
            self._open.add(sock)

    def untrack(self, sock: socket.socket) -> None:
        with self._open_lock:
            self._open.discard(sock)

    def close_all(self) -> None:
        with self._open_lock:
            sockets, self._open = list(self._open), set()
        for sock in sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)


class ProxyHandler(BaseHTTPRequestHandler):
    """One client connection: absolute-URI requests, or a CONNECT tunnel, kept alive."""

    protocol_version = "HTTP/1.1"
    server: _Server
    timeout = IDLE_TIMEOUT_S

    def setup(self) -> None:
        self.raw: socket.socket = self.request
        self.raw.settimeout(IDLE_TIMEOUT_S)
        # urllib3 leaves Nagle on behind a proxy; without NODELAY both ends wait 40 ms.
        self.raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        # wrap_socket detaches the plain socket; a duplicate descriptor keeps reaching the
        # connection for socket options, the "drop" fault and shutdown when the proxy stops.
        self.control = self.raw.dup()
        self.server.track(self.control)
        self.connection: Any = self.raw
        self.tunnel: tuple[str, int, dict[str, str]] | None = None
        self.close_connection = True
        self._closables: list[Any] = []  # every TLS layer, closed in finish()
        try:
            first = self.raw.recv(1, socket.MSG_PEEK)
        except OSError:
            first = b""
        if first[:1] == bytes([TLS_HANDSHAKE]):
            # An https:// proxy URL: the client speaks TLS to the proxy itself.
            try:
                self.connection = self.server.proxy.outer_context().wrap_socket(
                    self.raw, server_side=True
                )
                self._closables.append(self.connection)
            except (ssl.SSLError, OSError):
                self.connection = None
        self._files()

    def _files(self) -> None:
        previous = getattr(self, "rfile", None)
        if previous is not None:
            with contextlib.suppress(OSError):
                previous.close()
        if self.connection is None:
            self.rfile = io.BytesIO(b"")
            self.wfile = _Writer(self.raw)
            return
        self.rfile = self.connection.makefile("rb")
        self.wfile = _Writer(self.connection)

    def finish(self) -> None:
        self.server.untrack(self.control)
        with contextlib.suppress(OSError):
            self.rfile.close()
        with contextlib.suppress(OSError):
            self.control.close()
        for layer in reversed(self._closables):
            with contextlib.suppress(OSError):
                layer.close()
        with contextlib.suppress(OSError):
            self.raw.close()

    def handle(self) -> None:
        if self.connection is None:
            return
        # The client going away (or the server stopping) leaves nothing to answer.
        with contextlib.suppress(OSError, ssl.SSLError, ValueError):
            super().handle()

    def _quickack(self) -> None:
        # Linux may delay an ACK by 40 ms, and a client with Nagle on (urllib3 behind a proxy)
        # holds its body back until the headers are ACKed. The flag does not stick: set it
        # before every read that a client may be waiting on.
        with contextlib.suppress(OSError, AttributeError):
            self.control.setsockopt(socket.IPPROTO_TCP, socket.TCP_QUICKACK, 1)

    def handle_one_request(self) -> None:
        self._quickack()
        super().handle_one_request()

    def parse_request(self) -> bool:
        """The request line and headers (HTTP/1.0 and 1.1), without the ``email`` package."""
        self.command = None  # type: ignore[assignment]
        self.request_version = "HTTP/0.9"
        self.close_connection = True
        self.requestline = str(self.raw_requestline, "iso-8859-1").rstrip("\r\n")
        words = self.requestline.split()
        if not words:
            return False
        if len(words) != 3:
            self.send_error(400, f"Bad request syntax ({self.requestline[:100]!r})")
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
            self.headers = read_request_headers(self.rfile)  # type: ignore[assignment]
        except _HeadTooLarge as error:
            self.send_error(431, str(error))
            return False
        except _BadHead as error:
            self.send_error(400, str(error))
            return False
        connection = (self.headers.get("Connection") or "").lower()
        keep_alive = version == "HTTP/1.1" or "keep-alive" in connection
        self.close_connection = not keep_alive or "close" in connection
        expect = (self.headers.get("Expect") or "").lower()
        if expect == "100-continue" and version == "HTTP/1.1":
            self.wfile.write(b"HTTP/1.1 100 Continue\r\n\r\n")
        return True

    def __getattr__(self, name: str) -> Any:
        if name.startswith("do_"):
            return self._dispatch
        raise AttributeError(name)

    def log_message(self, format: str, *args: Any) -> None:
        pass  # the journal records every proxied request, masked; keep the server log quiet

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """Protocol-level failures (bad request line, huge headers) as Forter-style JSON."""
        text = message or self.responses.get(code, ("Error",))[0]
        proxy_access(getattr(self, "command", None) or "-", getattr(self, "path", "-"), code)
        body = json.dumps({"error": text, "code": "BAD_PROXY_REQUEST"}).encode()
        self._write(code, [("Content-Type", "application/json")], body, close=True)

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
        self.send_error(
            400,
            "This is the Forter detokenization proxy: use it as an HTTP proxy (absolute-URI "
            "requests or CONNECT), not as a web server.",
        )

    def _headers(self) -> list[tuple[str, str]]:
        return [(k, v) for k, v in self.headers.items()]

    def _connect(self) -> None:
        host, _, port_text = self.path.rpartition(":")
        host = host.strip("[]")
        if not host or not port_text.isdigit() or not 0 < int(port_text) < 65536:
            self.send_error(400, f"CONNECT needs host:port, got {self.path[:100]!r}.")
            return
        port = int(port_text)
        connect_headers = {k.lower(): v for k, v in self.headers.items()}
        context = ProxyContext(
            target=f"https://{_authority(host, port, 443)}/",
            raw_headers=self._headers(),
            connect_headers=connect_headers,
            tunnel=True,
        )
        status, headers, body = self._call_app(CONNECT_PATH, context, b"")
        if status != 200:
            self._write(status, headers, body, close=True)
            return
        self.wfile.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
        tls_context = self.server.proxy.ca.server_context(host)
        try:
            if isinstance(self.connection, ssl.SSLSocket):
                self.connection = TLSInTLS(self.connection, tls_context)
            else:
                self.connection = tls_context.wrap_socket(self.connection, server_side=True)
            self._closables.append(self.connection)
        except (ssl.SSLError, OSError):
            # The client did not trust our CA (or gave up): nothing more can be said to it.
            self.close_connection = True
            return
        self._files()
        self.tunnel = (host, port, connect_headers)
        self.close_connection = False

    def _read_body(self) -> tuple[bytes, int | None]:
        """The request body, and the declared length when it is over the limit (unread)."""
        self._quickack()
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            chunks: list[bytes] = []
            total = 0
            while True:
                line = self.rfile.readline(1024)
                size_text = line.split(b";", 1)[0].strip()
                try:
                    size = int(size_text, 16)
                except ValueError:
                    raise _BadRequest("malformed chunked body") from None
                if size == 0:
                    while self.rfile.readline(8192) not in (b"\r\n", b"\n", b""):
                        pass  # trailers are dropped
                    break
                total += size
                if total > MAX_BODY_BYTES:
                    self.close_connection = True
                    return b"", total
                chunks.append(self.rfile.read(size))
                self.rfile.readline(8)
            return b"".join(chunks), None
        length_text = self.headers.get("Content-Length")
        if not length_text:
            return b"", None
        if not length_text.strip().isdigit():
            raise _BadRequest("Content-Length must be a number")
        length = int(length_text)
        if length > MAX_BODY_BYTES:
            self.close_connection = True
            return b"", length
        data = self.rfile.read(length)
        if len(data) < length:
            raise OSError("client closed mid-body")
        return data, None

    def _forward(self, target: str, connect_headers: dict[str, str], *, tunnel: bool) -> None:
        try:
            body, declared = self._read_body()
        except _BadRequest as error:
            self.send_error(400, str(error))
            return
        context = ProxyContext(
            target=target,
            raw_headers=[
                (k, v)
                for k, v in self._headers()
                if k.lower() not in ("content-length", "transfer-encoding")
            ],
            connect_headers=connect_headers,
            connect_authenticated=tunnel,
            tunnel=tunnel,
        )
        status, headers, out = self._call_app(PROXY_PATH, context, body, declared=declared)
        self._write(status, headers, out, close=self.close_connection)

    # -- the app ---------------------------------------------------------------------------
    def _call_app(
        self, path: str, context: ProxyContext, body: bytes, *, declared: int | None = None
    ) -> tuple[int, list[tuple[str, str]], bytes]:
        parts = urlsplit(context.target)
        environ: dict[str, Any] = {
            "wsgi.version": (1, 0),
            "wsgi.url_scheme": parts.scheme or "http",
            "wsgi.input": io.BytesIO(body),
            "wsgi.errors": sys.stderr,
            "wsgi.multithread": True,
            "wsgi.multiprocess": False,
            "wsgi.run_once": False,
            "werkzeug.socket": self.control,
            "SERVER_SOFTWARE": "mockbank-forter-proxy",
            "REQUEST_METHOD": self.command,
            "SCRIPT_NAME": "",
            "PATH_INFO": path,
            "QUERY_STRING": "",
            "REQUEST_URI": self.path,
            "RAW_URI": self.path,
            "REMOTE_ADDR": self.client_address[0],
            "REMOTE_PORT": self.client_address[1],
            "SERVER_NAME": parts.hostname or "",
            "SERVER_PORT": str(parts.port or (443 if parts.scheme == "https" else 80)),
            "SERVER_PROTOCOL": self.request_version,
            "CONTENT_LENGTH": str(declared if declared is not None else len(body)),
            "mockbank.proxy": context,
        }
        for key, value in self.headers.items():
            name = key.upper().replace("-", "_")
            if "_" in key or name in ("CONTENT_LENGTH", "TRANSFER_ENCODING"):
                continue
            if name == "CONTENT_TYPE":
                environ[name] = value
                continue
            name = f"HTTP_{name}"
            environ[name] = f"{environ[name]},{value}" if name in environ else value
        route_to_sandbox(environ, context.connect_headers)
        app = self.server.proxy.app
        try:
            status, headers, data = _run_app(app, environ)
        except ConnectionAbortedError:
            raise  # a "drop" fault: the socket is already shut
        except Exception:  # the app renders its own errors; this is a bug below Flask
            log.exception("the proxy could not run the app for %s", self.command)
            body_565 = b'{"error": "An unexpected error has occurred.", "code": "UNEXPECTED_ERROR"}'
            return 565, [("Content-Type", "application/json")], body_565
        code = int(status.split(None, 1)[0])
        return code, headers, data

    def _write(
        self, status: int, headers: list[tuple[str, str]], body: bytes, *, close: bool
    ) -> None:
        reason = self.responses.get(status, ("",))[0] or _REASONS.get(status, "Unknown")
        lines = [f"HTTP/1.1 {status} {reason}"]
        for name, value in headers:
            if name.lower() in _SKIP_RESPONSE_HEADERS or name.lower() == "content-length":
                continue
            lines.append(f"{name}: {value}")
        head_only = self.command == "HEAD"
        lines.append(f"Content-Length: {len(body)}")
        if close:
            lines.append("Connection: close")
            self.close_connection = True
        payload = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        self.wfile.write(payload if head_only else payload + body)


def _run_app(app: Any, environ: dict[str, Any]) -> tuple[str, list[tuple[str, str]], bytes]:
    """Call the WSGI app and collect its whole answer (status, headers, body)."""
    started: list[Any] = []
    written: list[bytes] = []

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        if exc_info is not None and started:
            raise exc_info[1].with_traceback(exc_info[2])
        started[:] = [status, list(headers)]
        return written.append

    result = app(environ, start_response)
    try:
        for chunk in result:
            written.append(chunk)
    finally:
        close = getattr(result, "close", None)
        if close is not None:
            close()
    if not started:
        raise RuntimeError("the app returned without calling start_response")
    return started[0], started[1], b"".join(written)


class _BadRequest(Exception):
    pass


_REASONS = {
    555: "Token Not Found",
    556: "Validation Error",
    565: "Unexpected Error",
}


def _authority(host: str, port: int, default: int) -> str:
    shown = f"[{host}]" if ":" in host else host
    return shown if port == default else f"{shown}:{port}"


class ForterProxy:
    """The proxy listener: `start()`, `stop()`, `url` (what `mockbank serve` runs)."""

    label = "forter proxy"

    def __init__(
        self,
        app: Flask,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        ca: LocalCA | None = None,
        ca_dir: Path | None = None,
    ) -> None:
        self.app = app
        self.ca = ca or ca_for_app(app, ca_dir)
        self.app.extensions["mockbank.proxy.ca"] = self.ca
        self.host = host
        self._server = _Server(self, (host, port))
        self.port: int = self._server.server_address[1]
        # The proxy as an http:// URL (CONNECT and absolute-URI requests), and the same port as
        # an https:// proxy URL (TLS to the proxy, then the tunnel).
        self.url = f"http://{_authority(host, self.port, 0)}"
        self.https_url = f"https://{_authority(host, self.port, 0)}"
        self._thread: threading.Thread | None = None
        self._outer: ssl.SSLContext | None = None

    @property
    def ca_path(self) -> Path:
        return self.ca.cert_path

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
            target=self._server.serve_forever,
            kwargs={"poll_interval": POLL_S},
            name=f"mockbank-forter-proxy-{self.port}",
            daemon=True,
        )
        self._thread.start()

    def stop(self) -> None:
        """Stop accepting, close open tunnels, and wait for the listener thread."""
        self._server.shutdown()
        self._server.close_all()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        pool = self.app.extensions.pop("mockbank.proxy.pool", None)
        if pool is not None:
            pool.close()

    def __enter__(self) -> ForterProxy:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
