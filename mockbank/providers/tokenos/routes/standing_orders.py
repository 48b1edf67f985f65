"""Standing order submissions: redeem a standing order token, read and list submissions."""

from __future__ import annotations

from typing import Any

from flask import Response, jsonify, request

from mockbank.providers.tokenos import events
from mockbank.providers.tokenos.models import standing_orders
from mockbank.providers.tokenos.routes import bp
from mockbank.providers.tokenos.routes.common import authenticate, provider_state, request_body
from mockbank.routing import endpoint, journal_note
from mockbank.state import State


def _notify(state: State, submission: dict[str, Any], member_id: str) -> None:
    """STANDING_ORDER_STATUS_CHANGED: PROCESSING now, SUCCESS when the clock settles it."""
    for status, at in (
        ("PROCESSING", None),
        ("SUCCESS", standing_orders.settles_at(submission)),
    ):
        events.publish_event(
            state,
            member_id,
            "STANDING_ORDER_STATUS_CHANGED",
            {"submission": {**submission, "status": status}},
            now=state.now(),
            at=at,
            dedupe_key=f"standing-order:{submission['id']}:{status}",
            label=f"standing order submission {submission['id']} {status}",
        )


@bp.post("/standing-order-submissions")
@endpoint("redeem-standing-order")
def redeem_standing_order() -> Response:
    """Redeem a standing order token: one submission per token."""
    state, _ = provider_state()
    caller = authenticate()
    submission, new = standing_orders.redeem_standing_order(
        state.store, caller.id, request_body(), now=state.now()
    )
    journal_note("submission", submission["id"])
    if new:
        _notify(state, submission, caller.id)
    return jsonify({"submission": submission})


@bp.get("/standing-order-submissions/<submission_id>")
@endpoint("get-standing-order-submission")
def get_standing_order_submission(submission_id: str) -> Response:
    """One submission, its status read from the clock."""
    state, _ = provider_state()
    caller = authenticate()
    found = standing_orders.get_submission(state.store, caller.id, submission_id, now=state.now())
    return jsonify({"submission": found})


def _list_submissions(offset: str, limit: str) -> Response:
    state, _ = provider_state()
    caller = authenticate()
    return jsonify(
        standing_orders.list_submissions(state.store, caller.id, offset, limit, now=state.now())
    )


@bp.get("/standing-order-submissions")
@endpoint("list-standing-order-submissions")
def list_standing_order_submissions() -> Response:
    """The caller's submissions (``page.offset``/``page.limit`` or ``offset``/``limit``)."""
    args = request.args
    return _list_submissions(
        args.get("page.offset") or args.get("offset", ""),
        args.get("page.limit") or args.get("limit", ""),
    )


@bp.get("/standing-order-submissions&<path:query>")
@endpoint("list-standing-order-submissions")
def list_standing_order_submissions_sdk(query: str) -> Response:
    """SDK 1.0.57 builds ``/standing-order-submissions&offset=…&limit=…`` (``&`` for ``?``)."""
    fields = dict(part.partition("=")[::2] for part in query.split("&"))
    return _list_submissions(fields.get("offset", ""), fields.get("limit", ""))
