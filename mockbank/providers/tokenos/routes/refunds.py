"""Refund views: refund (part of) a completed payment, read one, list them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import Response, jsonify, request

from mockbank.providers.tokenos.models import lifecycle, refunds, v2_operations
from mockbank.providers.tokenos.models.fixtures import Fixtures
from mockbank.providers.tokenos.records.refunds import Refund
from mockbank.providers.tokenos.routes import bp, common
from mockbank.providers.tokenos.routes.v2_common import context, partial, query_args, reply
from mockbank.routing import endpoint
from mockbank.state import State


def _refund_json(state: State, fixtures: Fixtures, refund: Refund, now: datetime) -> dict[str, Any]:
    payment = v2_operations.refund_payment(state.store, refund, now=now)
    return refunds.refund_view(refund, fixtures, payment)


@bp.post("/refunds")
@endpoint("refund-create")
def create_refund() -> Response:
    """Refund (part of) a completed payment."""
    state, fixtures, member_id, now = context()
    refund, changes = refunds.create_refund(
        state.store, member_id, common.request_body(), now=now, rng=state.token_bytes
    )
    body = {"refund": _refund_json(state, fixtures, refund, now)}
    return reply(state, refund, changes, body, ("refund", refund.id))


@bp.get("/refunds/<refund_id>")
@endpoint("refund")
def get_refund(refund_id: str) -> Response:
    """One refund."""
    state, fixtures, member_id, now = context()
    refund, changes = lifecycle.owned(state.store, refunds.REFUNDS, member_id, refund_id, now=now)
    return reply(state, refund, changes, {"refund": _refund_json(state, fixtures, refund, now)})


@bp.get("/refunds")
@endpoint("refunds")
def list_refunds() -> Response:
    """The caller's refunds with filters and paging."""
    state, fixtures, member_id, now = context()
    chunk, paging = refunds.list_refunds(state.store, member_id, query_args(), now=now)
    only = request.args.get("partial", "").lower() == "true"
    views = partial([_refund_json(state, fixtures, r, now) for r in chunk], only)
    return jsonify({"refunds": views, "paging": paging})


@bp.get("/transfers/<payment_id>/refunds")
@endpoint("transfer-refunds")
def transfer_refunds(payment_id: str) -> Response:
    """The refunds of one payment."""
    state, fixtures, member_id, now = context()
    chunk, paging = v2_operations.payment_refunds(
        state.store, member_id, payment_id, query_args(), now=now
    )
    return jsonify(
        {"refunds": [_refund_json(state, fixtures, r, now) for r in chunk], "paging": paging}
    )
