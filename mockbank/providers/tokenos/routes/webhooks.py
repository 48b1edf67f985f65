"""TokenOS ``/webhook/config`` views: set, read and delete where notifications go."""

from __future__ import annotations

from flask import Response, jsonify

from mockbank.providers.tokenos import events
from mockbank.providers.tokenos.routes import bp
from mockbank.providers.tokenos.routes.common import authenticate
from mockbank.providers.tokenos.routes.common import provider_state as _state
from mockbank.providers.tokenos.routes.common import request_body as _body
from mockbank.routing import endpoint


@bp.put("/webhook/config")
@endpoint("set-webhook-config")
def set_webhook_config() -> Response:
    """Replace the caller's webhook URL and event types."""
    state, _ = _state()
    caller = authenticate()
    events.set_config(state.store, caller.id, _body(), now=state.now())
    return jsonify({})


@bp.get("/webhook/config")
@endpoint("get-webhook-config")
def get_webhook_config() -> Response:
    """The caller's webhook configuration (404 when none is set)."""
    state, _ = _state()
    caller = authenticate()
    return jsonify({"config": events.get_config(state.store, caller.id, now=state.now()).to_wire()})


@bp.delete("/webhook/config")
@endpoint("delete-webhook-config")
def delete_webhook_config() -> Response:
    """Stop notifications for the caller."""
    state, _ = _state()
    caller = authenticate()
    events.delete_config(state.store, caller.id)
    return jsonify({})
