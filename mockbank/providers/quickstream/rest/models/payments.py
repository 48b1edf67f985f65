"""Transactions: payments and pre-authorisations, then capture, refund and void of them.

Everything goes through ``POST /transactions`` with a ``transactionType`` (PAYMENT, PREAUTH,
CAPTURE, REFUND, VOID); the last three name their parent with ``parentReceiptNumber``. Card
outcomes come from the QuickWeb test table (`card_outcome`: the last two digits), so the
hosted page and the REST API answer a test card alike. A decline is a processed transaction.
"""

from __future__ import annotations

from datetime import datetime, time
from typing import Any, TypedDict

from mockbank.clients.quickstream import CURRENCIES
from mockbank.providers.quickstream.models import common, paying, payment_form
from mockbank.providers.quickstream.models.common import Facility
from mockbank.providers.quickstream.rest.errors import invalid
from mockbank.providers.quickstream.rest.models import customers, tokens
from mockbank.providers.quickstream.rest.models.fields import Body
from mockbank.providers.quickstream.rest.records import (
    NS_TRANSACTION,
    PaymentAccount,
    Status,
    Transaction,
    TransactionType,
)
from mockbank.store import Store, add_new

ECIS = ("INTERNET", "PHONE", "MAIL", "RECURRING")
SOURCES = ("singleUseTokenId", "accountToken", "customerId")
FOLLOW_UPS = (TransactionType.CAPTURE, TransactionType.REFUND, TransactionType.VOID)


class Timing(TypedDict):
    """A transaction's time fields (as `Transaction` names them)."""

    created: str
    settles_at: str
    settlement_date: str
    transaction_time: str


def timing(now: datetime) -> Timing:
    """A new transaction's times: created now, settlementDate (``2017-01-01``), the instant
    it settles (the 18:00 Sydney cut-off), and transactionTime, in Sydney."""
    day = common.settlement_date(now)
    iso_day = f"{day[:4]}-{day[4:6]}-{day[6:]}"
    local = common.sydney(now)
    cutoff = datetime.combine(datetime.fromisoformat(iso_day).date(), time(18), local.tzinfo)
    return {
        "created": now.isoformat(),
        "settles_at": cutoff.isoformat(),
        "settlement_date": iso_day,
        "transaction_time": local.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }


def _surcharge(facility: Facility, account: PaymentAccount, cents: int) -> int:
    """The card's surcharge on `cents` at the facility's rate for its scheme (bank: none)."""
    if account.card is None:
        return 0
    return common.surcharge_cents(cents, facility.surcharges_bp.get(account.card.scheme, 0))


def create_transaction(
    store: Store, facility: Facility, data: dict[str, Any], *, now: datetime
) -> Transaction:
    """Process one transaction request; a 422 (nothing processed) when it is invalid."""
    body = Body(data)
    kind = body.choice("transactionType", tuple(TransactionType), required=True)
    body.check()
    transaction_type = TransactionType(kind or "")
    if transaction_type in FOLLOW_UPS:
        return _follow_up(store, facility, body, transaction_type, now=now)
    return _pay(store, facility, body, transaction_type, now=now)


def _common(body: Body, facility: Facility, *, required: bool = True) -> dict[str, Any]:
    return {
        "supplier_business_code": tokens.supplier_code(body, facility, required=required),
        "customer_reference_number": body.text("customerReferenceNumber", max_length=100),
        "payment_reference_number": body.text("paymentReferenceNumber", max_length=100),
        "comment": body.text("comment", max_length=255),
        "ip_address": body.text("ipAddress", max_length=45),
    }


def _pay(
    store: Store, facility: Facility, body: Body, kind: TransactionType, *, now: datetime
) -> Transaction:
    fields = _common(body, facility)
    principal = body.amount("principalAmount")
    currency = body.choice("currency", CURRENCIES, required=True)
    eci = body.choice("eci", ECIS, required=True)
    given = [name for name in SOURCES if body.data.get(name) not in (None, "")]
    if len(given) != 1:
        body.fail(
            given[1] if len(given) > 1 else "singleUseTokenId",
            "Send exactly one of singleUseTokenId, accountToken or customerId.",
        )
    body.check()
    source = given[0]
    value = body.text(source, max_length=255) or ""
    body.check()
    account, account_token, customer_id = _peek_source(store, facility, source, value, now=now)
    if kind == TransactionType.PREAUTH and account.card is None:
        raise invalid(source, value, "A pre-authorisation needs a card account.")
    if source == "singleUseTokenId":
        account = tokens.take_token(store, facility, value, now=now).account
    code, description, summary = _outcome(account)
    transaction = Transaction(
        receipt_number=paying.next_receipt_number(store, now=now),
        facility=facility.username,
        transaction_type=kind,
        status=Status.APPROVED if summary == "0" else Status.DECLINED,
        response_code=code,
        response_description=description,
        summary_code=summary,
        currency=currency or "AUD",
        principal=principal or 0,
        surcharge=_surcharge(facility, account, principal or 0),
        account=account,
        **timing(now),
        eci=eci,
        account_token=account_token,
        customer_id=customer_id,
        **fields,
    )
    add_new(store, NS_TRANSACTION, transaction.receipt_number, transaction.to_value(), now=now)
    return transaction


