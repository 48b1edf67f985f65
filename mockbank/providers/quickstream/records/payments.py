"""Payments as kept: the paid account, the transaction, the merchant's payment record,
QuickVault accounts and invoice allocations."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Self

from mockbank.providers.quickstream.records import (
    BANK_FIELDS,
    CARD_FIELDS,
    OUTCOME_FIELDS,
    optional_text,
)


@dataclass(frozen=True)
class PaidAccount:
    """The card or bank account a payer used, masked: ``method`` is ``card`` or ``bank``."""

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
class Allocation:
    """QuickWeb Invoicing: what one payment paid on one invoice, and what is left."""

    invoice_number: str
    amount: str
    comment: str
    outstanding_amount: str

    def to_value(self) -> dict[str, str]:
        return {
            "invoiceNumber": self.invoice_number,
            "amount": self.amount,
            "comment": self.comment,
            "outstandingAmount": self.outstanding_amount,
        }

    @classmethod
    def from_value(cls, value: Mapping[str, Any]) -> Self:
        return cls(
            invoice_number=str(value["invoiceNumber"]),
            amount=str(value["amount"]),
            comment=str(value["comment"]),
            outstanding_amount=str(value["outstandingAmount"]),
        )


@dataclass(frozen=True)
class Transaction:
    """One payment's outcome: amounts, response, dates and the (masked) account paid with."""

    receipt_number: str
    account: PaidAccount
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
    account_token: str | None = None
    allocations: tuple[Allocation, ...] | None = None  # QuickWeb Invoicing only

    @property
    def approved(self) -> bool:
        return self.summary_code == "0"

    def outcome(self) -> dict[str, str]:
        """The `OUTCOME_FIELDS` (a recurring setup's ``firstPayment``)."""
        value = self.to_value()
        return {name: value[name] for name in OUTCOME_FIELDS}

    def to_value(self) -> dict[str, Any]:
        value: dict[str, Any] = {
            "receiptNumber": self.receipt_number,
            "method": self.account.method,
            "principalAmount": self.principal_amount,
            "surchargeAmount": self.surcharge_amount,
            "paymentAmount": self.payment_amount,
            "currencyCode": self.currency_code,
            "responseCode": self.response_code,
            "responseDescription": self.response_description,
            "summaryCode": self.summary_code,
            "successFlag": self.approved,
            "createdDateTime": self.created_date_time,
            "settlementDate": self.settlement_date,
            "createdAt": self.created_at,
            **self.account.details(),
        }
        if self.account_token is not None:
            value["accountToken"] = self.account_token
        if self.allocations is not None:
            value["allocations"] = [a.to_value() for a in self.allocations]
        return value

    @classmethod
    def from_value(cls, value: Mapping[str, Any]) -> Self:
        allocations = value.get("allocations")
        return cls(
            receipt_number=str(value["receiptNumber"]),
            account=PaidAccount.from_value(value),
            principal_amount=str(value["principalAmount"]),
            surcharge_amount=str(value["surchargeAmount"]),
            payment_amount=str(value["paymentAmount"]),
            currency_code=str(value["currencyCode"]),
            response_code=str(value["responseCode"]),
            response_description=str(value["responseDescription"]),
            summary_code=str(value["summaryCode"]),
            created_date_time=str(value["createdDateTime"]),
            settlement_date=str(value["settlementDate"]),
            created_at=str(value["createdAt"]),
            account_token=optional_text(value, "accountToken"),
            allocations=None
            if allocations is None
            else tuple(Allocation.from_value(a) for a in allocations),
        )


@dataclass(frozen=True)
class Payment:
    """A payment as the merchant's records show it: the transaction and whose it is."""

    transaction: Transaction
    facility: str
    community_code: str
    supplier_business_code: str
    customer_reference_number: str
    payment_reference: str
    session: str = ""  # the first characters of the payment session, when there was one
    schedule_id: str | None = None  # a QuickWeb Recurring first payment's schedule

    def to_value(self) -> dict[str, Any]:
        value = {
            **self.transaction.to_value(),
            "facility": self.facility,
            "communityCode": self.community_code,
            "supplierBusinessCode": self.supplier_business_code,
            "customerReferenceNumber": self.customer_reference_number,
            "paymentReference": self.payment_reference,
        }
        if self.session:
            value["session"] = self.session
        if self.schedule_id is not None:
            value["scheduleId"] = self.schedule_id
        return value

    @classmethod
    def from_value(cls, value: Mapping[str, Any]) -> Self:
        return cls(
            transaction=Transaction.from_value(value),
            facility=str(value["facility"]),
            community_code=str(value["communityCode"]),
            supplier_business_code=str(value["supplierBusinessCode"]),
            customer_reference_number=str(value["customerReferenceNumber"]),
            payment_reference=str(value.get("paymentReference", "")),
            session=str(value.get("session", "")),
            schedule_id=optional_text(value, "scheduleId"),
        )


@dataclass(frozen=True)
class VaultAccount:
    """A payment account kept in QuickVault under its accountToken (masked)."""

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
