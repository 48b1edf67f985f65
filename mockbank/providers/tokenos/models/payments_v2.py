"""Payments v2: the stored payment, its status machine, the payer's actions and the views.

Every status change goes through `Payment.advance` (timed steps falling due) or `_transition`
(an action), and is reported as a `StatusChange` to the caller, who publishes it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

from mockbank.clients.tokenos import base58
from mockbank.providers.tokenos.errors_v2 import (
    FieldExpected,
    FieldInvalid,
    FieldNotUnique,
    InvalidStatus,
    PaymentNotFound,
)
from mockbank.providers.tokenos.models import payment_flow as flow
from mockbank.providers.tokenos.models import v2_common as f
from mockbank.providers.tokenos.models.common import new_id
from mockbank.providers.tokenos.models.fixtures import Fixtures, PayerAccount
from mockbank.providers.tokenos.models.payment_initiation import Initiation, check_bank
from mockbank.providers.tokenos.models.v2_common import StatusChange, Step
from mockbank.store import Store

S = flow.PaymentStatus
ID_SUFFIX = ":2gFUX1NDgpN"  # the suffix of the OpenAPI's example payment ids
OTP_FIELD = "one-time-password"  # "password" in the id keeps it masked in the journal
MAX_WRONG_CODES = 3
BANK_PAGE = "/mock-bank/payments/"
HOSTED_PAGE = "/session/"


@dataclass(frozen=True)
class Settings:
    """The app-clock durations a deployment may change (options ``tokenos.*``)."""

    decoupled_s: float = flow.DECOUPLED_S
    settlement_s: float = flow.SETTLEMENT_S


@dataclass(frozen=True)
class RefundHold:
    """A refund against this payment; its fate is known from its amount when it is made."""

    refund_id: str
    amount: str
    completes_at: float | None
    fails_at: float | None

    def to_value(self) -> dict[str, Any]:
        return {
            "refundId": self.refund_id,
            "amount": self.amount,
            "completesAt": self.completes_at,
            "failsAt": self.fails_at,
        }

    @classmethod
    def from_value(cls, value: dict[str, Any]) -> RefundHold:
        return cls(value["refundId"], value["amount"], value["completesAt"], value["failsAt"])


@dataclass(frozen=True)
class Payment:
    """A single immediate payment, or a VRP under a consent (`vrp_consent_id`)."""

    id: str
    member_id: str
    initiation: dict[str, Any]
    flow_type: str
    sca: str  # REDIRECT, EMBEDDED, DECOUPLED, HOSTED or VRP
    code: int  # the magic value the amount selected
    bank_id: str | None
    status: str
    reason: str
    created: float
    updated: float
    schedule: tuple[Step, ...] = ()
    payer_account: str | None = None
    wrong_codes: int = 0
    vrp_consent_id: str | None = None
    refunds: tuple[RefundHold, ...] = field(default=())

    def to_value(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "memberId": self.member_id,
            "initiation": self.initiation,
            "flowType": self.flow_type,
            "sca": self.sca,
            "code": self.code,
            "bankId": self.bank_id,
            "status": self.status,
            "reason": self.reason,
            "created": self.created,
            "updated": self.updated,
            "schedule": [s.to_value() for s in self.schedule],
            "payerAccount": self.payer_account,
            "wrongCodes": self.wrong_codes,
            "vrpConsentId": self.vrp_consent_id,
            "refunds": [r.to_value() for r in self.refunds],
        }

    @classmethod
    def from_value(cls, value: dict[str, Any]) -> Payment:
        return cls(
            id=value["id"],
            member_id=value["memberId"],
            initiation=value["initiation"],
            flow_type=value["flowType"],
            sca=value["sca"],
            code=int(value["code"]),
            bank_id=value["bankId"],
            status=value["status"],
            reason=value["reason"],
            created=float(value["created"]),
            updated=float(value["updated"]),
            schedule=tuple(Step.from_value(s) for s in value["schedule"]),
            payer_account=value["payerAccount"],
            wrong_codes=int(value["wrongCodes"]),
            vrp_consent_id=value["vrpConsentId"],
            refunds=tuple(RefundHold.from_value(r) for r in value["refunds"]),
        )

    @property
    def amount(self) -> Decimal:
        return Decimal(self.initiation["amount"]["value"])

    @property
    def currency(self) -> str:
        return str(self.initiation["amount"]["currency"])

    def change(self, kind: str, at: float) -> StatusChange:
        """This payment's current status as a reportable change."""
        return StatusChange(kind, self.id, self.member_id, self.status, self.reason, at, self)

    @property
    def kind(self) -> str:
        return "vrp" if self.vrp_consent_id else "payment"

    def with_status(self, status: str, reason: str, at: float) -> Payment:
        return replace(self, status=status, reason=reason, updated=at)

    def advance(self, now: float) -> tuple[Payment, list[StatusChange]]:
        """Apply the steps due at `now`, in order."""
        due, ahead = f.due_steps(self.schedule, now)  # schedules are kept in time order
        if not due:
            return self, []
        payment, changes = replace(self, schedule=ahead), []
        for step in due:
            payment = payment.with_status(step.status, step.reason, step.at)
            changes.append(payment.change(self.kind, step.at))
        return payment, changes