def _peek_source(
    store: Store, facility: Facility, source: str, value: str, *, now: datetime
) -> tuple[PaymentAccount, str | None, str | None]:
    """The account a payment would use, checked but not yet consumed."""
    if source == "singleUseTokenId":
        return tokens.check_token(store, facility, value, now=now).account, None, None
    if source == "accountToken":
        account = customers.find_account(store, facility, value)
        if account is None:
            raise invalid("accountToken", value, "accountToken is not valid.")
        return account.account, account.account_token, account.customer_id or None
    default = customers.default_account(store, facility, value)
    if default is None:
        raise invalid("customerId", value, "customerId has no enabled default account.")
    return default.account, default.account_token, default.customer_id


def _outcome(account: PaymentAccount) -> tuple[str, str, str]:
    if account.card is None:
        return (*common.BANK_APPROVED, common.SummaryCode.APPROVED.value)
    code, description, summary = payment_form.card_outcome(account.card.last_four)
    return code, description, summary.value


def get_transaction(store: Store, facility: Facility, receipt_number: str) -> Transaction | None:
    """A transaction of this facility by receipt number."""
    record = store.record(NS_TRANSACTION, receipt_number)
    if record is None or record.value.get("facility") != facility.username:
        return None
    return Transaction.from_value(record.value)


def list_transactions(
    store: Store, facility: Facility, filters: dict[str, str]
) -> list[Transaction]:
    """This facility's transactions, newest first, filtered by exact field values."""
    found = [
        Transaction.from_value(r.value)
        for r in store.records(NS_TRANSACTION)
        if r.value.get("facility") == facility.username
    ]
    for name, attribute in (
        ("transactionType", "transaction_type"),
        ("customerReferenceNumber", "customer_reference_number"),
        ("paymentReferenceNumber", "payment_reference_number"),
        ("status", "status"),
        ("parentReceiptNumber", "parent_receipt_number"),
    ):
        if filters.get(name):
            found = [t for t in found if str(getattr(t, attribute)) == filters[name]]
    return sorted(found, key=lambda t: (t.created, t.receipt_number), reverse=True)


def _follow_up(
    store: Store, facility: Facility, body: Body, kind: TransactionType, *, now: datetime
) -> Transaction:
    # A follow-up belongs to its parent's business unless it names one.
    fields = _common(body, facility, required=False)
    parent_number = body.text("parentReceiptNumber", required=True, max_length=64)
    amount = body.amount("principalAmount", required=kind == TransactionType.REFUND)
    body.check()
    parent = get_transaction(store, facility, parent_number or "")
    if parent is None:
        raise invalid(
            "parentReceiptNumber",
            parent_number,
            "parentReceiptNumber is not a transaction of yours.",
        )
    amount = _check_follow_up(parent, kind, amount, now=now)
    receipt = paying.next_receipt_number(store, now=now)

    def change(value: dict[str, Any]) -> dict[str, Any]:
        # Checked again inside the atomic update: two refunds racing cannot overdraw it.
        current = Transaction.from_value(value)
        _check_follow_up(current, kind, amount, now=now)
        if kind == TransactionType.REFUND:
            current = current.with_changes(refunded=current.refunded + amount)
        elif kind == TransactionType.CAPTURE:
            current = current.with_changes(captured=amount)
        else:
            current = current.with_changes(voided=True)
        return current.to_value()

    store.update(NS_TRANSACTION, parent.receipt_number, change, now=now)
    return _child(store, facility, parent, kind, amount, receipt, fields, now=now)


def _check_follow_up(
    parent: Transaction, kind: TransactionType, amount: int | None, *, now: datetime
) -> int:
    """The amount the follow-up moves; a 422 when the parent does not allow it."""
    number = parent.receipt_number
    if kind == TransactionType.VOID:
        if not parent.voidable(now):
            raise invalid("parentReceiptNumber", number, "This transaction is not voidable.")
        return parent.principal
    if kind == TransactionType.CAPTURE:
        if not parent.capturable():
            raise invalid(
                "parentReceiptNumber",
                number,
                "Only an approved, uncaptured PREAUTH can be captured.",
            )
        if amount is not None and amount > parent.principal:
            raise invalid(
                "principalAmount",
                amount / 100,
                "principalAmount exceeds the pre-authorised amount.",
            )
        return parent.principal if amount is None else amount
    if not parent.refundable():
        raise invalid("parentReceiptNumber", number, "This transaction is not refundable.")
    left = parent.principal - parent.refunded
    if amount is None or amount > left:
        raise invalid(
            "principalAmount",
            None if amount is None else f"{amount / 100:.2f}",
            f"principalAmount exceeds the amount left to refund ({common.format_amount(left)}).",
        )
    return amount


def _child(
    store: Store,
    facility: Facility,
    parent: Transaction,
    kind: TransactionType,
    amount: int,
    receipt: str,
    fields: dict[str, Any],
    *,
    now: datetime,
) -> Transaction:
    code, description, _ = _outcome(parent.account)
    if parent.account.card is not None:
        code, description = common.APPROVED_RESPONSE
    surcharge = 0
    if kind == TransactionType.CAPTURE:
        surcharge = _surcharge(facility, parent.account, amount)
    given = {k: v for k, v in fields.items() if v is not None}
    child = parent.with_changes(
        receipt_number=receipt,
        transaction_type=kind,
        status=Status.APPROVED,
        response_code=code,
        response_description=description,
        summary_code=common.SummaryCode.APPROVED.value,
        principal=amount,
        surcharge=surcharge,
        **timing(now),
        parent_receipt_number=parent.receipt_number,
        refunded=0,
        captured=0,
        voided=False,
        **given,
    )
    add_new(store, NS_TRANSACTION, receipt, child.to_value(), now=now)
    return child
