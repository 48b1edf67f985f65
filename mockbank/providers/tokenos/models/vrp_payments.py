"""Payments under a VRP consent, checked against its limits atomically in the store.

The check and the record of the payment against the consent are one `store.update`, so
concurrent payments (threads or processes sharing a SQLite store) never overspend a limit.
"""

from __future__ import annotations

import calendar
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from mockbank.providers.tokenos.errors_v2 import (
    ConsentNotAuthorized,
    ConsentViolation,
    FieldInvalid,
)
from mockbank.providers.tokenos.models import lifecycle, vrp
from mockbank.providers.tokenos.models import payment_flow as flow
from mockbank.providers.tokenos.models import v2_common as f
from mockbank.providers.tokenos.models.common import new_id
from mockbank.providers.tokenos.models.lifecycle import StatusChange
from mockbank.providers.tokenos.models.payments_v2 import ID_SUFFIX, claim_ref_id
from mockbank.providers.tokenos.records.payments_v2 import (
    NS_PAYMENT,
    NS_PAYMENT_ID,
    NS_PAYMENT_REF,
    Payment,
    PaymentId,
)
from mockbank.providers.tokenos.records.steps import RefId, Step
from mockbank.providers.tokenos.records.vrp import VrpConsent, VrpHold
from mockbank.store import Store

S = flow.PaymentStatus
VRP_STATUSES = (
    S.PENDING,
    S.PROCESSING,
    S.COMPLETED,
    S.REJECTED,
    S.REJECTED_INSUFFICIENT_FUNDS,
    S.FAILED,
    S.NO_FINAL_STATUS_AVAILABLE,
)
# A VRP's fate by amount: the failures of the payment table that a VRP can have.
VRP_OUTCOMES = {
    103: (S.REJECTED, "failure", flow.PROCESSING_S),
    105: (S.NO_FINAL_STATUS_AVAILABLE, "no final status after 30 days", flow.GIVE_UP_S),
    107: (S.FAILED, "UNAVAILABLE: HTTP connection to the bank failed", flow.PROCESSING_S),
    108: (S.REJECTED_INSUFFICIENT_FUNDS, "Insufficient funds", flow.PROCESSING_S),
    116: (S.REJECTED, "Insufficient funds", flow.PROCESSING_S),
}


def vrp_steps(at: float, amount: Decimal) -> tuple[list[Step], float | None]:
    """(steps, when it fails or None): PENDING → PROCESSING → final."""
    code = int(amount) if amount == amount.to_integral_value() else 0
    status, reason, after = VRP_OUTCOMES.get(code, (S.COMPLETED, "success", flow.PROCESSING_S))
    processing = Step(at + flow.VERIFY_S, S.PROCESSING, "processing")
    final = Step(at + flow.VERIFY_S + after, status, reason)
    fails = None if status == S.COMPLETED else final.at
    return [processing, final], fails


def _month_start(moment: datetime, day: int) -> datetime:
    """The `day` of `moment`'s month (clamped to the month's length), at midnight."""
    last = calendar.monthrange(moment.year, moment.month)[1]
    return moment.replace(day=min(day, last), hour=0, minute=0, second=0, microsecond=0)


