"""What the views of Token.io's current API share: the caller's context after a sweep, where
the gateway is mounted, the request-timeout header, and the status changes they publish.

Authentication is the gateway's (``routes.common.authenticate``: API key, Ed25519 signatures,
and whatever else that layer accepts). Failures answer in the v2 envelope (``errors_v2``).
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from flask import Response, jsonify, request

from mockbank.hosts import external_base_url
from mockbank.providers.tokenos import events
from mockbank.providers.tokenos.errors_v2 import FieldInvalidFormat
from mockbank.providers.tokenos.models import lifecycle, refunds, v2_operations, vrp, vrp_payments
from mockbank.providers.tokenos.models import payments_v2 as payments
from mockbank.providers.tokenos.models.fixtures import Fixtures
from mockbank.providers.tokenos.models.lifecycle import StatusChange
from mockbank.providers.tokenos.records.payments_v2 import Payment
from mockbank.providers.tokenos.records.steps import Tracked
from mockbank.providers.tokenos.routes import common
from mockbank.providers.tokenos.settings import settings
from mockbank.routing import journal_note
from mockbank.state import State, current_state

TIMEOUT_MAX_S = 3600


def _payload(state: State, change: StatusChange) -> dict[str, Any]:
    """The notification's object, as the matching GET endpoint shows it."""
    fixtures, resource = state.fixtures["tokenos"], change.resource
    if change.kind == "payment":
        return {"payment": payments.payment_view(resource, base_url(), fixtures, state.now())}
    if change.kind == "vrp":
        return {"vrp": vrp_payments.vrp_view(resource)}
    if change.kind == "vrp-consent":
        return {"vrpConsent": vrp.consent_view(resource, base_url())}
    return {"refund": refunds.refund_view(resource, fixtures, None)}


def publish(state: State, changes: list[StatusChange]) -> None:
    """Every status change of a payment, VRP, VRP consent or refund passes through here."""
    notes = events.publish_changes(
        state, changes, lambda change: _payload(state, change), now=state.now()
    )
    if notes:
        journal_note("statusChanges", notes)


def notify(state: State, resource: Tracked, changes: list[StatusChange]) -> None:
    """Publish `changes` and the resource's firm steps ahead (each delivered when due)."""
    publish(state, [*changes, *lifecycle.upcoming(resource)])


def sweep(state: State) -> None:
    """Apply every due timed step (bank answers, settlement...) and publish the changes."""
    publish(state, v2_operations.sweep(state.store, now=state.now()))


def context() -> tuple[State, Fixtures, str, datetime]:
    """(state, fixtures, caller member id, now) after authentication and a sweep."""
    state = current_state()
    caller = common.authenticate()
    sweep(state)
    return state, state.fixtures["tokenos"], caller.id, state.now()


def base_url() -> str:
    """Where this gateway is mounted, for the redirect URLs it hands out."""
    return external_base_url() + request.script_root + common.PREFIX


def payment_settings(state: State) -> payments.Settings:
    return settings(state).payments


def request_timeout() -> int | None:
    raw = request.headers.get("request-timeout")
    if raw is None:
        return None
    if not re.fullmatch(r"[0-9]{1,6}", raw.strip()) or not 0 < int(raw) <= TIMEOUT_MAX_S:
        raise FieldInvalidFormat(
            f"request-timeout must be a number of seconds from 1 to {TIMEOUT_MAX_S}",
            paths=["request-timeout"],
        )
    return int(raw)


def query_args() -> dict[str, list[str]]:
    return request.args.to_dict(flat=False)


def payment_json(payment: Payment, fixtures: Fixtures, now: datetime) -> dict[str, Any]:
    return payments.payment_view(payment, base_url(), fixtures, now)


def reply(
    state: State,
    resource: Tracked,
    changes: list[StatusChange],
    body: dict[str, Any],
    note: tuple[str, str] | None = None,
) -> Response:
    """Publish what a call changed (and the steps now ahead), note it, answer `body`."""
    notify(state, resource, changes)
    if note is not None:
        journal_note(*note)
    return jsonify(body)


def partial(views: list[dict[str, Any]], wanted: bool) -> list[dict[str, Any]]:
    """``partial=true`` lists: only each item's id and status."""
    return [{"id": v["id"], "status": v["status"]} for v in views] if wanted else views
