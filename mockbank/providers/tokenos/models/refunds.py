"""Refunds of v2 payments: never more than what remains of the original, decided atomically.

The refund is recorded against the original payment inside one `store.update` of that payment,
so concurrent refunds (threads or processes) can never add up to more than its amount. A failed
refund gives its amount back; its fate is known from its amount when it is made.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from decimal import Decimal
from typing import Any

from mockbank.providers.tokenos.errors_v2 import (
    FieldInvalid,
    FieldNotUnique,
    RefundNotAllowed,
    ResourceNotFound,
)
from mockbank.providers.tokenos.models import lifecycle
from mockbank.providers.tokenos.models import payment_flow as flow
from mockbank.providers.tokenos.models import payments_v2 as payments
from mockbank.providers.tokenos.models import v2_common as f
from mockbank.providers.tokenos.models.common import new_id
from mockbank.providers.tokenos.models.fixtures import Fixtures
from mockbank.providers.tokenos.models.lifecycle import StatusChange
from mockbank.providers.tokenos.records.payments_v2 import Payment, RefundHold
from mockbank.providers.tokenos.records.refunds import (
    NS_REFUND,
    NS_REFUND_REF,
    Refund,
    RefundReservation,
)
from mockbank.providers.tokenos.records.steps import RefId, Step
from mockbank.store import Store

PENDING = "INITIATION_PENDING"
PROCESSING = "INITIATION_PROCESSING"
COMPLETED = "INITIATION_COMPLETED"
REJECTED = "INITIATION_REJECTED"
FAILED = "INITIATION_FAILED"
NO_FINAL = "INITIATION_NO_FINAL_STATUS_AVAILABLE"
STATUSES = (PENDING, PROCESSING, COMPLETED, REJECTED, FAILED, NO_FINAL)
LOCAL_INSTRUMENTS = ("SEPA", "SEPA_INSTANT", "FASTER_PAYMENTS")
ID_SUFFIX = ":2gFUX1NDgpN"
# A refund's fate by amount (our table, in the spirit of the payment one).
OUTCOMES = {
    103: (REJECTED, "The bank rejected the refund", flow.PROCESSING_S),
    105: (NO_FINAL, "no final status after 30 days", flow.GIVE_UP_S),
    107: (FAILED, "UNAVAILABLE: HTTP connection to the bank failed", flow.PROCESSING_S),
}


def _missing(refund_id: str) -> ResourceNotFound:
    return ResourceNotFound("refund", "refundId", refund_id)


REFUNDS = lifecycle.Kind(NS_REFUND, Refund.from_value, _missing)


def refund_steps(at: float, amount: Decimal) -> tuple[list[Step], float | None, float | None]:
    """(steps, completes at, fails at): PENDING → PROCESSING → final."""
    code = int(amount) if amount == amount.to_integral_value() else 0
    status, reason, after = OUTCOMES.get(code, (COMPLETED, "success", flow.PROCESSING_S))
    final = Step(at + flow.VERIFY_S + after, status, reason)
    steps = [Step(at + flow.VERIFY_S, PROCESSING, "processing"), final]
    completes = final.at if status == COMPLETED else None
    fails = final.at if status in (REJECTED, FAILED) else None
    return steps, completes, fails


def _parse(body: Any) -> tuple[dict[str, Any], Decimal, str]:
    init = f.obj(f.obj(body, "body").get("initiation"), "initiation")
    f.ref_id(init.get("refId"), "initiation.refId")
    amount, code = f.money(init.get("amount"), "initiation.amount")
    f.required_text(init.get("originalPaymentId"), "initiation.originalPaymentId", limit=200)
    f.enum(init.get("localInstrument"), "initiation.localInstrument", LOCAL_INSTRUMENTS)
    f.required_text(init.get("description"), "initiation.description", limit=140)
    for key in ("registrationId", "onBehalfOfId", "accountVerificationId", "paymentType"):
        f.text(init.get(key), f"initiation.{key}", required=False, limit=200)
    value = dict(init) | {"amount": f.amount_view(amount, code)}
    return value, amount, code


def _reserve(payment: Payment, hold: RefundHold, amount: Decimal, code: str, at: float) -> Payment:
    """Record the refund against the payment if what remains allows it."""
    if payment.vrp_consent_id:
        raise RefundNotAllowed(
            "VRPs are not refunded through /refunds", paths=["initiation.originalPaymentId"]
        )
    if payment.status not in flow.COMPLETED_STATUSES:
        raise RefundNotAllowed(
            f"payment {payment.id} is {payment.status}; only completed payments can be refunded",
            paths=["initiation.originalPaymentId"],
        )
    if code != payment.currency:
        raise FieldInvalid(
            f"the payment was in {payment.currency}, not {code}",
            paths=["initiation.amount.currency"],
        )
    _, remaining = payments.refund_totals(payment, at)
    if amount > remaining:
        raise RefundNotAllowed(
            f"{amount} {code} is more than the {remaining} {code} left to refund of {payment.id}",
            paths=["initiation.amount.value"],
        )
    return replace(payment, refunds=(*payment.refunds, hold))


def create_refund(
    store: Store, member_id: str, body: Any, *, now: datetime, rng: Callable[[int], bytes]
) -> tuple[Refund, list[StatusChange]]:
    """``POST /refunds``: checked and reserved against the original payment in one step."""
    init, amount, code = _parse(body)
    original = str(init["originalPaymentId"])
    lifecycle.owned(store, payments.PAYMENTS, member_id, original, now=now)
    at = now.timestamp()
    steps, completes, fails = refund_steps(at, amount)
    refund_id = lifecycle.fresh_id(
        store,
        NS_REFUND,
        lambda: new_id("rf", rng, ID_SUFFIX),
        lambda _: RefundReservation().to_value(),
        now=now,
    )
    ref = RefId(member_id, init["refId"])
    try:
        lifecycle.claim(store, NS_REFUND_REF, ref, "a refund", now=now)
    except FieldNotUnique:
        store.delete(NS_REFUND, refund_id)
        raise
    hold = RefundHold(refund_id, str(amount), completes, fails)
    try:
        _, changes = lifecycle.transition(
            store,
            payments.PAYMENTS,
            original,
            lambda p: _reserve(p, hold, amount, code, at),
            now=now,
        )
    except (RefundNotAllowed, FieldInvalid):
        store.delete(NS_REFUND, refund_id)
        store.delete(NS_REFUND_REF, ref.key)
        raise
    refund = replace(Refund.opened(member_id, init, (PENDING, "Received"), at, steps), id=refund_id)
    store.put(NS_REFUND, refund_id, refund.to_value(), now=now)
    lifecycle.index_due(store, NS_REFUND, refund_id, refund.schedule, now=now)
    return refund, [*changes, lifecycle.change_of(refund, at)]


def refund_view(refund: Refund, fixtures: Fixtures, payment: Payment | None) -> dict[str, Any]:
    """The OpenAPI's ``Refund``: the initiation resolved with debtor and creditor."""
    initiation = dict(refund.initiation)
    if payment is not None:
        initiation["debtor"] = dict(payment.initiation["creditor"])
        found = fixtures.payer_account(payment.payer_account or "")
        if found is not None:
            payer = next(p for p in fixtures.payers if found in p.accounts)
            initiation["creditor"] = payments.account_details(found, payer.name)
    view: dict[str, Any] = {
        "id": refund.id,
        "memberId": refund.member_id,
        "createdDateTime": f.iso(refund.created),
        "updatedDateTime": f.iso(refund.updated),
        "status": refund.status,
        "statusReasonInformation": refund.reason,
        "initiation": initiation,
    }
    if refund.status == COMPLETED:
        view["bankTransactionId"] = "btx-" + refund.id.split(":")[1][:16]
    if refund.status in (COMPLETED, REJECTED):
        view["bankPaymentStatus"] = "ACSC" if refund.status == COMPLETED else "RJCT"
    return view


