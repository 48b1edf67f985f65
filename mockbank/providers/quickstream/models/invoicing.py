"""QuickWeb Invoicing: the customer's open invoices, paid in full or in part by one payment.

Invoices reach the real QuickStream by an invoice upload file; mockbank seeds them from
``fixtures/quickstream.json`` (``"invoices"``) into the store, where payments reduce their
outstanding amounts. An allocation is the full or a partial outstanding amount of one invoice;
the allocations of one payment add up to its principal amount.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from mockbank.providers.quickstream.models.common import (
    PAYMENT_NS,
    SESSION_NS,
    Facility,
    amount_problem,
    format_amount,
    parse_amount,
)
from mockbank.providers.quickstream.models.paying import pay
from mockbank.providers.quickstream.models.payment_form import (
    PaymentInvalid,
    check_payment_form,
)
from mockbank.providers.quickstream.models.token_request import load_session
from mockbank.store import Store

if TYPE_CHECKING:
    from mockbank.fixtures import FixtureReader

INVOICE_NS = "quickstream.invoice"
INVOICE_NUMBER = re.compile(r"[A-Za-z0-9_-]{1,50}")
COMMENT_MAX = 200


@dataclass(frozen=True)
class LineItem:
    """One line of an invoice."""

    description: str
    amount: int  # cents

    def to_value(self) -> dict[str, Any]:
        return {"description": self.description, "amount": self.amount}

    @classmethod
    def from_value(cls, value: Mapping[str, Any]) -> LineItem:
        return cls(description=str(value["description"]), amount=int(value["amount"]))


@dataclass(frozen=True)
class Invoice:
    """An invoice the merchant uploaded for one customer (amounts in cents)."""

    facility: str
    customer_reference_number: str
    invoice_number: str
    due_date: str
    amount: int
    outstanding: int
    line_items: tuple[LineItem, ...] = ()

    @property
    def key(self) -> str:
        return f"{self.facility}/{self.invoice_number}"

    def to_value(self) -> dict[str, Any]:
        return {
            "facility": self.facility,
            "customerReferenceNumber": self.customer_reference_number,
            "invoiceNumber": self.invoice_number,
            "dueDate": self.due_date,
            "amount": self.amount,
            "outstanding": self.outstanding,
            "lineItems": [item.to_value() for item in self.line_items],
        }

    @classmethod
    def from_value(cls, value: Mapping[str, Any]) -> Invoice:
        return cls(
            facility=str(value["facility"]),
            customer_reference_number=str(value["customerReferenceNumber"]),
            invoice_number=str(value["invoiceNumber"]),
            due_date=str(value["dueDate"]),
            amount=int(value["amount"]),
            outstanding=int(value["outstanding"]),
            line_items=tuple(LineItem.from_value(v) for v in value.get("lineItems", [])),
        )

    def view(self) -> dict[str, Any]:
        """For the page and the state view: amounts as ``123.45``."""
        return {
            "invoiceNumber": self.invoice_number,
            "customerReferenceNumber": self.customer_reference_number,
            "facility": self.facility,
            "dueDate": self.due_date,
            "amount": format_amount(self.amount),
            "outstandingAmount": format_amount(self.outstanding),
            "status": "OPEN" if self.outstanding > 0 else "CLOSED",
            "lineItems": [
                {"description": i.description, "amount": format_amount(i.amount)}
                for i in self.line_items
            ],
        }


def _fixture_amount(reader: FixtureReader, where: str) -> int:
    cents = parse_amount(reader.get(where, str))
    if cents is None:
        raise reader.fail(where, 'expected a positive amount such as "120.00"')
    return cents


def _read_invoice(reader: FixtureReader, where: str, facilities: set[str]) -> Invoice:
    facility = reader.get(f"{where}.facility", str)
    if facility not in facilities:
        raise reader.fail(f"{where}.facility", f"unknown facility {facility!r}")
    number = reader.get(f"{where}.invoiceNumber", str)
    if not INVOICE_NUMBER.fullmatch(number):
        raise reader.fail(f"{where}.invoiceNumber", "expected 1-50 letters, digits, - or _")
    due = reader.get(f"{where}.dueDate", str)
    try:
        date.fromisoformat(due)
    except ValueError:
        raise reader.fail(f"{where}.dueDate", "expected a date such as 2026-12-31") from None
    amount = _fixture_amount(reader, f"{where}.amount")
    outstanding = amount
    if reader.get(f"{where}.outstandingAmount", str, default=None) is not None:
        outstanding = _fixture_amount(reader, f"{where}.outstandingAmount")
    if outstanding > amount:
        raise reader.fail(f"{where}.outstandingAmount", "must not exceed the amount")
    items = [
        LineItem(
            description=reader.get(f"{item_where}.description", str),
            amount=_fixture_amount(reader, f"{item_where}.amount"),
        )
        for item_where, _ in reader.items(f"{where}.lineItems")
    ]
    return Invoice(
        facility=facility,
        customer_reference_number=reader.get(f"{where}.customerReferenceNumber", str),
        invoice_number=number,
        due_date=due,
        amount=amount,
        outstanding=outstanding,
        line_items=tuple(items),
    )


def read_invoices(reader: FixtureReader, facilities: set[str]) -> tuple[Invoice, ...]:
    """The optional ``"invoices"`` list of the fixtures file, validated."""
    if reader.get("invoices", list, default=None) is None:
        return ()
    invoices: dict[str, Invoice] = {}
    for where, _ in reader.items("invoices"):
        invoice = _read_invoice(reader, where, facilities)
        if invoice.key in invoices:
            raise reader.fail(f"{where}.invoiceNumber", "duplicate invoice number")
        invoices[invoice.key] = invoice
    return tuple(invoices.values())


def seed_invoices(store: Store, invoices: tuple[Invoice, ...], *, now: datetime) -> None:
    """Put the seeded invoices in the store (only where absent: payments are kept)."""
    for invoice in invoices:
        store.add(INVOICE_NS, invoice.key, invoice.to_value(), now=now)


def all_invoices(store: Store) -> list[Invoice]:
    return [Invoice.from_value(r.value) for r in store.records(INVOICE_NS)]


def open_invoices(store: Store, facility: str, customer: str) -> list[Invoice]:
    """The customer's invoices with something left to pay, earliest due first."""
    found = [
        i
        for i in all_invoices(store)
        if i.facility == facility and i.customer_reference_number == customer and i.outstanding
    ]
    return sorted(found, key=lambda i: (i.due_date, i.invoice_number))


