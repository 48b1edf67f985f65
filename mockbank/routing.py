"""App-wide request plumbing: endpoint names, faults, journal, correlation ids, error rendering.

Blueprints never see routing 404/405s, so those and every other failure are rendered here in
the format of the provider whose prefix the path is under.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import time
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Any, TypeVar

from flask import Flask, Response, jsonify, request
from werkzeug.exceptions import HTTPException

from mockbank import accesslog
from mockbank.clock import monotonic, request_scope
from mockbank.context import RequestContext, request_context
from mockbank.errors import (
    FaultInjected,
    InternalError,
    MalformedRequest,
    MethodNotAllowed,
    PayloadTooLarge,
    ProviderError,
    RouteNotFound,
)
from mockbank.guards import (
    add_security_headers,
    check_json_depth,
    host_refused,
    short_traceback,
)
from mockbank.hosts import INPROCESS_KEY, NAMES_KEY, PROXY_KEY, ServerNames, provider_hostnames
from mockbank.journal import Capture
from mockbank.masking import mask_text
from mockbank.sandboxes import ENVIRON_STATE, SandboxDispatch, SandboxError
from mockbank.state import current_state

if TYPE_CHECKING:
    from mockbank.providers import Provider
    from mockbank.state import State

log = logging.getLogger("mockbank")
F = TypeVar("F", bound=Callable[..., Any])
ENDPOINT_ATTR = "_mockbank_endpoint"


def endpoint(name: str) -> Callable[[F], F]:
    """Name a view for faults and the journal (``token-request``, ``detokenize``...)."""

    def decorate(view: F) -> F:
        setattr(view, ENDPOINT_ATTR, name)
        return view

    return decorate


def journal_note(key: str, value: Any) -> None:
    """Attach a note to this request's journal entry (masked text only, never a secret)."""
    request_context().journal_notes[key] = value


def skip_journal_body() -> None:
    """Keep this response's body out of the journal (a card shown on purpose, an image)."""
    request_context().journal_skip_body = True


class DropConnection(Exception):
    """A fault asked for the connection to be dropped without an answer."""


def provider_for_path(state: State, path: str) -> Provider | None:
    first = path.lstrip("/").split("/", 1)[0]
    return state.providers.get(first)


def render_error(state: State, error: ProviderError) -> Response:
    provider = request_context().provider or provider_for_path(state, request.path)
    if provider is not None:
        return provider.emulation.render_error(error)
    response = jsonify({"error": {"code": error.code, "message": error.detail}})
    response.status_code = error.http_status
    return response


def _http_to_provider_error(exc: HTTPException) -> ProviderError:
    code = exc.code or 500
    if code == 404:
        return RouteNotFound(f"No endpoint at {request.method} {request.path}.")
    if code == 405:
        allowed = ", ".join(sorted(getattr(exc, "valid_methods", None) or []))
        return MethodNotAllowed(
            f"{request.path} accepts {allowed or 'other methods'}, not {request.method}."
        )
    if code == 413:
        limit = request.max_content_length
        return PayloadTooLarge(f"The request body is over the {limit} byte limit.")
    if code == 400:
        return MalformedRequest(exc.description or None)
    if code >= 500:  # Flask's own 500 (a hook failed): still the correlation id, no details
        return InternalError(request_context().correlation_id or "-")
    return ProviderError(exc.description or exc.name, status=code)


def _check_host(names: ServerNames, environ: dict[str, Any]) -> None:
    """Refuse a Host that is not a name of this server (DNS rebinding)."""
    if PROXY_KEY in environ or environ.get(INPROCESS_KEY):
        return  # the proxy's Host is the target; in-process requests never crossed a network
    host = environ.get("HTTP_HOST")
    if host is not None and not names.allows(host):
        raise host_refused(host)


def _provider_of(state: State, req: Any) -> Provider | None:
    """The provider whose path this is; None for the control API, dashboard, static files."""
    if req.endpoint and req.endpoint.endswith(".static"):
        return None  # a page's script or style: neither journaled nor faulted
    if (req.endpoint or "").startswith("dashboard."):
        return None  # the console's page about a provider is not a provider request
    return provider_for_path(state, req.path)


def _guard(names: ServerNames, req: Any, provider: Provider | None) -> None:
    """Host and body checks every request passes, before any view runs."""
    _check_host(names, req.environ)
    if provider is None:
        if req.path.startswith("/_mockbank/"):
            check_json_depth(req.get_data(cache=True), req.content_type)
        return
    # Read the body once, up front: form parsing then works from the cached copy and the
    # journal still sees the raw bytes. Over the size limit this raises 413.
    body = req.get_data(cache=True, parse_form_data=False)
    if PROXY_KEY not in req.environ:  # the proxy forwards bodies, it never parses them
        check_json_depth(body, req.content_type)