def _clock(now: datetime) -> float:
    return now.timestamp()


def initial_steps(
    created: float, init: Initiation, found: flow.Scenario, settings: Settings, timeout: int | None
) -> tuple[str, list[Step]]:
    """(sca, schedule) of a new payment, from its flow type and scenario."""
    timed_out = "The payer did not authenticate within 15 minutes"
    if init.flow_type != "API_ONLY":
        hosted = Step(created, S.PENDING_REDIRECT_HP, "Waiting for the payer on the Hosted Pages")
        return "HOSTED", [hosted, Step(created + flow.AUTH_TTL_S, S.FAILED, timed_out, False)]
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
    return found.sca, [waiting, Step(answer + flow.AUTH_TTL_S, S.FAILED, timed_out, False)]


def store_new(
    store: Store, payment: Payment, rng: Callable[[int], bytes], prefix: str, *, now: datetime
) -> Payment:
    """Insert under a fresh id (ids from a seeded generator may collide across processes)."""
    for _ in range(50):
        candidate = replace(payment, id=new_id(prefix, rng, ID_SUFFIX))
        if store.add(f.NS_PAYMENT, candidate.id, candidate.to_value(), now=now):
            f.index_due(store, f.NS_PAYMENT, candidate.id, candidate.schedule, now=now)
            return candidate
    raise RuntimeError("could not find a free payment id")  # pragma: no cover


def claim_ref_id(store: Store, member_id: str, ref: str, *, now: datetime) -> None:
    """refId is unique per member across payments (``Field.NotUnique`` otherwise), atomically."""
    if not store.add(f.NS_PAYMENT_REF, f"{member_id}\n{ref}", {}, now=now):
        raise FieldNotUnique(
            f"a payment with refId {ref!r} exists already", paths=["initiation.refId"]
        )


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
    draft = Payment(
        id="",
        member_id=member_id,
        initiation=init.value,
        flow_type=init.flow_type,
        sca=sca,
        code=found.code,
        bank_id=init.bank_id,
        status=S.PENDING,
        reason="Token.io is waiting for the bank",
        created=created,
        updated=created,
        schedule=tuple(steps),
    )
    payment = store_new(store, draft, rng, "pm2", now=now)
    created_change = payment.change(payment.kind, created)  # Token.io notifies creation too
    payment, changes = load(store, payment.id, now=now)
    return payment, [created_change, *changes]


def load(store: Store, payment_id: str, *, now: datetime) -> tuple[Payment, list[StatusChange]]:
    """A payment with every due step applied (written back atomically when any was due)."""
    value = store.get(f.NS_PAYMENT, payment_id, now=now)
    if value is None:
        raise PaymentNotFound(payment_id)
    payment = Payment.from_value(value)
    if not f.due_steps(payment.schedule, _clock(now))[0]:
        return payment, []
    return transition(store, payment_id, None, now=now)


