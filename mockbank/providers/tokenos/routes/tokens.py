"""Tokens: read, list, cancel."""

from __future__ import annotations

from flask import Response, jsonify, request

from mockbank.providers.tokenos.models import rest_v1, tokens
from mockbank.providers.tokenos.routes import bp
from mockbank.providers.tokenos.routes.common import (
    authenticate,
    lenient_signatures,
    provider_state,
    request_body,
)
from mockbank.routing import endpoint


@bp.get("/tokens/<token_id>")
@endpoint("get-token")
def get_token(token_id: str) -> Response:
    """A token the caller is party to."""
    state, _ = provider_state()
    caller = authenticate()
    record = tokens.visible_token(state.store, caller.id, token_id, now=state.now())
    return jsonify({"token": record.token})


@bp.get("/tokens")
@endpoint("list-tokens")
def list_tokens() -> Response:
    """The caller's tokens (``type``, ``page.*`` or ``offset``/``limit``, ``filter.*``)."""
    state, _ = provider_state()
    caller = authenticate()
    return jsonify(rest_v1.list_tokens(state.store, caller.id, request.args.to_dict()))


@bp.put("/tokens/<token_id>/cancel")
@endpoint("cancel-token")
def cancel_token(token_id: str) -> Response:
    """Cancel a token with a CANCELLED signature."""
    state, _ = provider_state()
    caller = authenticate()
    result = tokens.cancel_token(
        state.store,
        caller.id,
        token_id,
        request_body(),
        caller.member,
        now=state.now(),
        lenient=lenient_signatures(state),
    )
    return jsonify({"result": result})
