"""Token.io's current REST API: payments v2, VRP consents and VRPs, refunds. Thin views.

Authentication is the gateway's (``routes.authenticate``: API key, Ed25519 signatures, and
whatever else that layer accepts). Failures answer in the v2 envelope (``errors_v2``).
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from flask import Response, jsonify, request

from mockbank.hosts import external_base_url
from mockbank.providers.tokenos import events, routes
from mockbank.providers.tokenos.errors_v2 import FieldInvalidFormat
from mockbank.providers.tokenos.models import (
    Fixtures,
    lifecycle,
    refunds,
    v2_operations,
    vrp,
    vrp_payments,
)
from mockbank.providers.tokenos.models import payments_query as query
from mockbank.providers.tokenos.models import payments_v2 as payments
from mockbank.providers.tokenos.models.lifecycle import StatusChange
from mockbank.providers.tokenos.records.payments_v2 import Payment
from mockbank.providers.tokenos.records.refunds import Refund
from mockbank.providers.tokenos.records.steps import Tracked
from mockbank.providers.tokenos.routes import common
from mockbank.providers.tokenos.settings import settings
from mockbank.routing import endpoint, journal_note
from mockbank.state import State, current_state

bp = routes.bp
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


def _context() -> tuple[State, Fixtures, str, datetime]:
    """(state, fixtures, caller member id, now) after authentication and a sweep."""
    state = current_state()
    caller = common.authenticate()
    sweep(state)
    return state, state.fixtures["tokenos"], caller.id, state.now()


def base_url() -> str:
    """Where this gateway is mounted, for the redirect URLs it hands out."""
    return external_base_url() + request.script_root + common.PREFIX


def _settings(state: State) -> payments.Settings:
    return settings(state).payments


def _request_timeout() -> int | None:
    raw = request.headers.get("request-timeout")
    if raw is None:
        return None
    if not re.fullmatch(r"[0-9]{1,6}", raw.strip()) or not 0 < int(raw) <= TIMEOUT_MAX_S:
        raise FieldInvalidFormat(
            f"request-timeout must be a number of seconds from 1 to {TIMEOUT_MAX_S}",
            paths=["request-timeout"],
        )
    return int(raw)


def _args() -> dict[str, list[str]]:
    return request.args.to_dict(flat=False)


def _payment_json(payment: Payment, fixtures: Fixtures, now: datetime) -> dict[str, Any]:
    return payments.payment_view(payment, base_url(), fixtures, now)


# -- payments --------------------------------------------------------------------------------
@bp.post("/v2/payments")
@endpoint("v2-initiate-payment")
def initiate_payment() -> Response:
    """Initiate a payment (single immediate, or a VRP under ``initiation.vrpConsentId``)."""
    state, fixtures, member_id, now = _context()
    timeout = _request_timeout()
    payment, changes = v2_operations.initiate_payment(
        state.store,
        member_id,
        common.request_body(),
        fixtures,
        _settings(state),
        timeout=timeout,
        now=now,
        rng=state.token_bytes,
    )
    notify(state, payment, changes)
    journal_note("payment", payment.id)
    return jsonify({"payment": _payment_json(payment, fixtures, now)})


@bp.get("/v2/payments/<payment_id>")
@endpoint("v2-get-payment")
def get_payment(payment_id: str) -> Response:
    """A payment and its current status."""
    state, fixtures, member_id, now = _context()
    _request_timeout()
    payment, changes = lifecycle.owned(
        state.store, payments.PAYMENTS, member_id, payment_id, now=now
    )
    notify(state, payment, changes)
    return jsonify({"payment": _payment_json(payment, fixtures, now)})


@bp.get("/v2/payments")
@endpoint("v2-list-payments")
def list_payments() -> Response:
    """The caller's payments with the OpenAPI's filters and paging."""
    state, fixtures, member_id, now = _context()
    chunk, info, partial = query.list_payments(state.store, member_id, _args(), now=now)
    views = [_payment_json(p, fixtures, now) for p in chunk]
    if partial:
        views = [{"id": v["id"], "status": v["status"]} for v in views]
    return jsonify({"payments": views, "pageInfo": info})


@bp.post("/v2/payments/<payment_id>/embedded-auth")
@endpoint("v2-embedded-auth")
def embedded_auth(payment_id: str) -> Response:
    """Submit the fields an embedded-auth payment asks for."""
    state, fixtures, member_id, now = _context()
    _request_timeout()
    payment, changes = payments.submit_embedded(
        state.store, member_id, payment_id, common.request_body(), _settings(state), now=now
    )
    notify(state, payment, changes)
    return jsonify({"payment": _payment_json(payment, fixtures, now)})


# -- VRP -------------------------------------------------------------------------------------
@bp.post("/vrp-consents")
@endpoint("vrp-consent-create")
def create_vrp_consent() -> Response:
    """Create a VRP consent; the payer authorises it at the bank."""
    state, fixtures, member_id, now = _context()
    consent, changes = vrp.create_consent(
        state.store, member_id, common.request_body(), fixtures, now=now, rng=state.token_bytes
    )
    notify(state, consent, changes)
    journal_note("vrpConsent", consent.id)
    return jsonify({"vrpConsent": vrp.consent_view(consent, base_url())})


@bp.get("/vrp-consents")
@endpoint("vrp-consents")
def list_vrp_consents() -> Response:
    """The caller's VRP consents."""
    state, _, member_id, now = _context()
    chunk, info = vrp.list_consents(state.store, member_id, _args(), now=now)
    return jsonify(
        {"vrpConsents": [vrp.consent_view(c, base_url()) for c in chunk], "pageInfo": info}
    )


