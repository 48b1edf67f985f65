"""Payments v2: the stored payment, its status machine, the payer's actions and the views.

Every status change goes through `Payment.advance` (timed steps falling due) or `_transition`
(an action), and is reported as a `StatusChange` to the caller, who publishes it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

from mockbank.clients.tokenos import base58
from mockbank.providers.tokenos.errors_v2 import FieldExpected, FieldInvalid, PaymentNotFound
from mockbank.providers.tokenos.models import lifecycle
from mockbank.providers.tokenos.models import payment_flow as flow
from mockbank.providers.tokenos.models import v2_common as f
from mockbank.providers.tokenos.models.common import new_id
from mockbank.providers.tokenos.models.fixtures import Fixtures, PayerAccount
from mockbank.providers.tokenos.models.lifecycle import StatusChange, require
from mockbank.providers.tokenos.models.payment_initiation import Initiation, check_bank
from mockbank.providers.tokenos.records.payments_v2 import NS_PAYMENT, NS_PAYMENT_REF, Payment
from mockbank.providers.tokenos.records.steps import RefId, Step
from mockbank.store import Store

S = flow.PaymentStatus
ID_SUFFIX = ":2gFUX1NDgpN"  # the suffix of the OpenAPI's example payment ids
OTP_FIELD = "one-time-password"  # "password" in the id keeps it masked in the journal
MAX_WRONG_CODES = 3
BANK_PAGE = "/mock-bank/payments/"
HOSTED_PAGE = "/session/"
PAYMENTS = lifecycle.Kind(NS_PAYMENT, Payment.from_value, PaymentNotFound)
TIMED_OUT = "The payer did not authenticate within 15 minutes"


@dataclass(frozen=True)
class Settings:
    """The app-clock durations a deployment may change (options ``tokenos.*``)."""

    decoupled_s: float = flow.DECOUPLED_S
    settlement_s: float = flow.SETTLEMENT_S


def _clock(now: datetime) -> float:
    return now.timestamp()


def _timeout(at: float) -> Step:
    return Step(at + flow.AUTH_TTL_S, S.FAILED, TIMED_OUT, False)


def initial_steps(
    created: float, init: Initiation, found: flow.Scenario, settings: Settings, timeout: int | None
) -> tuple[str, list[Step]]:
    """(sca, schedule) of a new payment, from its flow type and scenario."""
    if init.flow_type != "API_ONLY":
        hosted = Step(created, S.PENDING_REDIRECT_HP, "Waiting for the payer on the Hosted Pages")
        return "HOSTED", [hosted, _timeout(created)]
    answer = created
    if found.code == flow.SLOW_BANK and (timeout is None or timeout < flow.SLOW_BANK_S):
        answer += flow.SLOW_BANK_S
    settle = settings.settlement_s if init.settlement else None
    if found.sca == flow.Sca.DECOUPLED:
        waiting = Step(
            answer, S.PENDING_DECOUPLED_AUTH, "The bank asked the payer to approve in its app"
        )
        later = flow.after_authorisation(
            answer + settings.decoupled_s, found, verification=None, settlement_s=settle
        )
        return found.sca, [waiting, *later]
    if found.sca == flow.Sca.EMBEDDED:
        waiting = Step(answer, S.PENDING_EMBEDDED_AUTH, "The bank asks for a one-time password")
    else:
        waiting = Step(answer, S.PENDING_REDIRECT_AUTH, "Waiting for the payer at the bank")
    return found.sca, [waiting, _timeout(answer)]


def claim_ref_id(store: Store, member_id: str, ref: str, *, now: datetime) -> None:
    """refId is unique per member across payments (``Field.NotUnique`` otherwise), atomically."""
    lifecycle.claim(store, NS_PAYMENT_REF, RefId(member_id, ref), "a payment", now=now)


def create_payment(
    store: Store,
    member_id: str,
    init: Initiation,
    *,
    now: datetime,
    rng: Callable[[int], bytes],
    settings: Settings,
    timeout: int | None,
) -> tuple[Payment, list[StatusChange]]:
    """``POST /v2/payments``: INITIATION_PENDING, and on at once where the bank answers."""
    created = _clock(now)
    found = flow.scenario(init.amount)
    sca, steps = initial_steps(created, init, found, settings, timeout)
    claim_ref_id(store, member_id, init.ref_id, now=now)
    draft = Payment.opened(
        member_id,
        init.value,
        (S.PENDING, "Token.io is waiting for the bank"),
        created,
        steps,
        flow_type=init.flow_type,
        sca=sca,
        code=found.code,
        bank_id=init.bank_id,
    )
    stored = lifecycle.insert(
        store, PAYMENTS, draft, lambda: new_id("pm2", rng, ID_SUFFIX), now=now
    )
    created_change = lifecycle.change_of(stored, created)  # Token.io notifies creation too
    payment, changes = lifecycle.load(store, PAYMENTS, stored.id, now=now)
    return payment, [created_change, *changes]


def _authorised(
    payment: Payment, at: float, verification: S, settings: Settings, account: str | None
) -> Payment:
    found = flow.Scenario(flow.Sca.REDIRECT, payment.code)
    settle = (
        settings.settlement_s if payment.initiation["creditor"].get("virtualAccountId") else None
    )
    steps = flow.after_authorisation(at, found, verification=verification, settlement_s=settle)
    return replace(payment, schedule=tuple(steps), payer_account=account or payment.payer_account)


def payer_decision(
    store: Store,
    payment_id: str,
    approve: bool,
    account_id: str | None,
    settings: Settings,
    *,
    now: datetime,
) -> tuple[Payment, list[StatusChange]]:
    """The payer approves or declines on the bank's page (INITIATION_PENDING_REDIRECT_AUTH)."""
    at = _clock(now)

    def act(payment: Payment) -> Payment:
        require(payment, S.PENDING_REDIRECT_AUTH)
        if not approve:
            return lifecycle.closed(
                payment, S.DECLINED, "The payer declined the payment at the bank", at
            )
        return _authorised(payment, at, S.PENDING_REDIRECT_AUTH_VERIFICATION, settings, account_id)

    return lifecycle.transition(store, PAYMENTS, payment_id, act, now=now)