def _allocation(
    invoice: Invoice, form: Mapping[str, str], errors: dict[str, str]
) -> dict[str, Any] | None:
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
    return {"invoiceNumber": number, "amount": cents, "comment": comment}


def check_allocations(
    store: Store, facility: str, customer: str, form: Mapping[str, str]
) -> tuple[list[dict[str, Any]], dict[str, str]]:
    """The payer's chosen invoices and amounts, and the inline errors (none: empty)."""
    errors: dict[str, str] = {}
    allocations = []
    for invoice in open_invoices(store, facility, customer):
        if form.get(f"pay-{invoice.invoice_number}"):
            allocation = _allocation(invoice, form, errors)
            if allocation is not None:
                allocations.append(allocation)
    if not allocations and not errors:
        errors["invoices"] = "Choose at least one invoice to pay."
    return allocations, errors


def _apply(store: Store, key: str, cents: int, *, now: datetime) -> int:
    """Reduce one invoice's outstanding amount; returns what is left."""

    def change(value: dict[str, Any]) -> dict[str, Any]:
        # Another customer session may have paid it meanwhile: never below zero.
        value["outstanding"] = max(0, int(value["outstanding"]) - cents)
        return value

    updated = store.update(INVOICE_NS, key, change, now=now)
    return 0 if updated is None else int(updated["outstanding"])


def pay_invoices(
    store: Store,
    facility: Facility,
    session_id: str,
    form: Mapping[str, str],
    *,
    csrf: str,
    binding: str,
    now: datetime,
    new_account_token: Callable[[], str],
) -> dict[str, Any]:
    """Check the allocations and the card or bank form, pay their total once, allocate it.

    Invalid input raises `PaymentInvalid` (everything wrong at once) and changes nothing; a
    declined payment allocates nothing.
    """
    session = load_session(store, session_id, now=now, binding=binding)
    params = session["params"]
    customer = params.get("customerReferenceNumber", "")
    allocations, errors = check_allocations(store, facility.username, customer, form)
    total = sum(a["amount"] for a in allocations)
    paying_form = {**form, "amount": format_amount(total) if total else ""}
    try:
        check_payment_form(facility, params, paying_form, now=now)
    except PaymentInvalid as invalid:
        errors.update({k: v for k, v in invalid.errors.items() if k != "amount"})
    if errors:
        raise PaymentInvalid(errors)
    transaction = pay(
        store,
        facility,
        session_id,
        paying_form,
        csrf=csrf,
        binding=binding,
        now=now,
        new_account_token=new_account_token,
    )
    done: list[dict[str, str]] = []
    if transaction["successFlag"]:
        for allocation in allocations:
            key = f"{facility.username}/{allocation['invoiceNumber']}"
            left = _apply(store, key, allocation["amount"], now=now)
            done.append(
                {
                    "invoiceNumber": allocation["invoiceNumber"],
                    "amount": format_amount(allocation["amount"]),
                    "comment": allocation["comment"],
                    "outstandingAmount": format_amount(left),
                }
            )
    transaction["allocations"] = done
    _keep_allocations(store, session_id, transaction["receiptNumber"], done, now=now)
    return transaction


def _keep_allocations(
    store: Store, session_id: str, receipt: str, done: list[dict[str, str]], *, now: datetime
) -> None:
    def on_session(value: dict[str, Any]) -> dict[str, Any]:
        value["transaction"]["allocations"] = done
        return value

    def on_payment(value: dict[str, Any]) -> dict[str, Any]:
        value["allocations"] = done
        return value

    store.update(SESSION_NS, session_id, on_session, now=now)
    store.update(PAYMENT_NS, receipt, on_payment, now=now)