@bp.get("/vrp-consents/<consent_id>")
@endpoint("vrp-consent")
def get_vrp_consent(consent_id: str) -> Response:
    """One VRP consent."""
    state, _, member_id, now = _context()
    consent, changes = lifecycle.owned(state.store, vrp.CONSENTS, member_id, consent_id, now=now)
    notify(state, consent, changes)
    return jsonify({"vrpConsent": vrp.consent_view(consent, base_url())})


@bp.delete("/vrp-consents/<consent_id>")
@endpoint("vrp-consent-revoke")
def revoke_vrp_consent(consent_id: str) -> Response:
    """Revoke a VRP consent: later VRPs under it are refused."""
    state, _, member_id, now = _context()
    consent, changes = vrp.revoke(state.store, member_id, consent_id, now=now)
    notify(state, consent, changes)
    return jsonify({"vrpConsent": vrp.consent_view(consent, base_url())})


@bp.get("/vrp-consents/<consent_id>/payments")
@endpoint("vrp-consent-payments")
def vrp_consent_payments(consent_id: str) -> Response:
    """The VRPs made under a consent."""
    state, _, member_id, now = _context()
    chunk, info = v2_operations.consent_vrps(state.store, member_id, consent_id, _args(), now=now)
    return jsonify({"vrps": [vrp_payments.vrp_view(p) for p in chunk], "pageInfo": info})


@bp.get("/vrps/<consent_id>/confirm-funds")
@endpoint("vrp-confirm-funds")
def confirm_funds(consent_id: str) -> Response:
    """Whether the payer's account under an authorised consent holds `amount`."""
    state, fixtures, member_id, now = _context()
    available = v2_operations.confirm_funds(
        state.store, fixtures, member_id, consent_id, request.args.get("amount", ""), now=now
    )
    return jsonify({"fundsAvailable": available})


# -- refunds ---------------------------------------------------------------------------------
def _refund_json(state: State, fixtures: Fixtures, refund: Refund, now: datetime) -> dict[str, Any]:
    payment = v2_operations.refund_payment(state.store, refund, now=now)
    return refunds.refund_view(refund, fixtures, payment)


@bp.post("/refunds")
@endpoint("refund-create")
def create_refund() -> Response:
    """Refund (part of) a completed payment."""
    state, fixtures, member_id, now = _context()
    refund, changes = refunds.create_refund(
        state.store, member_id, common.request_body(), now=now, rng=state.token_bytes
    )
    notify(state, refund, changes)
    journal_note("refund", refund.id)
    return jsonify({"refund": _refund_json(state, fixtures, refund, now)})


@bp.get("/refunds/<refund_id>")
@endpoint("refund")
def get_refund(refund_id: str) -> Response:
    """One refund."""
    state, fixtures, member_id, now = _context()
    refund, changes = lifecycle.owned(state.store, refunds.REFUNDS, member_id, refund_id, now=now)
    notify(state, refund, changes)
    return jsonify({"refund": _refund_json(state, fixtures, refund, now)})


@bp.get("/refunds")
@endpoint("refunds")
def list_refunds() -> Response:
    """The caller's refunds with filters and paging."""
    state, fixtures, member_id, now = _context()
    chunk, paging = refunds.list_refunds(state.store, member_id, _args(), now=now)
    views = [_refund_json(state, fixtures, r, now) for r in chunk]
    if request.args.get("partial", "").lower() == "true":
        views = [{"id": v["id"], "status": v["status"]} for v in views]
    return jsonify({"refunds": views, "paging": paging})


@bp.get("/transfers/<payment_id>/refunds")
@endpoint("transfer-refunds")
def transfer_refunds(payment_id: str) -> Response:
    """The refunds of one payment."""
    state, fixtures, member_id, now = _context()
    lifecycle.owned(state.store, payments.PAYMENTS, member_id, payment_id, now=now)
    chunk, paging = refunds.list_refunds(
        state.store, member_id, _args(), now=now, original=payment_id
    )
    return jsonify(
        {"refunds": [_refund_json(state, fixtures, r, now) for r in chunk], "paging": paging}
    )
