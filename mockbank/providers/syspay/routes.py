"""SysPay's HTTP surface: merchant tokens, partner detokenization, the one-time card views."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, Response, jsonify, render_template, request, url_for

from mockbank.hosts import external_base_url, host_name
from mockbank.providers.syspay import errors, models, validation
from mockbank.providers.syspay.admin import fixtures_of
from mockbank.providers.syspay.auth import Identity, LoginKind
from mockbank.providers.syspay.records import DetokenizeType, Redirect
from mockbank.providers.syspay.settings import settings
from mockbank.routing import endpoint, journal_note, skip_journal_body
from mockbank.state import State, current_state

bp = Blueprint("syspay", __name__, template_folder="templates")
VERSIONS = ("v1", "v2")
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache", "Referrer-Policy": "no-referrer"}


@bp.after_request
def _request_uuid(response: Response) -> Response:
    # SysPay sends X-Syspay-Request-Uuid on every answer (its PHP SDK reads it).
    response.headers.setdefault(errors.UUID_HEADER, errors.request_uuid())
    return response


def _check_version(version: str) -> None:
    if version not in VERSIONS:
        raise errors.UnsupportedVersion(
            f"Unknown API version {version!r}; SysPay serves /api/v1/ and /api/v2/."
        )


def _authenticate(state: State, kind: LoginKind) -> Identity:
    """The verified caller (`models.authenticate`), journaled by login."""
    return models.authenticate(
        state.store,
        fixtures_of(state),
        request.headers.get("X-Wsse"),
        expected=kind,
        now=state.now(),
        window_s=settings(state).created_window_s,
        identified=_note_caller,
    )


def _note_caller(identity: Identity) -> None:
    journal_note("login", identity.login)
    if identity.acting_partner is not None:
        journal_note("acting_partner", identity.acting_partner)


def _json_body() -> Any:
    """The body as JSON, or SysPay's 415/400 for anything else."""
    mimetype = request.mimetype
    if mimetype != "application/json" and not mimetype.endswith("+json"):
        raise errors.UnsupportedMediaType(
            f"Send the body as JSON with Content-Type: application/json "
            f"(got {mimetype or 'no Content-Type'})."
        )
    raw = request.get_data(cache=True)
    try:
        return json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise errors.MalformedJson("Invalid data format (the body is not UTF-8).") from None
    except ValueError as error:
        raise errors.MalformedJson(f"Invalid data format (not JSON: {error}).") from None


@bp.post("/api/<version>/merchant/token")
@endpoint("merchant-token")
def create_token(version: str) -> Response:
    """Tokenize card details as a merchant, naming the partners allowed to detokenize."""
    _check_version(version)
    state = current_state()
    identity = _authenticate(state, LoginKind.MERCHANT)
    card, detokenizers = validation.parse_token_request(
        _json_body(), fixtures_of(state), now=state.now()
    )
    token = models.create_token(state.store, identity, card, detokenizers, now=state.now())
    journal_note("token", token.id)
    response = _success(version, token.public())
    response.status_code = 201
    response.headers["Location"] = url_for(".get_token", version=version, token_id=token.id)
    return response


@bp.get("/api/<version>/merchant/token/<token_id>")
@endpoint("merchant-token-get")
def get_token(version: str, token_id: str) -> Response:
    """One of the merchant's tokens, masked."""
    _check_version(version)
    state = current_state()
    identity = _authenticate(state, LoginKind.MERCHANT)
    token = models.merchant_token(state.store, identity, token_id, now=state.now())
    return _success(version, token.public())


@bp.post("/api/<version>/partner/token/<token_id>/detokenize")
@endpoint("detokenize")
def detokenize(version: str, token_id: str) -> Response:
    """Ask for a one-time, 60-second URL showing the card as TEXT or IMAGE."""
    _check_version(version)
    state = current_state()
    identity = _authenticate(state, LoginKind.PARTNER)
    asked = validation.parse_detokenize_request(_json_body())
    redirect = models.detokenize(
        state.store,
        fixtures_of(state),
        identity,
        token_id,
        asked,
        now=state.now(),
        new_id=state.new_uuid,
        ttl_s=_redirect_ttl(state),
    )
    return _detokenize_response(version, redirect)


