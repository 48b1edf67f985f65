"""Token.io's current REST API: payments v2, VRP consents and VRPs, refunds. Thin views.

Authentication is the gateway's (``routes.authenticate``: API key, Ed25519 signatures, and
whatever else that layer accepts). Failures answer in the v2 envelope (``errors_v2``).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from flask import Response, jsonify, request

from mockbank.hosts import external_base_url
from mockbank.providers.tokenos import events, routes
from mockbank.providers.tokenos.errors_v2 import (
    ConsentNotAuthorized,
    FieldInvalidFormat,
    ResourceNotFound,
)
from mockbank.providers.tokenos.models import (
    Fixtures,
    account_balance,
    refunds,
    v2_common,
    vrp,
    vrp_payments,
)
from mockbank.providers.tokenos.models import payment_initiation as initiation
from mockbank.providers.tokenos.models import payments_query as query
from mockbank.providers.tokenos.models import payments_v2 as payments
from mockbank.providers.tokenos.models.v2_common import Scheduled, StatusChange, upcoming
from mockbank.providers.tokenos.routes import common
from mockbank.routing import endpoint, journal_note
from mockbank.state import State, current_state

bp = routes.bp
TIMEOUT_MAX_S = 3600


EVENT_TYPES = {
    "payment": "PAYMENT_STATUS_CHANGED",
    "vrp": "VRP_STATUS_CHANGED",
    "vrp-consent": "VRP_CONSENT_STATUS_CHANGED",
    "refund": "REFUND_STATUS_CHANGED",
}


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
    """Every status change of a payment, VRP, VRP consent or refund passes through here.

    Each becomes one signed webhook (once per resource and status, however often it is seen),
    queued for the moment it happens on the app clock.
    """
    now = state.now()
    for change in changes:
        at = datetime.fromtimestamp(change.at, tz=UTC)
        events.publish_event(
            state,
            change.member_id,
            EVENT_TYPES[change.kind],
            _payload(state, change),
            now=now,
            at=at if at > now else None,
            dedupe_key=f"{change.kind}:{change.id}:{change.status}",
            label=f"{change.kind} {change.id} {change.status}",
        )
    if changes:
        journal_note("statusChanges", [f"{c.kind} {c.id} {c.status}" for c in changes])


def notify(state: State, resource: Scheduled, changes: list[StatusChange]) -> None:
    """Publish `changes` and the resource's firm steps ahead (each delivered when due)."""
    publish(state, [*changes, *upcoming(resource)])


def sweep(state: State) -> None:
    """Apply every due timed step (bank answers, settlement...) and publish the changes."""
    store, now = state.store, state.now()
    publish(
        state,
        payments.sweep(store, now=now) + vrp.sweep(store, now=now) + refunds.sweep(store, now=now),
    )


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
    from mockbank.providers.tokenos.settings import settings

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


def _payment_json(payment: payments.Payment, fixtures: Fixtures, now: datetime) -> dict[str, Any]:
    return payments.payment_view(payment, base_url(), fixtures, now)


# -- payments --------------------------------------------------------------------------------
@bp.post("/v2/payments")
@endpoint("v2-initiate-payment")
def initiate_payment() -> Response:
    """Initiate a payment (single immediate, or a VRP under ``initiation.vrpConsentId``)."""
    state, fixtures, member_id, now = _context()
    timeout = _request_timeout()
    body = common.request_body()
    init = body.get("initiation") if isinstance(body, dict) else None
    if isinstance(init, dict) and init.get("vrpConsentId") not in (None, ""):
        payment, changes = vrp_payments.create_vrp(
            state.store, member_id, body, now=now, rng=state.token_bytes
        )
    else:
        parsed = initiation.parse_initiation(body, fixtures)
        payment, changes = payments.create_payment(
            state.store,
            member_id,
            parsed,
            now=now,
            rng=state.token_bytes,
            settings=_settings(state),
            timeout=timeout,
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
    payment, changes = payments.owned(state.store, member_id, payment_id, now=now)
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
    consent, changes = vrp.owned(state.store, member_id, consent_id, now=now)
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
    vrp.owned(state.store, member_id, consent_id, now=now)
    limit_args = _args()
    limit = v2_common.limit_arg(limit_args)
    found = vrp_payments.consent_payments(
        query.member_payments(state.store, member_id, now=now), consent_id
    )
    chunk, info = v2_common.page(found, (limit_args.get("offset") or [""])[0], limit)
    return jsonify({"vrps": [vrp_payments.vrp_view(p) for p in chunk], "pageInfo": info})


@bp.get("/vrps/<consent_id>/confirm-funds")
@endpoint("vrp-confirm-funds")
def confirm_funds(consent_id: str) -> Response:
    """Whether the payer's account under an authorised consent holds `amount`."""
    state, fixtures, member_id, now = _context()
    try:
        consent, _ = vrp.owned(state.store, member_id, consent_id, now=now)
    except ResourceNotFound:
        raise ResourceNotFound("VRP", "vrpId", consent_id) from None
    amount = vrp_payments.check_amount_arg(request.args.get("amount", ""))
    if consent.status != vrp.AUTHORIZED or consent.payer_account is None:
        raise ConsentNotAuthorized(
            f"VRP consent {consent_id} is {consent.status}", extra={"vrpConsentId": consent_id}
        )
    balance = account_balance(state.store, fixtures, consent.payer_account, now=now)
    return jsonify({"fundsAvailable": balance >= amount})


# -- refunds ---------------------------------------------------------------------------------
def _refund_json(
    state: State, fixtures: Fixtures, refund: refunds.Refund, now: datetime
) -> dict[str, Any]:
    original = str(refund.initiation.get("originalPaymentId"))
    try:
        payment: payments.Payment | None = payments.load(state.store, original, now=now)[0]
    except ResourceNotFound:  # pragma: no cover - refunds are only made of stored payments
        payment = None
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
    refund, changes = refunds.owned(state.store, member_id, refund_id, now=now)
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
    payments.owned(state.store, member_id, payment_id, now=now)
    chunk, paging = refunds.list_refunds(
        state.store, member_id, _args(), now=now, original=payment_id
    )
    return jsonify(
        {"refunds": [_refund_json(state, fixtures, r, now) for r in chunk], "paging": paging}
    )
