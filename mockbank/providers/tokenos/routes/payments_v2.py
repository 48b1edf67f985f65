"""Payments v2 views: initiate (a single immediate payment or a VRP), read, list, embedded auth."""

from __future__ import annotations

from flask import Response, jsonify

from mockbank.providers.tokenos.models import lifecycle, v2_operations
from mockbank.providers.tokenos.models import payments_query as query
from mockbank.providers.tokenos.models import payments_v2 as payments
from mockbank.providers.tokenos.routes import bp, common
from mockbank.providers.tokenos.routes.v2_common import (
    context,
    partial,
    payment_json,
    payment_settings,
    query_args,
    reply,
    request_timeout,
)
from mockbank.routing import endpoint


@bp.post("/v2/payments")
@endpoint("v2-initiate-payment")
def initiate_payment() -> Response:
    """Initiate a payment (single immediate, or a VRP under ``initiation.vrpConsentId``)."""
    state, fixtures, member_id, now = context()
    timeout = request_timeout()
    payment, changes = v2_operations.initiate_payment(
        state.store,
        member_id,
        common.request_body(),
        fixtures,
        payment_settings(state),
        timeout=timeout,
        now=now,
        rng=state.token_bytes,
    )
    body = {"payment": payment_json(payment, fixtures, now)}
    return reply(state, payment, changes, body, ("payment", payment.id))


@bp.get("/v2/payments/<payment_id>")
@endpoint("v2-get-payment")
def get_payment(payment_id: str) -> Response:
    """A payment and its current status."""
    state, fixtures, member_id, now = context()
    request_timeout()
    payment, changes = lifecycle.owned(
        state.store, payments.PAYMENTS, member_id, payment_id, now=now
    )
    return reply(state, payment, changes, {"payment": payment_json(payment, fixtures, now)})


@bp.get("/v2/payments")
@endpoint("v2-list-payments")
def list_payments() -> Response:
    """The caller's payments with the OpenAPI's filters and paging."""
    state, fixtures, member_id, now = context()
    chunk, info, only = query.list_payments(state.store, member_id, query_args(), now=now)
    views = partial([payment_json(p, fixtures, now) for p in chunk], only)
    return jsonify({"payments": views, "pageInfo": info})


@bp.post("/v2/payments/<payment_id>/embedded-auth")
@endpoint("v2-embedded-auth")
def embedded_auth(payment_id: str) -> Response:
    """Submit the fields an embedded-auth payment asks for."""
    state, fixtures, member_id, now = context()
    request_timeout()
    payment, changes = payments.submit_embedded(
        state.store, member_id, payment_id, common.request_body(), payment_settings(state), now=now
    )
    return reply(state, payment, changes, {"payment": payment_json(payment, fixtures, now)})
