"""Payments as kept: the paid account, the transaction, the merchant's payment record,
QuickVault accounts and invoice allocations."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated, Any, Self

from mockbank.providers.quickstream.records import (
    BANK_FIELDS,
    CARD_FIELDS,
    OUTCOME_FIELDS,
)
from mockbank.records import Record, Stored


@dataclass(frozen=True)
class PaidAccount(Record):
    """The card or bank account a payer used, masked: ``method`` is ``card`` or ``bank``.

    Its stored keys depend on ``method`` (a card's or a bank account's, never both), so it
    writes and reads them itself.
    """

    method: str
    cardholder_name: str = ""
    masked_card_number: str = ""
    card_scheme: str = ""
    expiry_month: str = ""
    expiry_year: str = ""
    account_name: str = ""
    bsb: str = ""
    masked_account_number: str = ""

    @property
    def is_card(self) -> bool:
        return self.method == "card"

    @property
    def account_type(self) -> str:
        """QuickVault's accountType for this account."""
        return "CREDIT_CARD" if self.is_card else "DIRECT_DEBIT"

    def details(self) -> dict[str, str]:
        """The method's fields only, in the documented order (`CARD_FIELDS` or `BANK_FIELDS`)."""
        if self.is_card:
            values = (
                self.cardholder_name,
                self.masked_card_number,
                self.card_scheme,
                self.expiry_month,
                self.expiry_year,
            )
            return dict(zip(CARD_FIELDS, values, strict=True))
        bank = (self.account_name, self.bsb, self.masked_account_number)
        return dict(zip(BANK_FIELDS, bank, strict=True))

    def described(self) -> str:
        """``VISA 424242...242`` or ``BSB 032-000 account *****678``, for a receipt."""
        if self.is_card:
            return f"{self.card_scheme} {self.masked_card_number}"
        return f"BSB {self.bsb} account {self.masked_account_number}"

    def to_value(self) -> dict[str, Any]:
        return {"method": self.method, **self.details()}

    @classmethod
    def from_value(cls, value: Mapping[str, Any]) -> Self:
        if value["method"] == "card":
            return cls(
                "card",
                cardholder_name=str(value["cardholderName"]),
                masked_card_number=str(value["maskedCardNumber"]),
                card_scheme=str(value["cardScheme"]),
                expiry_month=str(value["expiryDateMonth"]),
                expiry_year=str(value["expiryDateYear"]),
            )
        return cls(
            "bank",
            account_name=str(value["accountName"]),
            bsb=str(value["bsb"]),
            masked_account_number=str(value["maskedAccountNumber"]),
        )


@dataclass(frozen=True)
class Allocation(Record):
    """QuickWeb Invoicing: what one payment paid on one invoice, and what is left."""

    invoice_number: str
    amount: str
    comment: str
    outstanding_amount: str


@dataclass(frozen=True)
class Transaction(Record):
    """One payment's outcome: amounts, response, dates and the (masked) account paid with."""

    receipt_number: str
    account: Annotated[PaidAccount, Stored(flat=True)]
    principal_amount: str
    surcharge_amount: str
    payment_amount: str
    currency_code: str
    response_code: str
    response_description: str
    summary_code: str
    created_date_time: str
    settlement_date: str
    created_at: str
    account_token: Annotated[str | None, Stored(omit=True)] = None
    # QuickWeb Invoicing only
    allocations: Annotated[tuple[Allocation, ...] | None, Stored(omit=True)] = None

    @property
    def approved(self) -> bool:
        return self.summary_code == "0"

    def outcome(self) -> dict[str, str]:
        """The `OUTCOME_FIELDS` (a recurring setup's ``firstPayment``)."""
        value = self.to_value()
        return {name: value[name] for name in OUTCOME_FIELDS}

    def to_value(self) -> dict[str, Any]:
        """The fields' stored value and ``successFlag``, which is derived (never read back)."""
        return super().to_value() | {"successFlag": self.approved}


@dataclass(frozen=True)
class Payment(Record):
    """A payment as the merchant's records show it: the transaction and whose it is."""

    transaction: Annotated[Transaction, Stored(flat=True)]
    facility: str
    community_code: str
    supplier_business_code: str
    customer_reference_number: str
    payment_reference: Annotated[str, Stored(absent="")]
    # the first characters of the payment session, when there was one
    session: Annotated[str, Stored(omit=True)] = ""
    # a QuickWeb Recurring first payment's schedule
    schedule_id: Annotated[str | None, Stored(omit=True)] = None


@dataclass(frozen=True)
class VaultAccount(Record):
    """A payment account kept in QuickVault under its accountToken (masked).

    It keeps the account's ``accountType`` where the others keep its ``method``, so it writes
    and reads its value itself.
    """

    account_token: str
    facility: str
    customer_reference_number: str
    account: PaidAccount
    created_at: str

    def to_value(self) -> dict[str, Any]:
        return {
            "accountToken": self.account_token,
            "facility": self.facility,
            "customerReferenceNumber": self.customer_reference_number,
            "accountType": self.account.account_type,
            "createdAt": self.created_at,
            **self.account.details(),
        }

    @classmethod
    def from_value(cls, value: Mapping[str, Any]) -> Self:
        method = "card" if value["accountType"] == "CREDIT_CARD" else "bank"
        return cls(
            account_token=str(value["accountToken"]),
            facility=str(value["facility"]),
            customer_reference_number=str(value["customerReferenceNumber"]),
            account=PaidAccount.from_value({**value, "method": method}),
            created_at=str(value["createdAt"]),
        )
