"""Transfers: redeem a transfer token, read and list its transfers."""

from __future__ import annotations

from flask import Response, jsonify

from mockbank.providers.tokenos import events
from mockbank.providers.tokenos.models import tokens
from mockbank.providers.tokenos.models import tokens as token_models
from mockbank.providers.tokenos.records.tokens import NS_TRANSFER, Transfer
from mockbank.providers.tokenos.routes import bp
from mockbank.providers.tokenos.routes.common import (
    Caller,
    arg,
    authenticate,
    lenient_signatures,
    provider_state,
    request_body,
)
from mockbank.routing import endpoint, journal_note


def _redeem(caller: Caller) -> Response:
    state, fixtures = provider_state()
    transfer = tokens.redeem_token(
        state.store,
        caller.id,
        request_body(),
        caller.member,
        now=state.now(),
        rng=state.token_bytes,
        fixtures=fixtures,
        lenient=lenient_signatures(state),
    )
    journal_note("transfer", transfer["id"])
    stored = state.store.get(NS_TRANSFER, transfer["id"], now=state.now())
    if stored is not None:
        entry = Transfer.from_value(stored)
        events.publish_transfer_events(
            state, entry, now=state.now(), settles_at=tokens.settles_at(entry)
        )
    return jsonify({"transfer": transfer})


@bp.post("/transfers")
@endpoint("redeem-token")
def redeem_token() -> Response:
    """Redeem a transfer token: a transfer that starts PROCESSING."""
    return _redeem(authenticate())


@bp.put("/tokens/<token_id>/redeem")
@endpoint("redeem-token")
def redeem_token_by_path(token_id: str) -> Response:
    """The seed's ``PUT /tokens/{tokenId}/redeem``: the ``POST /transfers`` body, same rules."""
    caller = authenticate()
    token_models.check_path_token(request_body(), token_id)
    return _redeem(caller)


@bp.get("/transfers/<transfer_id>")
@endpoint("get-transfer")
def get_transfer(transfer_id: str) -> Response:
    """A transfer, its status read from the clock."""
    state, _ = provider_state()
    caller = authenticate()
    return jsonify(
        {"transfer": tokens.get_transfer(state.store, caller.id, transfer_id, now=state.now())}
    )


@bp.get("/transfers")
@endpoint("list-transfers")
def list_transfers() -> Response:
    """Transfers of a token."""
    state, _ = provider_state()
    caller = authenticate()
    return jsonify(
        tokens.list_transfers(
            state.store, caller.id, arg("tokenId"), arg("offset"), arg("limit"), now=state.now()
        )
    )
