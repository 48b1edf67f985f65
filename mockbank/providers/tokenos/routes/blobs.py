"""Blobs and profile pictures: upload a picture, read it at a size, read a blob."""

from __future__ import annotations

from flask import Response, jsonify

from mockbank.providers.tokenos.models import blobs
from mockbank.providers.tokenos.routes import bp
from mockbank.providers.tokenos.routes.common import authenticate, provider_state, request_body
from mockbank.routing import endpoint, journal_note, skip_journal_body


@bp.put("/profilepicture")
@endpoint("set-profile-picture")
def set_profile_picture() -> Response:
    """Make an uploaded image the caller's public profile picture."""
    state, _ = provider_state()
    caller = authenticate()
    blob = blobs.set_profile_picture(state.store, caller.id, request_body(), now=state.now())
    journal_note("blob", blob["id"])
    return jsonify({})


@bp.get("/members/<member_id>/profilepicture/<size>")
@endpoint("get-profile-picture")
def get_profile_picture(member_id: str, size: str) -> Response:
    """A member's picture at SMALL, MEDIUM, LARGE or ORIGINAL size."""
    state, _ = provider_state()
    authenticate()
    skip_journal_body()
    return jsonify(
        {"blob": blobs.get_profile_picture(state.store, member_id, size, now=state.now())}
    )


@bp.get("/blobs/<blob_id>")
@endpoint("get-blob")
def get_blob(blob_id: str) -> Response:
    """A blob: public ones for any caller, others for their owner."""
    state, _ = provider_state()
    caller = authenticate()
    skip_journal_body()
    return jsonify({"blob": blobs.get_blob(state.store, caller.id, blob_id, now=state.now())})