def choose_bank(
    store: Store, payment_id: str, bank_id: str | None, fixtures: Fixtures, *, now: datetime
) -> tuple[Payment, list[StatusChange]]:
    """On the Hosted Pages the payer picks a bank (or leaves with `bank_id` None)."""
    at = _clock(now)

    def act(payment: Payment) -> Payment:
        require(payment, S.PENDING_REDIRECT_HP)
        if bank_id is None:
            return lifecycle.closed(payment, S.DECLINED, "The payer left the Hosted Pages", at)
        check_bank(fixtures, bank_id, payment.initiation["localInstrument"], payment.currency)
        waiting = payment.with_status(
            S.PENDING_REDIRECT_AUTH, "Waiting for the payer at the bank", at
        )
        return replace(waiting, bank_id=bank_id, schedule=(_timeout(at),))

    return lifecycle.transition(store, PAYMENTS, payment_id, act, now=now)


def _otp(body: Any) -> str:
    fields = f.obj(f.obj(body, "body").get("embeddedAuth"), "embeddedAuth")
    unknown = sorted(set(fields) - {OTP_FIELD})
    if unknown:
        raise FieldInvalid(
            f"embeddedAuth has unknown field(s) {', '.join(unknown)}",
            paths=[f"embeddedAuth.{unknown[0]}"],
        )
    code = f.text(fields.get(OTP_FIELD), f"embeddedAuth.{OTP_FIELD}", limit=100)
    if code is None:
        raise FieldExpected(
            f"embeddedAuth.{OTP_FIELD} is required", paths=[f"embeddedAuth.{OTP_FIELD}"]
        )
    return code


def submit_embedded(
    store: Store,
    member_id: str,
    payment_id: str,
    body: Any,
    settings: Settings,
    *,
    now: datetime,
) -> tuple[Payment, list[StatusChange]]:
    """``POST /v2/payments/{id}/embedded-auth`` with ``{"embeddedAuth": {fieldId: value}}``."""
    lifecycle.owned(store, PAYMENTS, member_id, payment_id, now=now)
    code = _otp(body)
    at = _clock(now)

    def act(payment: Payment) -> Payment:
        require(payment, S.PENDING_EMBEDDED_AUTH)
        if len(code) == 6 and code.isascii() and code.isdigit() and code != "000000":
            return _authorised(payment, at, S.PENDING_EMBEDDED_AUTH_VERIFICATION, settings, None)
        wrong = payment.wrong_codes + 1
        if wrong >= MAX_WRONG_CODES:
            rejected = lifecycle.closed(
                payment, S.REJECTED, "Too many wrong one-time passwords", at
            )
            return replace(rejected, wrong_codes=wrong)
        return replace(payment, wrong_codes=wrong, updated=at)

    return lifecycle.transition(store, PAYMENTS, payment_id, act, now=now)


def callback_location(payment: Payment) -> str:
    """Where the payer's browser goes afterwards: ``callbackUrl?payment-id=…&state=…``."""
    url = str(payment.initiation["callbackUrl"])
    query = urlencode(
        {"payment-id": payment.id, "state": payment.initiation.get("callbackState") or ""}
    )
    return f"{url}{'&' if '?' in url else '?'}{query}"


