"""Token requests: store one for the consent flow, read it, read its result."""

from __future__ import annotations

from flask import Response, jsonify

from mockbank.providers.tokenos.models import rest_v1, token_requests
from mockbank.providers.tokenos.routes import bp
from mockbank.providers.tokenos.routes.common import authenticate, provider_state, request_body
from mockbank.providers.tokenos.settings import settings
from mockbank.routing import endpoint


@bp.post("/token-requests")
@endpoint("store-token-request")
def store_token_request() -> Response:
    """Keep a transfer or access token request for the consent flow."""
    state, fixtures = provider_state()
    caller = authenticate()
    ttl = settings(state).token_request_ttl_s
    stored = token_requests.store_token_request(
        state.store,
        caller.id,
        request_body(),
        fixtures,
        now=state.now(),
        rng=state.token_bytes,
        ttl_s=ttl,
    )
    return jsonify({"tokenRequest": stored})


@bp.get("/token-requests/<request_id>")
@endpoint("get-token-request")
def get_token_request(request_id: str) -> Response:
    """A stored token request."""
    state, _ = provider_state()
    record = token_requests.request_record(state.store, request_id, now=state.now())
    return jsonify({"tokenRequest": token_requests.token_request_proto(record)})


@bp.get("/token-requests/<request_id>/token_request_result")
@endpoint("token-request-result")
def token_request_result(request_id: str) -> Response:
    """The token id and Token's signature once the user approved."""
    state, _ = provider_state()
    return jsonify(token_requests.request_result(state.store, request_id, now=state.now()))


@bp.get("/token-requests/<request_id>/result")
@endpoint("token-request-result-status")
def token_request_result_v1(request_id: str) -> Response:
    """PENDING, PROCESSED (with the token id and Token's signature), REJECTED or EXPIRED."""
    state, _ = provider_state()
    caller = authenticate()
    return jsonify(
        rest_v1.request_result_with_status(state.store, caller.id, request_id, now=state.now())
    )
