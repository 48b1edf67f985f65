"""Calling the Flask app from the proxy: the WSGI environ of one proxied request, the call,
and the status line and head of the answer."""

from __future__ import annotations

import io
import sys
from collections.abc import Callable
from http import HTTPStatus
from typing import Any
from urllib.parse import urlsplit

from mockbank.proxy.http import RequestHeaders

SKIP_RESPONSE_HEADERS = frozenset(
    {"connection", "keep-alive", "transfer-encoding", "content-length"}
)
PHRASES = {status.value: status.phrase for status in HTTPStatus}  # not an enum lookup per answer


def environ_for(
    request: tuple[str, str, str],
    headers: RequestHeaders,
    *,
    target: str,
    path: str,
    body: bytes,
    content_length: int,
    client: Any,
    extra: dict[str, Any],
) -> dict[str, Any]:
    """The environ of (method, request-target, version) sent to the app's view at `path`."""
    method, uri, version = request
    parts = urlsplit(target)
    environ: dict[str, Any] = {
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": parts.scheme or "http",
        "wsgi.input": io.BytesIO(body),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": True,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
        "SERVER_SOFTWARE": "mockbank-proxy",
        "REQUEST_METHOD": method,
        "SCRIPT_NAME": "",
        "PATH_INFO": path,
        "QUERY_STRING": "",
        "REQUEST_URI": uri,
        "RAW_URI": uri,
        "REMOTE_ADDR": client[0],
        "REMOTE_PORT": client[1],
        "SERVER_NAME": parts.hostname or "",
        "SERVER_PORT": str(parts.port or (443 if parts.scheme == "https" else 80)),
        "SERVER_PROTOCOL": version,
        "CONTENT_LENGTH": str(content_length),
        **extra,
    }
    for key, value in headers.items():
        name = key.upper().replace("-", "_")
        if "_" in key or name in ("CONTENT_LENGTH", "TRANSFER_ENCODING"):
            continue
        if name == "CONTENT_TYPE":
            environ[name] = value
            continue
        name = f"HTTP_{name}"
        environ[name] = f"{environ[name]},{value}" if name in environ else value
    return environ


def run_app(app: Any, environ: dict[str, Any]) -> tuple[str, list[tuple[str, str]], bytes]:
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


def response_head(
    status: int,
    headers: list[tuple[str, str]],
    length: int,
    *,
    close: bool,
    phrase: Callable[[int], str] = lambda status: "Unknown",
) -> bytes:
    """Status line and header fields of an answer of `length` bytes (hop-by-hop fields dropped).

    A status HTTP does not name reads its phrase from `phrase` (the tenant's own codes)."""
    reason = PHRASES.get(status) or phrase(status)
    lines = [f"HTTP/1.1 {status} {reason}"]
    lines.extend(
        f"{name}: {value}" for name, value in headers if name.lower() not in SKIP_RESPONSE_HEADERS
    )
    lines.append(f"Content-Length: {length}")
    if close:
        lines.append("Connection: close")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