def owned(
    store: Store, member_id: str, payment_id: str, *, now: datetime
) -> tuple[Payment, list[StatusChange]]:
    """The caller's payment; another member's is as unknown as a missing one."""
    payment, changes = load(store, payment_id, now=now)
    if payment.member_id != member_id:
        raise PaymentNotFound(payment_id)
    return payment, changes


def transition(
    store: Store,
    payment_id: str,
    action: Callable[[Payment], Payment] | None,
    *,
    now: datetime,
) -> tuple[Payment, list[StatusChange]]:
    """Atomically: apply due steps, then `action`, then steps it made due; report the changes."""
    at = _clock(now)
    result: dict[str, Any] = {}

    def change(value: dict[str, Any]) -> dict[str, Any]:
        payment, changes = Payment.from_value(value).advance(at)
        if action is not None:
            before = payment.status
            payment = action(payment)
            if payment.status != before:
                changes.append(payment.change(payment.kind, at))
            payment, more = payment.advance(at)
            changes.extend(more)
        result["payment"], result["changes"] = payment, changes
        return payment.to_value()

    if store.update(f.NS_PAYMENT, payment_id, change, now=now) is None:
        raise PaymentNotFound(payment_id)
    f.index_due(store, f.NS_PAYMENT, payment_id, result["payment"].schedule, now=now)
    return result["payment"], result["changes"]


def _require(payment: Payment, *statuses: str) -> None:
    if payment.status not in statuses:
        raise InvalidStatus(
            f"payment {payment.id} is {payment.status}; this needs {' or '.join(statuses)}",
            extra={"paymentId": payment.id},
        )


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
        _require(payment, S.PENDING_REDIRECT_AUTH)
        if not approve:
            declined = payment.with_status(
                S.DECLINED, "The payer declined the payment at the bank", at
            )
            return replace(declined, schedule=())
        return _authorised(payment, at, S.PENDING_REDIRECT_AUTH_VERIFICATION, settings, account_id)

    return transition(store, payment_id, act, now=now)


def choose_bank(
    store: Store, payment_id: str, bank_id: str | None, fixtures: Fixtures, *, now: datetime
) -> tuple[Payment, list[StatusChange]]:
    """On the Hosted Pages the payer picks a bank (or leaves with `bank_id` None)."""
    at = _clock(now)

    def act(payment: Payment) -> Payment:
        _require(payment, S.PENDING_REDIRECT_HP)
        if bank_id is None:
            left = payment.with_status(S.DECLINED, "The payer left the Hosted Pages", at)
            return replace(left, schedule=())
        check_bank(fixtures, bank_id, payment.initiation["localInstrument"], payment.currency)
        timeout = Step(
            at + flow.AUTH_TTL_S,
            S.FAILED,
            "The payer did not authenticate within 15 minutes",
            False,
        )
        waiting = payment.with_status(
            S.PENDING_REDIRECT_AUTH, "Waiting for the payer at the bank", at
        )
        return replace(waiting, bank_id=bank_id, schedule=(timeout,))

    return transition(store, payment_id, act, now=now)


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
    owned(store, member_id, payment_id, now=now)
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
    at = _clock(now)

    def act(payment: Payment) -> Payment:
        _require(payment, S.PENDING_EMBEDDED_AUTH)
        if len(code) == 6 and code.isascii() and code.isdigit() and code != "000000":
            return _authorised(payment, at, S.PENDING_EMBEDDED_AUTH_VERIFICATION, settings, None)
        wrong = payment.wrong_codes + 1
        if wrong >= MAX_WRONG_CODES:
            rejected = payment.with_status(S.REJECTED, "Too many wrong one-time passwords", at)
            return replace(rejected, wrong_codes=wrong, schedule=())
        return replace(payment, wrong_codes=wrong, updated=at)

    return transition(store, payment_id, act, now=now)


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


def sweep(store: Store, *, now: datetime) -> list[StatusChange]:
    """Apply the due steps of every payment that has one (so changes are reported unpolled)."""
    changes = []
    for key in f.due_keys(store, f.NS_PAYMENT, now=now):
        try:
            changes.extend(transition(store, key, None, now=now)[1])
        except PaymentNotFound:  # gone since it was indexed
            store.delete(f.NS_DUE, f"{f.NS_PAYMENT}|{key}")
    return changes
