"""Helpers for tests and tools: `LiveServer` (the app on a real port in a thread) and
`InProcess` (the providers' real hostnames routed into the app through ``responses``)."""

from __future__ import annotations

import re
import sys
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from io import BytesIO
from typing import Any
from urllib.parse import SplitResult, unquote, urlsplit

from flask import Flask
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from mockbank.hosts import INPROCESS_KEY, provider_hostnames, set_bound_address
from mockbank.state import State


class KeepAliveHandler(WSGIRequestHandler):
    """werkzeug's handler speaking HTTP/1.1, so clients keep their connections open."""

    protocol_version = "HTTP/1.1"

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass  # the journal records every provider request; keep test output quiet


class LiveServer:
    """Run `app` on ``host:port`` (port 0 picks a free one) in a daemon thread."""

    def __init__(self, app: Flask, host: str = "127.0.0.1", port: int = 0) -> None:
        self.app = app
        self._server: BaseWSGIServer = make_server(
            host, port, app, threaded=True, request_handler=KeepAliveHandler
        )
        self._server.daemon_threads = True  # type: ignore[attr-defined]
        self.host = host
        self.port = self._server.server_port
        set_bound_address(app, host, self.port)
        self._thread: threading.Thread | None = None

    @property
    def state(self) -> State:
        state: State = self.app.extensions["mockbank"]
        return state

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def url_for(self, provider: str, path: str = "") -> str:
        """Base URL of a provider (``quickstream``...), or of the control API (``_mockbank``)."""
        if provider not in self.state.providers and provider != "_mockbank":
            self.state.provider(provider)  # raises UnknownProvider naming the known ones
        return f"{self.url}/{provider}{path}"

    def start(self) -> LiveServer:
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"mockbank-live-{self.port}",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> LiveServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def provider_hosts(state: State, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """Real hostname → provider name, from each provider, its ``<name>.hosts`` option
    (a list or a comma/space-separated string, e.g. Centagate's own domain) and `extra`."""
    routes: dict[str, str] = {}
    for name, provider in state.providers.items():
        for host in provider_hostnames({name: provider}, state.config.options):
            routes[host.lower()] = name
    for host, name in (extra or {}).items():
        state.provider(name)
        routes[host.lower()] = name
    return routes


def _body_bytes(body: Any) -> bytes:
    if body is None:
        return b""
    if isinstance(body, bytes):
        return body
    if isinstance(body, str):
        return body.encode("utf-8")
    if hasattr(body, "read"):
        data = body.read()
        return data.encode() if isinstance(data, str) else bytes(data)
    if isinstance(body, Iterable):
        return b"".join(c.encode() if isinstance(c, str) else bytes(c) for c in body)
    return bytes(body)


METHODS = frozenset({"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"})


class InProcess:
    """Route requests for the providers' real hostnames into `app` with ``responses``.

    Existing integration code that calls ``https://ws.qvalent.com/...`` through python-requests
    works unchanged; loopback URLs pass through to real servers.

    One registered mock answers every provider hostname (a dictionary lookup per request, not
    a pattern per host and method), and the app is called with a WSGI environ built here, as
    werkzeug's test `EnvironBuilder` would build it, at a fraction of its cost.
    """

    def __init__(
        self,
        app: Flask,
        *,
        hosts: Mapping[str, str] | None = None,
        passthrough: Iterable[str] = ("http://127.0.0.1", "http://localhost"),
    ) -> None:
        import responses

        self.app = app
        self.routes = provider_hosts(self.state, hosts)
        self.mock = responses.RequestsMock(assert_all_requests_are_fired=False)
        for prefix in passthrough:
            self.mock.add_passthru(prefix)
        self.mock.add(_hosts_response(self.routes, self._dispatch))

    @property
    def state(self) -> State:
        state: State = self.app.extensions["mockbank"]
        return state

    def _dispatch(self, prepared: Any) -> tuple[int, list[tuple[str, str]], bytes]:
        parts = urlsplit(prepared.url)
        host = (parts.hostname or "").lower()
        prefix = self.state.providers[self.routes[host]].prefix
        path = parts.path or "/"
        # Absolute URLs mockbank itself generated already carry the prefix.
        if not (path == prefix or path.startswith(prefix + "/")):
            path = prefix + path
        # A bare environ, not the Flask test client: requests keeps its own cookies, and the
        # test client's cookie jar would leak them between unrelated sessions.
        environ = wsgi_environ(prepared, parts, path, _body_bytes(prepared.body))
        started: list[Any] = []
        written: list[bytes] = []

        def start_response(status: str, headers: list[tuple[str, str]], exc: Any = None) -> Any:
            started[:] = [status, headers]
            return written.append

        result = self.app(environ, start_response)
        try:
            body = b"".join([*written, *result])
        finally:
            if hasattr(result, "close"):
                result.close()
        status, response_headers = started
        out = [
            (k, v)
            for k, v in response_headers
            if k.lower() not in ("content-length", "transfer-encoding")
        ]
        return int(status.split(" ", 1)[0]), out, body

    def start(self) -> InProcess:
        self.mock.start()
        return self

    def stop(self) -> None:
        self.mock.stop()
        self.mock.reset()

    def __enter__(self) -> InProcess:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def wsgi_environ(prepared: Any, parts: SplitResult, path: str, body: bytes) -> dict[str, Any]:
    """The environ werkzeug's `EnvironBuilder` makes for this request (same keys and values)."""
    scheme = parts.scheme or "http"
    netloc = parts.netloc
    name, sep, port = netloc.partition(":")
    raw_path = path.encode().decode("latin-1")
    environ: dict[str, Any] = {
        "REQUEST_METHOD": prepared.method,
        "SCRIPT_NAME": "",
        "PATH_INFO": unquote(path).encode().decode("latin-1"),
        "QUERY_STRING": parts.query.encode().decode("latin-1"),
        "REQUEST_URI": raw_path,
        "RAW_URI": raw_path,
        "SERVER_NAME": name,
        "SERVER_PORT": port if sep and port.isdigit() else ("443" if scheme == "https" else "80"),
        "HTTP_HOST": netloc,
        "SERVER_PROTOCOL": "HTTP/1.1",
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": scheme,
        "wsgi.input": BytesIO(body),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": False,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
    }
    if body:
        environ["CONTENT_LENGTH"] = str(len(body))
    headers: dict[str, str] = {}
    for key, value in prepared.headers.items():
        text = value.decode("latin-1") if isinstance(value, bytes) else str(value)
        lower = key.lower()
        if lower == "content-length":
            continue
        if lower == "content-type":
            environ["CONTENT_TYPE"] = text
            continue
        wsgi_name = "HTTP_" + key.upper().replace("-", "_")
        headers[wsgi_name] = f"{headers[wsgi_name]}, {text}" if wsgi_name in headers else text
    environ.update(headers)
    environ["REMOTE_ADDR"] = "127.0.0.1"
    environ[INPROCESS_KEY] = True
    return environ


def _hosts_response(routes: Mapping[str, str], callback: Callable[[Any], Any]) -> Any:
    """One ``responses`` mock answering every method on every host in `routes`."""
    import responses

    class HostsResponse(responses.CallbackResponse):
        def matches(self, request: Any) -> tuple[bool, str]:
            if request.method not in METHODS:
                return False, "Method does not match"
            host = urlsplit(request.url).hostname
            if host is None or host.lower() not in routes:
                return False, "not a provider hostname routed into mockbank"
            return True, ""

    return HostsResponse("GET", _ANY_URL, callback=callback, content_type=None)


_ANY_URL = re.compile(".*")


@contextmanager
def inprocess(app: Flask, **kwargs: Any) -> Iterator[InProcess]:
    """``with inprocess(app): requests.post("https://ws.qvalent.com/...")``."""
    router = InProcess(app, **kwargs)
    with router:
        yield router
