"""Forter's views: the tokenization API, the echo target, and the proxy front door's view."""

from __future__ import annotations

import base64
import http.client
import json
from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, Response, jsonify, request

from mockbank.errors import PayloadTooLarge
from mockbank.masking import mask_body, mask_headers, mask_text
from mockbank.outbound import OutboundRefused
from mockbank.providers.forter import models
from mockbank.providers.forter.auth import verify_site
from mockbank.providers.forter.errors import (
    ProxyAuthenticationRequired,
    TargetUnreachable,
    Unauthorized,
    ValidationFailed,
    is_proxy_request,
)
from mockbank.providers.forter.settings import settings
from mockbank.proxy.server import MAX_BODY_BYTES, ProxyContext
from mockbank.proxy.upstream import HOP_BY_HOP, Unreachable
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


def _sites() -> list[tuple[str, str]]:
    sites: list[tuple[str, str]] = current_state().fixtures["forter"]["sites"]
    return sites


def _require_site() -> str:
    site = verify_site(request.headers.get("Authorization"), _sites())
    if site is None:
        raise Unauthorized()
    return site


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


def _tokenize(kind: models.TokenType) -> Response:
    _require_site()
    state = current_state()
    now = state.now()
    card = models.parse_card_input(
        _json_body(), single_use=kind is models.TokenType.SINGLE_USE, now=now
    )
    ttl = settings(state).single_use_ttl_s
    token, record = models.tokenize(
        state.store, card, kind=kind, token_hex=state.token_hex, now=now, ttl_s=ttl
    )
    stored = state.store.record(models.TOKENS, token)
    return jsonify(models.describe(token, record, expires_at=stored.expires_at if stored else None))


@bp.post("/v1/tokenization/tokenize")
@endpoint("tokenize")
def tokenize() -> Response:
    """Create a multi-use token (no CVC)."""
    return _tokenize(models.TokenType.MULTI_USE)


@bp.post("/v1/tokenization/tokenize-single-use")
@endpoint("tokenize-single-use")
def tokenize_single_use() -> Response:
    """Create a single-use token (may hold a CVC; gone after 24 hours), or a CVC-only token."""
    return _tokenize(models.TokenType.SINGLE_USE)


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
    token, record = models.upgrade(
        state.store, data["token"].strip(), token_hex=state.token_hex, now=state.now()
    )
    return jsonify(models.describe(token, record, expires_at=None))


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
            "headers": models.combine_headers(request.headers.items()),
            "body": body.decode("utf-8", "replace"),
        }
    )


# -- the proxy front door ---------------------------------------------------------------------
def _context() -> ProxyContext:
    context = request.environ.get("mockbank.proxy")
    if not isinstance(context, ProxyContext):
        # Only the proxy listener sets this; a direct call to /forter/proxy is not a route.
        from mockbank.errors import RouteNotFound

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


def _require_proxy_auth(header: str | None) -> str:
    site = verify_site(header, _sites())
    if site is None:
        raise ProxyAuthenticationRequired(
            "Proxy authentication failed: send 'Proxy-Authorization: Basic "
            "base64(site_id:site_secret)' (on the CONNECT for https targets)."
        )
    return site


@bp.route("/proxy/connect", methods=["CONNECT"])
@endpoint("proxy-connect")
def proxy_connect() -> Response:
    """A CONNECT: check the proxy credentials before the tunnel opens (407 otherwise)."""
    context = _context()
    _hide_ixopay_secret()
    _require_proxy_auth(context.connect_headers.get("proxy-authorization"))
    journal_note("target", mask_text(context.target))
    return jsonify({"tunnel": context.target})


def _uri(url: str) -> str:
    parts = urlsplit(url)
    return (parts.path or "/") + (f"?{parts.query}" if parts.query else "")