def _journal_safely(state: State, provider: Provider, response: Response) -> None:
    try:
        _journal(state, provider, response)
    except Exception as error:  # the answer is made: losing its journal entry is not
        log.error(
            "could not journal %s %s (correlation id %s): %s",
            request.method,
            mask_text(request.path[:200]),
            request_context().correlation_id or "-",
            type(error).__name__,
        )


def _unexpected_error(state: State, error: Exception) -> Response:
    """A bug: a 500 in the provider's format naming the request id; a bounded log entry."""
    correlation_id = request_context().correlation_id or "-"
    # Bounded: a deep recursion's traceback alone would be hundreds of kilobytes.
    log.error(
        "unexpected error in %s %s (correlation id %s)\n%s",
        request.method,
        mask_text(request.path[:200]),
        correlation_id,
        short_traceback(error),
    )
    state.record_server_error(error)
    journal_note("error", type(error).__name__)
    return render_error(state, InternalError(correlation_id))


def collect_endpoints(app: Flask, state: State, name: str) -> None:
    """A provider's endpoint names (what faults and the journal call its views), once its
    views are added to the app."""
    prefix = f"{state.providers[name].emulation.blueprint.name}."
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith(prefix):
            view = app.view_functions[rule.endpoint]
            if hasattr(view, ENDPOINT_ATTR):
                state.endpoints[name].add(getattr(view, ENDPOINT_ATTR))


def _apply_fault(state: State, provider: Provider, ctx: RequestContext) -> None:
    """Carry out the first fault rule matching this request, if any."""
    fault = state.faults.match(provider.name, ctx.endpoint_name)
    if fault is None:
        return
    journal_note("fault", {"id": fault.id, "action": fault.action, "status": fault.status})
    if fault.latency_ms:
        time.sleep(fault.latency_ms / 1000)
    if fault.action == "drop":
        raise DropConnection()
    if fault.action == "status":
        raise FaultInjected(fault.message, status=fault.status)


def install(app: Flask, state: State) -> None:
    """Register the hooks and error handlers that every provider relies on."""
    names = ServerNames.build(
        state.config, provider_hostnames(state.providers, state.config.options)
    )
    app.extensions[NAMES_KEY] = names

    @app.before_request
    def _begin() -> None:
        # Plain objects, not the context-local proxies: this runs on every request.
        req: Any = request._get_current_object()  # type: ignore[attr-defined]
        ctx = request_context()
        ctx.started = monotonic()
        # Set first: a request refused by the guard is still journaled under its provider.
        provider = ctx.provider = _provider_of(state, req)
        try:
            served = current_state()  # the sandbox's state under /s/<name>/, else the app's
        except SandboxError as error:
            # Answered (and journaled) by the default sandbox, in the provider's format.
            req.environ[ENVIRON_STATE] = state
            ctx.correlation_id = state.request_id()
            raise RouteNotFound(error.message) from None
        ctx.correlation_id = served.request_id()
        _guard(names, req, provider)
        if provider is None:
            return
        served.provider(provider.name)  # ready in this sandbox: fixtures read, records seeded
        view = app.view_functions.get(req.endpoint or "")
        ctx.endpoint_name = getattr(view, ENDPOINT_ATTR, None)
        _apply_fault(served, provider, ctx)

    @app.after_request
    def _finish(response: Response) -> Response:
        ctx = request_context()
        correlation_id = ctx.correlation_id or None
        if PROXY_KEY not in request.environ:  # a target's answer is relayed unchanged
            add_security_headers(response, correlation_id)
        elif correlation_id:
            response.headers.setdefault("X-Request-Id", correlation_id)
        provider = ctx.provider
        if provider is not None:
            _journal_safely(_served(state), provider, response)
        if accesslog.log.isEnabledFor(logging.INFO):
            _access_line(provider, response)
        return response

    _install_error_handlers(app, state)
    app.wsgi_app = SandboxDispatch(_DropMiddleware(app.wsgi_app))  # type: ignore[method-assign]


