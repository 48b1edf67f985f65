"""Forter's views: the tokenization API, the echo target, and the proxy front door's view."""

from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, Response, jsonify, request

from mockbank.errors import PayloadTooLarge, RouteNotFound
from mockbank.masking import mask_text
from mockbank.providers.forter.admin import fixtures
from mockbank.providers.forter.auth import require_proxy_site, require_site
from mockbank.providers.forter.errors import ValidationFailed, is_proxy_request
from mockbank.providers.forter.models import proxying, tokens
from mockbank.providers.forter.models.cards import parse_card_input
from mockbank.providers.forter.records import TokenType
from mockbank.providers.forter.settings import settings
from mockbank.proxy.server import MAX_BODY_BYTES, ProxyContext
from mockbank.routing import endpoint, journal_note, skip_journal_body
from mockbank.state import current_state

bp = Blueprint("forter", __name__)
ALL_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]


@bp.before_request
def _proxy_body_limit() -> None:
    # DESIGN §1: 1 MiB for the API, 10 MiB for bodies coming through the proxy.
    if is_proxy_request():
        request.max_content_length = MAX_BODY_BYTES
        # Refuse a declared oversize body before the token checks, which never read it.
        if (request.content_length or 0) > MAX_BODY_BYTES:
            raise PayloadTooLarge(f"The request body is over the {MAX_BODY_BYTES} byte limit.")


def _require_site() -> str:
    return require_site(request.headers.get("Authorization"), fixtures(current_state()).credentials)


def _json_body() -> Any:
    content_type = (request.content_type or "").lower()
    if content_type and "json" not in content_type:
        raise ValidationFailed(f"Content-Type must be application/json, not {content_type!r}.")
    raw = request.get_data(cache=True)
    if not raw.strip():
        raise ValidationFailed("The body must be a JSON object.")
    try:
        return json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise ValidationFailed("The body is not valid UTF-8 JSON.") from None


def _tokenize(kind: TokenType) -> Response:
    _require_site()
    state = current_state()
    now = state.now()
    card = parse_card_input(_json_body(), single_use=kind is TokenType.SINGLE_USE, now=now)
    ttl = settings(state).single_use_ttl_s
    token, record, expires_at = tokens.tokenize(
        state.store, card, kind=kind, token_hex=state.token_hex, now=now, ttl_s=ttl
    )
    return jsonify(tokens.describe(token, record, expires_at=expires_at))


@bp.post("/v1/tokenization/tokenize")
@endpoint("tokenize")
def tokenize() -> Response:
    """Create a multi-use token (no CVC)."""
    return _tokenize(TokenType.MULTI_USE)


@bp.post("/v1/tokenization/tokenize-single-use")
@endpoint("tokenize-single-use")
def tokenize_single_use() -> Response:
    """Create a single-use token (may hold a CVC; gone after 24 hours), or a CVC-only token."""
    return _tokenize(TokenType.SINGLE_USE)


@bp.post("/v1/tokenization/upgrade")
@endpoint("upgrade")
def upgrade() -> Response:
    """Turn a single-use token into a multi-use one; the CVC is not kept."""
    _require_site()
    state = current_state()
    data = _json_body()
    if not isinstance(data, dict) or not isinstance(data.get("token"), str):
        raise ValidationFailed("'token' (a string) is required.", field="token")
    unknown = sorted(set(data) - {"token"})
    if unknown:
        raise ValidationFailed(f"Unknown field(s): {', '.join(unknown)}.", field=unknown[0])
    token, record = tokens.upgrade(
        state.store, data["token"].strip(), token_hex=state.token_hex, now=state.now()
    )
    return jsonify(tokens.describe(token, record, expires_at=None))


@bp.route("/echo", defaults={"rest": ""}, methods=ALL_METHODS)
@bp.route("/echo/<path:rest>", methods=ALL_METHODS)
@endpoint("echo")
def echo(rest: str) -> Response:
    """The built-in echo target: what a PSP would have received, as JSON."""
    body = request.get_data(cache=True)
    path = (
        "/" + rest + (f"?{request.query_string.decode('latin-1')}" if request.query_string else "")
    )
    skip_journal_body()  # the answer repeats the request, which the journal already holds
    return jsonify(
        {
            "method": request.method,
            "path": path,
            "headers": proxying.combine_headers(request.headers.items()),
            "body": body.decode("utf-8", "replace"),
        }
    )


# -- the proxy front door ---------------------------------------------------------------------
def _context() -> ProxyContext:
    context = request.environ.get("mockbank.proxy")
    if not isinstance(context, ProxyContext):
        # Only the proxy listener sets this; a direct call to /forter/proxy is not a route.
        raise RouteNotFound(
            f"No endpoint at {request.method} {request.path}: send requests through the "
            "proxy port (mockbank serve --proxy-port), not to the main port."
        )
    return context


def _hide_ixopay_secret() -> None:
    # The header carries Ixopay's shared secret under a name the journal's masking does not
    # know; the journal reads request headers from the environ, so star it there.
    if "HTTP_FORTER_IXOPAY_SIGNATURE" in request.environ:
        request.environ["HTTP_FORTER_IXOPAY_SIGNATURE"] = "***"


@bp.route("/proxy/connect", methods=["CONNECT"])
@endpoint("proxy-connect")
def proxy_connect() -> Response:
    """A CONNECT: check the proxy credentials before the tunnel opens (407 otherwise)."""
    context = _context()
    _hide_ixopay_secret()
    sites = fixtures(current_state()).credentials
    require_proxy_site(context.connect_headers.get("proxy-authorization"), sites)
    journal_note("target", mask_text(context.target))
    return jsonify({"tunnel": context.target})


@bp.route("/proxy", methods=ALL_METHODS)
@endpoint("proxy")
def proxy() -> Response:
    """A request through the proxy: authenticate, detokenize, sign, forward, relay."""
    context = _context()
    _hide_ixopay_secret()
    state = current_state()
    if not context.connect_authenticated:
        sites = fixtures(state).credentials
        require_proxy_site(request.headers.get("Proxy-Authorization"), sites)
    journal_note("target", mask_text(context.target))
    incoming = proxying.ProxyRequest(
        target=context.target,
        method=request.method,
        raw_headers=context.raw_headers,
        connect_headers=context.connect_headers,
        body=request.get_data(cache=True),
        content_type=request.content_type,
        relay_loopback=context.relay_loopback,
    )
    now = state.now()
    forward = proxying.prepare(
        state.store,
        state.outbound,
        incoming,
        now=now,
        hmac_encoding=settings(state).hmac_encoding,
        token_bytes=state.token_bytes,
        note=journal_note,
    )
    # What comes back may repeat the substituted values: the journal gets our masked copy.
    skip_journal_body()
    answer = proxying.send(state.store, state.proxy.pool, forward, now=now, note=journal_note)
    if isinstance(answer, dict):  # the built-in echo target
        return jsonify(answer)
    response = Response(answer.body, status=answer.status)
    response.headers.clear()
    for name, value in answer.headers:
        response.headers.add(name, value)
    return response
