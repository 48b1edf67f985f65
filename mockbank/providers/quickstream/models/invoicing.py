"""QuickWeb Invoicing: the customer's open invoices, paid in full or in part by one payment.

Invoices reach the real QuickStream by an invoice upload file; mockbank seeds them from
``fixtures/quickstream.json`` (``"invoices"``) into the store, where payments reduce their
outstanding amounts. An allocation is the full or a partial outstanding amount of one invoice;
the allocations of one payment add up to its principal amount.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from mockbank.providers.quickstream.models.common import (
    Facility,
    amount_problem,
    format_amount,
    parse_amount,
)
from mockbank.providers.quickstream.models.paying import Submission, pay
from mockbank.providers.quickstream.models.payment_form import (
    PaymentInvalid,
    check_payment_form,
)
from mockbank.providers.quickstream.models.token_request import load_session
from mockbank.providers.quickstream.records import NS_INVOICE, NS_PAYMENT, NS_SESSION
from mockbank.providers.quickstream.records.invoices import Invoice
from mockbank.providers.quickstream.records.payments import Allocation, Payment, Transaction
from mockbank.providers.quickstream.records.sessions import Session
from mockbank.store import Store

COMMENT_MAX = 200


def seed_invoices(store: Store, invoices: tuple[Invoice, ...], *, now: datetime) -> None:
    """Put the seeded invoices in the store (only where absent: payments are kept)."""
    for invoice in invoices:
        store.add(NS_INVOICE, invoice.key, invoice.to_value(), now=now)


def all_invoices(store: Store) -> list[Invoice]:
    return [Invoice.from_value(r.value) for r in store.records(NS_INVOICE)]


def open_invoices(store: Store, facility: str, customer: str) -> list[Invoice]:
    """The customer's invoices with something left to pay, earliest due first."""
    found = [
        i
        for i in all_invoices(store)
        if i.facility == facility and i.customer_reference_number == customer and i.outstanding
    ]
    return sorted(found, key=lambda i: (i.due_date, i.invoice_number))


@dataclass(frozen=True)
class Chosen:
    """One invoice the payer chose to pay, and how much (cents) with what comment."""

    invoice_number: str
    cents: int
    comment: str


def _allocation(invoice: Invoice, form: Mapping[str, str], errors: dict[str, str]) -> Chosen | None:
    number = invoice.invoice_number
    text = form.get(f"amount-{number}", "").strip().removeprefix("$")
    cents = parse_amount(text)
    if cents is None:
        errors[f"amount-{number}"] = amount_problem(text)
        return None
    if cents > invoice.outstanding:
        errors[f"amount-{number}"] = (
            f"Invoice {number} has {format_amount(invoice.outstanding)} outstanding; "
            "pay at most that."
        )
        return None
    comment = form.get(f"comment-{number}", "").strip()
    if len(comment) > COMMENT_MAX:
        errors[f"comment-{number}"] = f"Keep the comment to at most {COMMENT_MAX} characters."
        return None
    return Chosen(number, cents, comment)


def check_allocations(
    store: Store, facility: str, customer: str, form: Mapping[str, str]
) -> tuple[list[Chosen], dict[str, str]]:
    """The payer's chosen invoices and amounts, and the inline errors (none: empty)."""
    errors: dict[str, str] = {}
    chosen = []
    for invoice in open_invoices(store, facility, customer):
        if form.get(f"pay-{invoice.invoice_number}"):
            allocation = _allocation(invoice, form, errors)
            if allocation is not None:
                chosen.append(allocation)
    if not chosen and not errors:
        errors["invoices"] = "Choose at least one invoice to pay."
    return chosen, errors


def _apply(store: Store, key: str, cents: int, *, now: datetime) -> int:
    """Reduce one invoice's outstanding amount; returns what is left."""

    def change(value: dict[str, Any]) -> dict[str, Any]:
        # Another customer session may have paid it meanwhile: never below zero.
        value["outstanding"] = max(0, int(value["outstanding"]) - cents)
        return value

    updated = store.update(NS_INVOICE, key, change, now=now)
    return 0 if updated is None else int(updated["outstanding"])


def pay_invoices(store: Store, facility: Facility, sent: Submission) -> Transaction:
    """Check the allocations and the card or bank form, pay their total once, allocate it.

    Invalid input raises `PaymentInvalid` (everything wrong at once) and changes nothing; a
    declined payment allocates nothing.
    """
    now = sent.now
    session = load_session(store, sent.session_id, now=now, binding=sent.binding)
    params = session.params
    customer = params.get("customerReferenceNumber", "")
    chosen, errors = check_allocations(store, facility.username, customer, sent.form)
    total = sum(c.cents for c in chosen)
    paying_form = {**sent.form, "amount": format_amount(total) if total else ""}
    try:
        check_payment_form(facility, params, paying_form, now=now)
    except PaymentInvalid as invalid:
        errors.update({k: v for k, v in invalid.errors.items() if k != "amount"})
    if errors:
        raise PaymentInvalid(errors)
    transaction = pay(store, facility, replace(sent, form=paying_form))
    done: list[Allocation] = []
    if transaction.approved:
        for c in chosen:
            left = _apply(store, f"{facility.username}/{c.invoice_number}", c.cents, now=now)
            amount, outstanding = format_amount(c.cents), format_amount(left)
            done.append(Allocation(c.invoice_number, amount, c.comment, outstanding))
    transaction = replace(transaction, allocations=tuple(done))
    _keep_allocations(store, sent.session_id, transaction, now=now)
    return transaction


def _keep_allocations(
    store: Store, session_id: str, transaction: Transaction, *, now: datetime
) -> None:
    def on_session(value: dict[str, Any]) -> dict[str, Any]:
        return replace(Session.from_value(value), completed=transaction).to_value()

    def on_payment(value: dict[str, Any]) -> dict[str, Any]:
        return replace(Payment.from_value(value), transaction=transaction).to_value()

    store.update(NS_SESSION, session_id, on_session, now=now)
    store.update(NS_PAYMENT, transaction.receipt_number, on_payment, now=now)