def _install_error_handlers(app: Flask, state: State) -> None:
    """Every failure answered in the format of the provider whose path it is under."""

    @app.errorhandler(ProviderError)
    def _provider_error(error: ProviderError) -> Response:
        return render_error(state, error)

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException) -> Response:
        if exc.code and exc.code < 400:  # redirects raised as exceptions pass through
            return exc.get_response()  # type: ignore[return-value]
        return render_error(state, _http_to_provider_error(exc))

    @app.errorhandler(DropConnection)
    def _drop(_: DropConnection) -> Response:
        request.environ["mockbank.drop"] = True
        return Response(b"", status=204)

    @app.errorhandler(Exception)
    def _unexpected(error: Exception) -> Response:
        return _unexpected_error(_served(state), error)


def _served(root: State) -> State:
    """The state serving this request, or the app's when its sandbox is unknown."""
    try:
        return current_state()
    except SandboxError:
        return root


def _journal(state: State, provider: Provider, response: Response) -> None:
    """Hand the journal this request's parts; it masks them when it is read."""
    req: Any = request._get_current_object()  # type: ignore[attr-defined]
    ctx = request_context()
    try:
        body = req.get_data(cache=True)
    except Exception:  # a body the server could not read is journaled as empty
        body = b""
    skip = ctx.journal_skip_body or response.direct_passthrough
    response_body = None if skip else b"" if response.is_streamed else response.get_data()
    started = ctx.started
    latency = (monotonic() - started) * 1000 if started else 0.0
    environ = req.environ
    notes = ctx.journal_notes
    state.journal.record_capture(
        Capture.cut(
            time=state.now(),
            provider=provider.name,
            endpoint=ctx.endpoint_name,
            method=req.method,
            path=req.path,
            query=req.query_string,
            status=response.status_code,
            latency_ms=round(latency, 3),
            correlation_id=ctx.correlation_id,
            remote_addr=req.remote_addr,
            request_headers=_request_headers(environ),
            request_body=body,
            request_type=environ.get("CONTENT_TYPE"),
            response_headers=list(response.headers.items()),
            response_body=response_body,
            response_type=response.content_type,
            notes=dict(notes) if notes else {},
        )
    )


def _request_headers(environ: dict[str, Any]) -> list[tuple[str, str]]:
    """The header entries of the environ, copied (the journal names them when it is read)."""
    return [
        (key, value)
        for key, value in environ.items()
        if key.startswith("HTTP_") or key in ("CONTENT_TYPE", "CONTENT_LENGTH")
    ]


def _access_line(provider: Provider | None, response: Response) -> None:
    req: Any = request._get_current_object()  # type: ignore[attr-defined]
    ctx = request_context()
    started = ctx.started
    proxied = req.environ.get("mockbank.proxy")
    path = getattr(proxied, "target", None) or req.path
    endpoint = req.endpoint if provider is None else ctx.endpoint_name
    dropped = req.environ.get("mockbank.drop")
    accesslog.access(
        accesslog.Access(
            ctx.correlation_id,
            provider.name if provider is not None else None,
            endpoint,
            req.method,
            mask_text(path),
            "dropped" if dropped else response.status_code,
            (monotonic() - started) * 1000 if started else 0.0,
        )
    )


class _DropMiddleware:
    """Carries out a 'drop' fault below Flask, where the connection is reachable."""

    def __init__(self, app: Callable[..., Iterable[bytes]]) -> None:
        self.app = app

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        captured: list[Any] = []

        def capture(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            captured.append((status, headers, exc_info))
            return lambda data: None

        with request_scope():  # a shared clock's setting is read once per request
            result = self.app(environ, capture)
        if not environ.get("mockbank.drop"):
            status, headers, exc_info = captured[0]
            start_response(status, headers, exc_info)
            return result
        if hasattr(result, "close"):
            result.close()
        raw = environ.get("werkzeug.socket")
        if raw is not None:
            # werkzeug's server (and the proxy) expose the socket: close it without a byte.
            with contextlib.suppress(OSError):
                raw.shutdown(socket.SHUT_RDWR)
            raise ConnectionAbortedError("mockbank dropped the connection (fault)")
        # waitress hides the socket: promise a body and break off after its first byte, so
        # the client sees a connection that died mid-response.
        start_response("200 OK", [("Content-Length", "64"), ("Content-Type", "text/plain")])
        return _broken()


def _broken() -> Iterator[bytes]:
    yield b"-"
    try:  # waitress logs its own ClientDisconnected quietly, anything else as an error
        from waitress.channel import ClientDisconnected  # type: ignore[import-untyped]
    except ImportError:  # pragma: no cover - waitress is a dependency
        raise ConnectionAbortedError("mockbank dropped the connection (fault)") from None
    raise ClientDisconnected("mockbank dropped the connection (fault)")