@bp.post("/api/<version>/merchant/token/<token_id>/detokenize")
@endpoint("merchant-detokenize")
def merchant_detokenize(version: str, token_id: str) -> Response:
    """The token's own merchant asks for the same one-time URL (company_reference optional)."""
    _check_version(version)
    state = current_state()
    identity = _authenticate(state, LoginKind.MERCHANT)
    asked = validation.parse_detokenize_request(_json_body(), reference_required=False)
    redirect = models.merchant_detokenize(
        state.store,
        identity,
        token_id,
        asked,
        now=state.now(),
        new_id=state.new_uuid,
        ttl_s=_redirect_ttl(state),
    )
    return _detokenize_response(version, redirect)


def _success(version: str, body: dict[str, Any]) -> Response:
    """v2 answers the object itself; v1 wraps it in ``{"data": …}`` as SysPay's v1 SDK reads it."""
    return jsonify({"data": body} if version == "v1" else body)


def _redirect_ttl(state: State) -> float:
    return settings(state).redirect_ttl_s


def _detokenize_response(version: str, redirect: Redirect) -> Response:
    """``{"class": "detokenize", "redirect_url": …}`` as the seed shows it (v1: in ``data``)."""
    journal_note("token", redirect.token_id)
    journal_note("type", str(redirect.type))
    response = _success(
        version, {"class": "detokenize", "redirect_url": _redirect_url(redirect.id)}
    )
    # The URL is a bearer secret for its 60 seconds: keep it out of the journal.
    skip_journal_body()
    return response


def _redirect_url(redirect_id: str) -> str:
    """Absolute, on this server's external base URL; on SysPay's own hosts, SysPay's path."""
    base = external_base_url()
    if host_name(urlsplit(base).netloc) in current_state().provider("syspay").hosts:
        # Like the seed's http://www.syspay.com/redirect/detokenize/<uuid>; the in-process
        # router adds the /syspay prefix back when the URL is followed.
        return f"{base}/redirect/detokenize/{redirect_id}"
    return base + url_for(".open_redirect", redirect_id=redirect_id)


@bp.route("/redirect/detokenize/<redirect_id>", methods=["GET"])
@endpoint("redirect")
def open_redirect(redirect_id: str) -> Response:
    """The one-time card view: an HTML page (TEXT) or a PNG (IMAGE); afterwards 410."""
    state = current_state()
    if request.method == "HEAD":
        # Link checkers and previewers send HEAD: answer without spending the URL.
        return _peek(state, redirect_id)
    redirect, token = models.open_redirect(state.store, redirect_id, now=state.now())
    skip_journal_body()
    journal_note("token", token.id)
    journal_note("viewer", redirect.viewer)
    # Imported here: Pillow is slow to load and most runs never draw a card.
    from mockbank.providers.syspay.card_image import group_digits, render_png

    if redirect.type is DetokenizeType.IMAGE:
        response = Response(render_png(token.card, token_id=token.id), mimetype="image/png")
    else:
        page = render_template(
            "syspay/card.html",
            card=token.card,
            number_groups=group_digits(token.card.number),
            redirect=redirect,
            shown_at=models.readable_time(state.now()),
        )
        response = Response(page, mimetype="text/html")
    response.headers.update(NO_STORE)
    return response


def _peek(state: State, redirect_id: str) -> Response:
    shown = models.peek_redirect(state.store, redirect_id, now=state.now())
    response = Response(b"", mimetype="image/png" if shown is DetokenizeType.IMAGE else "text/html")
    response.headers.update(NO_STORE)
    return response
