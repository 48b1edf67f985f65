"""QuickWeb Invoicing's invoices as kept (amounts in cents)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from mockbank.providers.quickstream.models.common import format_amount
from mockbank.records import Record


@dataclass(frozen=True)
class LineItem(Record):
    """One line of an invoice."""

    description: str
    amount: int  # cents


@dataclass(frozen=True)
class Invoice(Record):
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

    def public(self) -> dict[str, Any]:
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