def payer_accounts(payment: Payment, fixtures: Fixtures) -> list[PayerAccount]:
    """The seeded payers' accounts the payment could come from (its bank, its currency)."""
    return [
        a
        for p in fixtures.payers
        for a in p.accounts
        if a.bank_id == payment.bank_id and fixtures.banks[a.bank_id].currency == payment.currency
    ]


def refund_totals(payment: Payment, now: float) -> tuple[Decimal, Decimal]:
    """(settled refunds, amount still refundable): failed refunds give their amount back."""
    settled = sum(
        (
            Decimal(r.amount)
            for r in payment.refunds
            if r.completes_at is not None and r.completes_at <= now
        ),
        Decimal(0),
    )
    held = sum(
        (Decimal(r.amount) for r in payment.refunds if r.fails_at is None or r.fails_at > now),
        Decimal(0),
    )
    return settled, payment.amount - held


def refund_status(payment: Payment, now: float) -> str:
    """NONE, PARTIAL or FULL, from the settled refunds."""
    settled, _ = refund_totals(payment, now)
    if settled <= 0:
        return "NONE"
    return "FULL" if settled >= payment.amount else "PARTIAL"


def account_details(found: PayerAccount, payer_name: str) -> dict[str, str]:
    """An account as RefundAccount / debtor details (IBAN, or sort code and number)."""
    if found.number[:2].isalpha():
        return {"iban": found.number, "name": payer_name}
    return {"sortCode": found.number[:6], "accountNumber": found.number[6:], "name": payer_name}


def _pending_authentication(payment: Payment, base: str) -> dict[str, Any] | None:
    if payment.status == S.PENDING_REDIRECT_AUTH:
        return {"redirectUrl": f"{base}{BANK_PAGE}{payment.id}"}
    if payment.status == S.PENDING_REDIRECT_HP:
        return {"redirectUrl": f"{base}{HOSTED_PAGE}{payment.id}"}
    if payment.status == S.PENDING_EMBEDDED_AUTH:
        return {
            "description": "Enter the one-time password the bank sent to your phone.",
            "fields": [
                {
                    "type": "PASSWORD",
                    "id": OTP_FIELD,
                    "displayName": "One-time password",
                    "additionalInformation": "mockbank: any 6 digits; 000000 is wrong",
                }
            ],
            "isRetry": payment.wrong_codes > 0,
        }
    return None


def payment_view(payment: Payment, base: str, fixtures: Fixtures, now: datetime) -> dict[str, Any]:
    """The OpenAPI's ``Payment`` object."""
    initiation = dict(payment.initiation)
    if payment.bank_id:
        initiation["bankId"] = payment.bank_id
    view: dict[str, Any] = {
        "id": payment.id,
        "memberId": payment.member_id,
        "initiation": initiation,
        "createdDateTime": f.iso(payment.created),
        "updatedDateTime": f.iso(payment.updated),
        "status": payment.status,
        "statusReasonInformation": payment.reason,
        "convertedToFutureDatedPayment": False,
    }
    # base58, not hex: a long run of digits would read as a card number to the journal's masking.
    digest = base58(hashlib.sha256(payment.id.encode()).digest())
    if payment.status in flow.BANK_STATUS:
        view["bankPaymentStatus"] = flow.BANK_STATUS[S(payment.status)]
        view["bankPaymentId"] = digest[:16]
    if payment.status in flow.COMPLETED_STATUSES:
        view["bankTransactionId"] = digest[16:40]
    authentication = _pending_authentication(payment, base)
    if authentication is not None:
        view["authentication"] = authentication
    if payment.status == S.FAILED:
        view["errorInfo"] = {
            "httpErrorCode": 503,
            "message": payment.reason,
            "tokenExternalError": True,
        }
    if initiation.get("returnRefundAccount"):
        view["refundDetails"] = _refund_details(payment, fixtures, _clock(now))
    return view


def _refund_details(payment: Payment, fixtures: Fixtures, now: float) -> dict[str, Any]:
    settled, remaining = refund_totals(payment, now)
    details: dict[str, Any] = {
        "paymentRefundStatus": refund_status(payment, now),
        "settledRefundAmount": f.amount_view(settled, payment.currency),
        "remainingRefundAmount": f.amount_view(remaining, payment.currency),
    }
    found = fixtures.payer_account(payment.payer_account or "")
    if found is not None:
        payer = next(p for p in fixtures.payers if found in p.accounts)
        details["refundAccount"] = account_details(found, payer.name)
    return details
