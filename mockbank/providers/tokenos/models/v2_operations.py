"""The current API's requests that span resources, one call per view: initiate a payment or a
VRP, confirm funds under a consent, list a consent's VRPs, read a refund with its payment, and
the sweep that applies every due step.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from mockbank.providers.tokenos.errors_v2 import ConsentNotAuthorized, ResourceNotFound
from mockbank.providers.tokenos.models import lifecycle, refunds, vrp, vrp_payments
from mockbank.providers.tokenos.models import payment_initiation as initiation
from mockbank.providers.tokenos.models import payments_query as query
from mockbank.providers.tokenos.models import payments_v2 as payments
from mockbank.providers.tokenos.models import v2_common as f
from mockbank.providers.tokenos.models.fixtures import Fixtures
from mockbank.providers.tokenos.models.lifecycle import StatusChange
from mockbank.providers.tokenos.models.tokens import account_balance
from mockbank.providers.tokenos.records.payments_v2 import Payment
from mockbank.providers.tokenos.records.refunds import Refund
from mockbank.store import Store


def is_vrp(body: Any) -> bool:
    """Whether ``POST /v2/payments`` asks for a VRP (``initiation.vrpConsentId`` is set)."""
    init = body.get("initiation") if isinstance(body, dict) else None
    return isinstance(init, dict) and init.get("vrpConsentId") not in (None, "")


def initiate_payment(
    store: Store,
    member_id: str,
    body: Any,
    fixtures: Fixtures,
    settings: payments.Settings,
    *,
    timeout: int | None,
    now: datetime,
    rng: Callable[[int], bytes],
) -> tuple[Payment, list[StatusChange]]:
    """``POST /v2/payments``: a VRP under a consent, or a single immediate payment."""
    if is_vrp(body):
        return vrp_payments.create_vrp(store, member_id, body, now=now, rng=rng)
    parsed = initiation.parse_initiation(body, fixtures)
    return payments.create_payment(
        store, member_id, parsed, now=now, rng=rng, settings=settings, timeout=timeout
    )


def confirm_funds(
    store: Store, fixtures: Fixtures, member_id: str, consent_id: str, amount: str, *, now: datetime
) -> bool:
    """``GET /vrps/{consentId}/confirm-funds``: does the payer's account hold `amount`?

    Only under the caller's AUTHORIZED consent with a payer account (an unknown consent is an
    unknown VRP here, as the path names it).
    """
    try:
        consent, _ = lifecycle.owned(store, vrp.CONSENTS, member_id, consent_id, now=now)
    except ResourceNotFound:
        raise ResourceNotFound("VRP", "vrpId", consent_id) from None
    wanted = vrp_payments.check_amount_arg(amount)
    if consent.status != vrp.AUTHORIZED or consent.payer_account is None:
        raise ConsentNotAuthorized(
            f"VRP consent {consent_id} is {consent.status}", extra={"vrpConsentId": consent_id}
        )
    return account_balance(store, fixtures, consent.payer_account, now=now) >= wanted


def consent_vrps(
    store: Store, member_id: str, consent_id: str, args: dict[str, list[str]], *, now: datetime
) -> tuple[list[Payment], dict[str, Any]]:
    """``GET /vrp-consents/{id}/payments``: one page of the VRPs under the caller's consent."""
    lifecycle.owned(store, vrp.CONSENTS, member_id, consent_id, now=now)
    limit = f.limit_arg(args)
    found = vrp_payments.consent_payments(
        query.member_payments(store, member_id, now=now), consent_id
    )
    return f.page(found, (args.get("offset") or [""])[0], limit)


def payment_refunds(
    store: Store, member_id: str, payment_id: str, args: dict[str, list[str]], *, now: datetime
) -> tuple[list[Refund], dict[str, Any]]:
    """``GET /transfers/{id}/refunds``: the refunds of one of the caller's payments."""
    lifecycle.owned(store, payments.PAYMENTS, member_id, payment_id, now=now)
    return refunds.list_refunds(store, member_id, args, now=now, original=payment_id)


def refund_payment(store: Store, refund: Refund, *, now: datetime) -> Payment | None:
    """The payment a refund is of (its debtor and creditor are read from it)."""
    original = str(refund.initiation.get("originalPaymentId"))
    try:
        return lifecycle.load(store, payments.PAYMENTS, original, now=now)[0]
    except ResourceNotFound:  # pragma: no cover - refunds are only made of stored payments
        return None


def sweep(store: Store, *, now: datetime) -> list[StatusChange]:
    """Apply every due timed step (bank answers, settlement...) of payments, consents, refunds."""
    return [
        change
        for kind in (payments.PAYMENTS, vrp.CONSENTS, refunds.REFUNDS)
        for change in lifecycle.sweep(store, kind, now=now)
    ]