@bp.route("/proxy", methods=ALL_METHODS)
@endpoint("proxy")
def proxy() -> Response:
    """A request through the proxy: authenticate, detokenize, sign, forward, relay."""
    context = _context()
    _hide_ixopay_secret()
    state = current_state()
    if not context.connect_authenticated:
        _require_proxy_auth(request.headers.get("Proxy-Authorization"))
    journal_note("target", mask_text(context.target))
    inner = {name.lower(): value for name, value in context.raw_headers}
    choice = models.choose_tokens(inner, context.connect_headers)
    now = state.now()
    resolved = models.resolve_tokens(state.store, choice, now=now)
    journal_note("token", resolved.token)
    journal_note("tokenSource", choice.source)
    try:
        target = state.outbound.resolve(context.target, loopback=context.relay_loopback)
    except OutboundRefused as error:
        raise TargetUnreachable(str(error)) from None
    body = request.get_data(cache=True)
    substitution = models.substitute(
        body,
        lambda name: models.placeholder_value(
            name,
            resolved,
            cryptogram=lambda: base64.b64encode(state.token_bytes(20)).decode("ascii"),
        ),
        json_body=models.looks_like_json(body, request.content_type),
    )
    request_uri = _uri(context.target)
    headers = models.forward_headers(context.raw_headers, len(substitution.body), request.method)
    headers, signing = models.sign_request(
        headers,
        inner,
        method=request.method,
        request_uri=request_uri,
        body=substitution.body,
        now=now,
        hmac_encoding=settings(state).hmac_encoding,
    )
    for key, value in signing.items():
        journal_note(key, value)
    secrets = substitution.secrets
    journal_note("placeholders", substitution.names)
    journal_note("forwardedHeaders", mask_headers(headers))
    content_type = next((v for k, v in headers if k.lower() == "content-type"), None)
    journal_note(
        "forwardedBody",
        mask_body(
            models.mask_secrets(substitution.body.decode("utf-8", "replace"), secrets), content_type
        ),
    )
    # What comes back may repeat the substituted values: the journal gets our masked copy.
    skip_journal_body()
    if target.echo:
        models.consume_single_use(state.store, resolved, now=now)
        journal_note("upstream", "echo")
        answer = {
            "method": request.method,
            "path": request_uri,
            "headers": models.combine_headers(headers),
            "body": substitution.body.decode("utf-8", "replace"),
        }
        # The echo repeats forwardedHeaders and forwardedBody, already noted (masked) above.
        journal_note("responseBody", "<echo of the forwarded request>")
        return jsonify(answer)
    journal_note("upstream", mask_text(target.url))
    return _relay(target.url, headers, substitution.body, resolved, secrets)


def _relay(
    url: str,
    headers: list[tuple[str, str]],
    body: bytes,
    resolved: models.Resolved,
    secrets: list[str],
) -> Response:
    state = current_state()
    try:
        lease = state.proxy.pool().lease(url)  # connect first: an unreachable target burns no token
    except Unreachable as error:
        raise TargetUnreachable(f"The target could not be reached: {error}.") from None
    try:
        models.consume_single_use(state.store, resolved, now=state.now())
    except Exception:
        lease.discard()
        raise
    try:
        answer = lease.send(request.method, _uri(url), headers, body)
    except (OSError, http.client.HTTPException) as error:
        lease.discard()
        raise TargetUnreachable(f"The target failed mid-request: {error}.") from None
    response = Response(answer.body, status=answer.status)
    response.headers.clear()
    for name, value in answer.headers:
        if name.lower() in HOP_BY_HOP or name.lower() == "content-length":
            continue
        response.headers.add(name, value)
    response.headers["Content-Length"] = str(len(answer.body))
    content_type = response.headers.get("Content-Type")
    if "gzip" in response.headers.get("Content-Encoding", "") or "br" in response.headers.get(
        "Content-Encoding", ""
    ):
        journal_note("responseBody", f"<{len(answer.body)} bytes, compressed>")
    else:
        journal_note(
            "responseBody",
            models.mask_secrets(mask_body(answer.body, content_type), secrets),
        )
    return response