def period_window(period: str, alignment: str, anchor: float, now: float) -> tuple[float, float]:
    """[start, end) of the `period` containing `now` (CALENDAR, or aligned on the consent start)."""
    day0 = datetime.fromtimestamp(anchor, tz=UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    moment = datetime.fromtimestamp(now, tz=UTC)
    today = moment.replace(hour=0, minute=0, second=0, microsecond=0)
    if period == "DAY":
        return today.timestamp(), (today + timedelta(days=1)).timestamp()
    if period == "WEEK":
        if alignment == "CALENDAR":
            start = today - timedelta(days=today.weekday())
        else:
            start = today - timedelta(days=(today - day0).days % 7)
        return start.timestamp(), (start + timedelta(days=7)).timestamp()
    day = 1 if alignment == "CALENDAR" else day0.day
    month = 1 if alignment == "CALENDAR" else day0.month
    if period == "MONTH":
        start = _month_start(moment, day)
        if start > moment:
            start = _month_start((start.replace(day=1) - timedelta(days=1)), day)
        end = _month_start(start.replace(day=28) + timedelta(days=7), day)
        return start.timestamp(), end.timestamp()
    start = _month_start(moment.replace(month=month, day=1), day)
    if start > moment:
        start = _month_start(start.replace(year=start.year - 1, day=1), day)
    return start.timestamp(), _month_start(
        start.replace(year=start.year + 1, day=1), day
    ).timestamp()


def limit_for(limit: dict[str, Any], start: float, end: float, consent_start: float) -> Decimal:
    """A periodic maximum; a CALENDAR limit is pro-rated by days in the consent's first period."""
    maximum = Decimal(limit["maximumAmount"])
    if limit["periodAlignment"] != "CALENDAR" or not start <= consent_start < end:
        return maximum
    total_days = round((end - start) / 86400)
    first = datetime.fromtimestamp(consent_start, tz=UTC).replace(
        hour=0, minute=0, second=0, microsecond=0
    )
    remaining = round((end - first.timestamp()) / 86400)
    return (maximum * remaining / total_days).quantize(Decimal("0.0001"))


def check_limits(consent: VrpConsent, amount: Decimal, code: str, now: float) -> None:
    """Every control parameter of the consent, for one more VRP of `amount` at `now`."""
    extra = {"vrpConsentId": consent.id}
    if consent.status != vrp.AUTHORIZED:
        raise ConsentNotAuthorized(
            f"VRP consent {consent.id} is {consent.status}, not AUTHORIZED", extra=extra
        )
    if code != consent.currency:
        raise ConsentViolation(
            f"the consent is in {consent.currency}, not {code}",
            paths=["initiation.amount.currency"],
            extra=extra,
        )
    if now < consent.start:
        raise ConsentViolation("the consent's startDateTime has not come yet", extra=extra)
    if consent.end is not None and now >= consent.end:
        raise ConsentViolation("the consent's endDateTime has passed", extra=extra)
    init = consent.initiation
    if amount > Decimal(init["maximumIndividualAmount"]):
        raise ConsentViolation(
            f"{amount} is over the maximumIndividualAmount {init['maximumIndividualAmount']}",
            paths=["initiation.amount.value"],
            extra=extra,
        )
    if "minimumIndividualAmount" in init and amount < Decimal(init["minimumIndividualAmount"]):
        raise ConsentViolation(
            f"{amount} is under the minimumIndividualAmount {init['minimumIndividualAmount']}",
            paths=["initiation.amount.value"],
            extra=extra,
        )
    occurrences = int(init.get("maximumOccurrences") or 0)
    if occurrences and sum(1 for h in consent.holds if h.live(now)) >= occurrences:
        raise ConsentViolation(f"the consent allows {occurrences} payments", extra=extra)
    for limit in init["periodicLimits"]:
        start, end = period_window(
            limit["periodType"], limit["periodAlignment"], consent.start, now
        )
        allowed = limit_for(limit, start, end, consent.start)
        spent = vrp.period_total(consent, start, end, now)
        if spent + amount > allowed:
            raise ConsentViolation(
                f"{amount} would exceed the {limit['periodType']} limit {allowed} ({spent} used)",
                paths=["initiation.amount.value"],
                extra=extra,
            )


def _parse(init: dict[str, Any], consent_id: str) -> tuple[str, Decimal, str, dict[str, Any]]:
    ref = f.ref_id(init.get("refId"), "initiation.refId")
    amount, code = f.money(init.get("amount"), "initiation.amount")
    f.required_text(
        init.get("remittanceInformationPrimary"),
        "initiation.remittanceInformationPrimary",
        limit=140,
    )
    f.text(
        init.get("remittanceInformationSecondary"),
        "initiation.remittanceInformationSecondary",
        required=False,
        limit=140,
    )
    f.flag(init.get("confirmFunds"), "initiation.confirmFunds")
    if init.get("localInstrument") not in (None, "FASTER_PAYMENTS"):
        raise ConsentViolation(
            "VRPs are paid with FASTER_PAYMENTS",
            paths=["initiation.localInstrument"],
            extra={"vrpConsentId": consent_id},
        )
    value = {
        "consentId": consent_id,
        "refId": ref,
        "remittanceInformationPrimary": init["remittanceInformationPrimary"],
        "amount": f.amount_view(amount, code),
    }
    for key in ("remittanceInformationSecondary", "confirmFunds", "risk"):
        if init.get(key) is not None:
            value[key] = init[key]
    return ref, amount, code, value


def _same_creditor(init: dict[str, Any], consent: VrpConsent) -> None:
    creditor = init.get("creditor")
    if creditor is not None and creditor != consent.initiation["creditor"]:
        raise ConsentViolation(
            "initiation.creditor differs from the consent's",
            paths=["initiation.creditor"],
            extra={"vrpConsentId": consent.id},
        )


def _charge(
    store: Store, consent_id: str, hold: VrpHold, code: str, ref: RefId, *, now: datetime
) -> tuple[VrpConsent, list[StatusChange]]:
    """Record the VRP against the consent if its limits allow it (one atomic update)."""
    amount, at = Decimal(hold.amount), hold.at

    def charge(held: VrpConsent) -> VrpConsent:
        check_limits(held, amount, code, at)
        return replace(held, holds=(*held.holds, hold))

    try:
        return lifecycle.transition(store, vrp.CONSENTS, consent_id, charge, now=now)
    except (ConsentViolation, ConsentNotAuthorized):
        store.delete(NS_PAYMENT_REF, ref.key)  # a refused VRP leaves no trace
        raise


def create_vrp(
    store: Store, member_id: str, body: Any, *, now: datetime, rng: Callable[[int], bytes]
) -> tuple[Payment, list[StatusChange]]:
    """``POST /v2/payments`` with ``initiation.vrpConsentId``: checked, charged, recorded."""
    init = f.obj(f.obj(body, "body").get("initiation"), "initiation")
    consent_id = f.required_text(init.get("vrpConsentId"), "initiation.vrpConsentId", limit=200)
    consent, changes = lifecycle.owned(store, vrp.CONSENTS, member_id, consent_id, now=now)
    ref, amount, code, value = _parse(init, consent_id)
    _same_creditor(init, consent)
    at = now.timestamp()
    steps, fails_at = vrp_steps(at, amount)
    payment_id = lifecycle.fresh_id(
        store,
        NS_PAYMENT_ID,
        lambda: new_id("pm2", rng, ID_SUFFIX),
        lambda key: PaymentId(key, member_id).to_value(),
        now=now,
    )
    claim_ref_id(store, member_id, ref, now=now)
    hold = VrpHold(payment_id, str(amount), at, fails_at)
    consent, more = _charge(store, consent_id, hold, code, RefId(member_id, ref), now=now)
    opened = Payment.opened(
        member_id,
        value,
        (S.PENDING, "Token.io is sending the payment to the bank"),
        at,
        steps,
        flow_type="API_ONLY",
        sca="VRP",
        code=0,
        bank_id=consent.bank_id,
        payer_account=consent.payer_account,
        vrp_consent_id=consent_id,
    )
    payment = replace(opened, id=payment_id)
    store.put(NS_PAYMENT, payment_id, payment.to_value(), now=now)
    lifecycle.index_due(store, NS_PAYMENT, payment_id, payment.schedule, now=now)
    return payment, [*changes, *more, lifecycle.change_of(payment, at)]


def vrp_view(payment: Payment) -> dict[str, Any]:
    """The OpenAPI's ``Vrp``."""
    view: dict[str, Any] = {
        "id": payment.id,
        "memberId": payment.member_id,
        "initiation": payment.initiation,
        "createdDateTime": f.iso(payment.created),
        "updatedDateTime": f.iso(payment.updated),
        "status": payment.status,
        "statusReasonInformation": payment.reason,
    }
    if payment.status != S.PENDING:
        view["bankVrpId"] = "bvrp-" + payment.id.split(":")[1][:16]
        view["bankVrpStatus"] = {
            S.PROCESSING: "Pending",
            S.COMPLETED: "AcceptedCreditSettlementCompleted",
            S.NO_FINAL_STATUS_AVAILABLE: "Pending",
        }.get(S(payment.status), "Rejected")
    return view


def consent_payments(payments: list[Payment], consent_id: str) -> list[Payment]:
    """The VRPs made under one consent, newest first."""
    found = [p for p in payments if p.vrp_consent_id == consent_id]
    return sorted(found, key=lambda p: p.created, reverse=True)


def check_amount_arg(raw: str) -> Decimal:
    """``amount`` of ``GET /vrps/{id}/confirm-funds``."""
    if not raw:
        raise FieldInvalid("amount is required", paths=["amount"])
    return f.decimal(raw, "amount")
