"""Views for SDK calls beyond the seed's flow: profile pictures, blobs, standing orders."""

from __future__ import annotations

from typing import Any

from flask import Response, jsonify, request

from mockbank.providers.tokenos import events
from mockbank.providers.tokenos.models import blobs, standing_orders
from mockbank.providers.tokenos.routes import _body, _state, authenticate, bp
from mockbank.routing import endpoint, journal_note, skip_journal_body
from mockbank.state import State


@bp.put("/profilepicture")
@endpoint("set-profile-picture")
def set_profile_picture() -> Response:
    """Make an uploaded image the caller's public profile picture."""
    state, _ = _state()
    caller = authenticate()
    blob = blobs.set_profile_picture(state.store, caller.id, _body(), now=state.now())
    journal_note("blob", blob["id"])
    return jsonify({})


@bp.get("/members/<member_id>/profilepicture/<size>")
@endpoint("get-profile-picture")
def get_profile_picture(member_id: str, size: str) -> Response:
    """A member's picture at SMALL, MEDIUM, LARGE or ORIGINAL size."""
    state, _ = _state()
    authenticate()
    skip_journal_body()
    return jsonify(
        {"blob": blobs.get_profile_picture(state.store, member_id, size, now=state.now())}
    )


@bp.get("/blobs/<blob_id>")
@endpoint("get-blob")
def get_blob(blob_id: str) -> Response:
    """A blob: public ones for any caller, others for their owner."""
    state, _ = _state()
    caller = authenticate()
    skip_journal_body()
    return jsonify({"blob": blobs.get_blob(state.store, caller.id, blob_id, now=state.now())})


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
    state, _ = _state()
    caller = authenticate()
    submission, new = standing_orders.redeem_standing_order(
        state.store, caller.id, _body(), now=state.now()
    )
    journal_note("submission", submission["id"])
    if new:
        _notify(state, submission, caller.id)
    return jsonify({"submission": submission})


@bp.get("/standing-order-submissions/<submission_id>")
@endpoint("get-standing-order-submission")
def get_standing_order_submission(submission_id: str) -> Response:
    """One submission, its status read from the clock."""
    state, _ = _state()
    caller = authenticate()
    found = standing_orders.get_submission(state.store, caller.id, submission_id, now=state.now())
    return jsonify({"submission": found})


def _list_submissions(offset: str, limit: str) -> Response:
    state, _ = _state()
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
