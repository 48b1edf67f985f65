"""QuickWeb Invoicing's invoices as kept (amounts in cents)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Self

from mockbank.providers.quickstream.models.common import format_amount


@dataclass(frozen=True)
class LineItem:
    """One line of an invoice."""

    description: str
    amount: int  # cents

    def to_value(self) -> dict[str, Any]:
        return {"description": self.description, "amount": self.amount}

    @classmethod
    def from_value(cls, value: Mapping[str, Any]) -> Self:
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
    def from_value(cls, value: Mapping[str, Any]) -> Self:
        return cls(
            facility=str(value["facility"]),
            customer_reference_number=str(value["customerReferenceNumber"]),
            invoice_number=str(value["invoiceNumber"]),
            due_date=str(value["dueDate"]),
            amount=int(value["amount"]),
            outstanding=int(value["outstanding"]),
            line_items=tuple(LineItem.from_value(v) for v in value.get("lineItems", [])),
        )

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