def list_refunds(
    store: Store,
    member_id: str,
    args: dict[str, list[str]],
    *,
    now: datetime,
    original: str | None = None,
) -> tuple[list[Refund], dict[str, Any]]:
    """``GET /refunds`` (and ``/transfers/{id}/refunds``): filters and ``paging``."""
    limit = f.limit_arg(args)
    offset = (args.get("offset") or [""])[0]
    statuses = f.list_arg(args, "statuses")
    for status in statuses:
        if status not in STATUSES:
            raise FieldInvalid(f"statuses: {status} is not a refund status", paths=["statuses"])
    start = _date_arg(args, "startDate")
    end = _date_arg(args, "endDate")
    found = []
    for refund in lifecycle.member_resources(store, REFUNDS, member_id, now=now):
        if original is not None and refund.initiation.get("originalPaymentId") != original:
            continue
        if (start is not None and refund.created < start) or (
            end is not None and refund.created >= end + 86400
        ):
            continue
        found.append(refund)
    found = f.pick(found, f.list_arg(args, "ids"), f.bool_arg(args, "invertIds"), lambda r: r.id)
    found = f.pick(found, statuses, f.bool_arg(args, "invertStatuses"), lambda r: r.status)
    found = f.pick(found, f.list_arg(args, "refIds"), False, lambda r: r.initiation.get("refId"))
    chunk, info = f.page(found, offset, limit)
    paging: dict[str, Any] = {"limit": limit}
    if "nextOffset" in info and info["haveMore"]:
        paging["offset"] = info["nextOffset"]
    return chunk, paging


def _date_arg(args: dict[str, list[str]], name: str) -> float | None:
    raw = (args.get(name) or [""])[0]
    if not raw:
        return None
    if len(raw) != 10:
        raise FieldInvalid(f"{name} must be a date YYYY-MM-DD", paths=[name])
    return f.parse_iso(raw + "T00:00:00Z", name)
