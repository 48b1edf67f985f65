"""Helpers for tests and tools: `LiveServer` (the app on a real port in a thread) and
`InProcess` (the providers' real hostnames routed into the app through ``responses``)."""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlsplit

from flask import Flask
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server
from werkzeug.test import EnvironBuilder, run_wsgi_app

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


class InProcess:
    """Route requests for the providers' real hostnames into `app` with ``responses``.

    Existing integration code that calls ``https://ws.qvalent.com/...`` through python-requests
    works unchanged; loopback URLs pass through to real servers.
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
        for host in self.routes:
            for method in ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"):
                pattern = _host_pattern(host)
                self.mock.add_callback(method, pattern, callback=self._dispatch)  # type: ignore[arg-type]

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
        headers = {k: v for k, v in prepared.headers.items() if k.lower() != "content-length"}
        # A bare environ, not the Flask test client: requests keeps its own cookies, and the
        # test client's cookie jar would leak them between unrelated sessions.
        builder = EnvironBuilder(
            path=path,
            base_url=f"{parts.scheme}://{parts.netloc}",
            query_string=parts.query,
            method=prepared.method,
            headers=headers,
            data=_body_bytes(prepared.body),
            environ_overrides={"REMOTE_ADDR": "127.0.0.1", INPROCESS_KEY: True},
        )
        try:
            app_iter, status, response_headers = run_wsgi_app(self.app, builder.get_environ())
            try:
                body = b"".join(app_iter)
            finally:
                if hasattr(app_iter, "close"):
                    app_iter.close()
        finally:
            builder.close()
        out = [
            (k, v)
            for k, v in response_headers.items()
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


def _host_pattern(host: str) -> Any:
    import re

    return re.compile(rf"https?://{re.escape(host)}(?::\d+)?(?:[/?#].*)?$", re.IGNORECASE)


@contextmanager
def inprocess(app: Flask, **kwargs: Any) -> Iterator[InProcess]:
    """``with inprocess(app): requests.post("https://ws.qvalent.com/...")``."""
    router = InProcess(app, **kwargs)
    with router:
        yield router
