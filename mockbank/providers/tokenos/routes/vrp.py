"""VRP views: consents (create, read, list, revoke), their VRPs, and confirm-funds."""

from __future__ import annotations

from flask import Response, jsonify, request

from mockbank.providers.tokenos.models import lifecycle, v2_operations, vrp, vrp_payments
from mockbank.providers.tokenos.routes import bp, common
from mockbank.providers.tokenos.routes.v2_common import base_url, context, query_args, reply
from mockbank.routing import endpoint


@bp.post("/vrp-consents")
@endpoint("vrp-consent-create")
def create_vrp_consent() -> Response:
    """Create a VRP consent; the payer authorises it at the bank."""
    state, fixtures, member_id, now = context()
    consent, changes = vrp.create_consent(
        state.store, member_id, common.request_body(), fixtures, now=now, rng=state.token_bytes
    )
    body = {"vrpConsent": vrp.consent_view(consent, base_url())}
    return reply(state, consent, changes, body, ("vrpConsent", consent.id))


@bp.get("/vrp-consents")
@endpoint("vrp-consents")
def list_vrp_consents() -> Response:
    """The caller's VRP consents."""
    state, _, member_id, now = context()
    chunk, info = vrp.list_consents(state.store, member_id, query_args(), now=now)
    return jsonify(
        {"vrpConsents": [vrp.consent_view(c, base_url()) for c in chunk], "pageInfo": info}
    )


@bp.get("/vrp-consents/<consent_id>")
@endpoint("vrp-consent")
def get_vrp_consent(consent_id: str) -> Response:
    """One VRP consent."""
    state, _, member_id, now = context()
    consent, changes = lifecycle.owned(state.store, vrp.CONSENTS, member_id, consent_id, now=now)
    return reply(state, consent, changes, {"vrpConsent": vrp.consent_view(consent, base_url())})


@bp.delete("/vrp-consents/<consent_id>")
@endpoint("vrp-consent-revoke")
def revoke_vrp_consent(consent_id: str) -> Response:
    """Revoke a VRP consent: later VRPs under it are refused."""
    state, _, member_id, now = context()
    consent, changes = vrp.revoke(state.store, member_id, consent_id, now=now)
    return reply(state, consent, changes, {"vrpConsent": vrp.consent_view(consent, base_url())})


@bp.get("/vrp-consents/<consent_id>/payments")
@endpoint("vrp-consent-payments")
def vrp_consent_payments(consent_id: str) -> Response:
    """The VRPs made under a consent."""
    state, _, member_id, now = context()
    chunk, info = v2_operations.consent_vrps(
        state.store, member_id, consent_id, query_args(), now=now
    )
    return jsonify({"vrps": [vrp_payments.vrp_view(p) for p in chunk], "pageInfo": info})


@bp.get("/vrps/<consent_id>/confirm-funds")
@endpoint("vrp-confirm-funds")
def confirm_funds(consent_id: str) -> Response:
    """Whether the payer's account under an authorised consent holds `amount`."""
    state, fixtures, member_id, now = context()
    available = v2_operations.confirm_funds(
        state.store, fixtures, member_id, consent_id, request.args.get("amount", ""), now=now
    )
    return jsonify({"fundsAvailable": available})
