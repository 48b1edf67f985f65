"""What the REST API stores: frozen records with ``to_value()``/``from_value()``.

Only these classes know the stored shape; `wire.py` knows Westpac's spelling. No record holds a
full card number or a CVN: a card is kept as its masked number, last four digits (the test
outcome reads the last two), scheme and expiry.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from typing import Any

NS_TOKEN = "quickstream.rest.token"
NS_TRANSACTION = "quickstream.rest.transaction"
NS_CUSTOMER = "quickstream.rest.customer"
NS_ACCOUNT = "quickstream.rest.account"
NS_IDEMPOTENCY = "quickstream.rest.idempotency"
NS_CUSTOMER_NUMBER = "quickstream.rest.customer-number"


class AccountType(StrEnum):
    CREDIT_CARD = "CREDIT_CARD"
    DIRECT_DEBIT = "DIRECT_DEBIT"


class TransactionType(StrEnum):
    PAYMENT = "PAYMENT"
    PREAUTH = "PREAUTH"
    CAPTURE = "CAPTURE"
    REFUND = "REFUND"
    VOID = "VOID"


class Status(StrEnum):
    APPROVED = "Approved"
    DECLINED = "Declined"


@dataclass(frozen=True)
class Card:
    """A card as kept: masked (``424242...242``), last four, scheme, expiry, holder."""

    masked: str
    last_four: str
    scheme: str
    expiry_month: str
    expiry_year: str
    cardholder_name: str

    def to_value(self) -> dict[str, Any]:
        return {
            "masked": self.masked,
            "lastFour": self.last_four,
            "scheme": self.scheme,
            "expiryMonth": self.expiry_month,
            "expiryYear": self.expiry_year,
            "cardholderName": self.cardholder_name,
        }

    @classmethod
    def from_value(cls, value: dict[str, Any]) -> Card:
        return cls(
            masked=value["masked"],
            last_four=value["lastFour"],
            scheme=value["scheme"],
            expiry_month=value["expiryMonth"],
            expiry_year=value["expiryYear"],
            cardholder_name=value["cardholderName"],
        )


@dataclass(frozen=True)
class BankAccount:
    """An Australian bank account as kept: name, BSB ``032-000``, masked number."""

    account_name: str
    bsb: str
    masked_number: str

    def to_value(self) -> dict[str, Any]:
        return {"accountName": self.account_name, "bsb": self.bsb, "masked": self.masked_number}

    @classmethod
    def from_value(cls, value: dict[str, Any]) -> BankAccount:
        return cls(value["accountName"], value["bsb"], value["masked"])


@dataclass(frozen=True)
class PaymentAccount:
    """A card or a bank account (exactly one is set)."""

    card: Card | None = None
    bank: BankAccount | None = None

    @property
    def account_type(self) -> AccountType:
        return AccountType.CREDIT_CARD if self.card else AccountType.DIRECT_DEBIT

    def to_value(self) -> dict[str, Any]:
        return {
            "card": self.card.to_value() if self.card else None,
            "bank": self.bank.to_value() if self.bank else None,
        }

    @classmethod
    def from_value(cls, value: dict[str, Any]) -> PaymentAccount:
        return cls(
            card=Card.from_value(value["card"]) if value.get("card") else None,
            bank=BankAccount.from_value(value["bank"]) if value.get("bank") else None,
        )


@dataclass(frozen=True)
class SingleUseToken:
    """A single-use token: usable once (the store's take-once), for 10 minutes."""

    token_id: str
    facility: str
    supplier_business_code: str
    account: PaymentAccount
    created: str

    def to_value(self) -> dict[str, Any]:
        return {
            "id": self.token_id,
            "facility": self.facility,
            "supplierBusinessCode": self.supplier_business_code,
            "account": self.account.to_value(),
            "created": self.created,
        }

    @classmethod
    def from_value(cls, value: dict[str, Any]) -> SingleUseToken:
        return cls(
            token_id=value["id"],
            facility=value["facility"],
            supplier_business_code=value["supplierBusinessCode"],
            account=PaymentAccount.from_value(value["account"]),
            created=value["created"],
        )


@dataclass(frozen=True)
class Customer:
    """A QuickStream customer of one facility."""

    customer_id: str
    facility: str
    customer_number: str
    customer_name: str
    supplier_business_code: str
    email_address: str | None
    phone_number: str | None
    created: str

    def to_value(self) -> dict[str, Any]:
        return {
            "id": self.customer_id,
            "facility": self.facility,
            "customerNumber": self.customer_number,
            "customerName": self.customer_name,
            "supplierBusinessCode": self.supplier_business_code,
            "emailAddress": self.email_address,
            "phoneNumber": self.phone_number,
            "created": self.created,
        }

    @classmethod
    def from_value(cls, value: dict[str, Any]) -> Customer:
        return cls(
            customer_id=value["id"],
            facility=value["facility"],
            customer_number=value["customerNumber"],
            customer_name=value["customerName"],
            supplier_business_code=value["supplierBusinessCode"],
            email_address=value.get("emailAddress"),
            phone_number=value.get("phoneNumber"),
            created=value["created"],
        )


@dataclass(frozen=True)
class Account:
    """A QuickVault account registered through the REST API (from a single-use token)."""

    account_token: str
    facility: str
    customer_id: str
    account: PaymentAccount
    default_account: bool
    created: str

    def to_value(self) -> dict[str, Any]:
        return {
            "accountToken": self.account_token,
            "facility": self.facility,
            "customerId": self.customer_id,
            "account": self.account.to_value(),
            "defaultAccount": self.default_account,
            "created": self.created,
        }

    @classmethod
    def from_value(cls, value: dict[str, Any]) -> Account:
        return cls(
            account_token=value["accountToken"],
            facility=value["facility"],
            customer_id=value["customerId"],
            account=PaymentAccount.from_value(value["account"]),
            default_account=bool(value["defaultAccount"]),
            created=value["created"],
        )


@dataclass(frozen=True)
class Transaction:
    """One processed transaction (a decline included); amounts in cents."""

    receipt_number: str
    facility: str
    transaction_type: TransactionType
    status: Status
    response_code: str
    response_description: str
    summary_code: str
    supplier_business_code: str
    currency: str
    principal: int
    surcharge: int
    account: PaymentAccount
    created: str
    settles_at: str
    settlement_date: str
    transaction_time: str
    customer_reference_number: str | None = None
    payment_reference_number: str | None = None
    comment: str | None = None
    eci: str | None = None
    ip_address: str | None = None
    account_token: str | None = None
    customer_id: str | None = None
    parent_receipt_number: str | None = None
    refunded: int = 0
    captured: int = 0
    voided: bool = False

    @property
    def approved(self) -> bool:
        return self.status == Status.APPROVED

    def settled(self, now: datetime) -> bool:
        return now >= datetime.fromisoformat(self.settles_at)

    def voidable(self, now: datetime) -> bool:
        """Cancellable before settlement, unless already voided, refunded or captured."""
        if not self.approved or self.voided or self.refunded or self.captured:
            return False
        if self.transaction_type in (TransactionType.REFUND, TransactionType.VOID):
            return False
        return not self.settled(now)

    def refundable(self) -> bool:
        """An approved payment or capture with principal left to refund."""
        if not self.approved or self.voided:
            return False
        kinds = (TransactionType.PAYMENT, TransactionType.CAPTURE)
        return self.transaction_type in kinds and self.refunded < self.principal

    def capturable(self) -> bool:
        """An approved pre-authorisation not yet captured or voided."""
        return (
            self.approved
            and self.transaction_type == TransactionType.PREAUTH
            and not self.voided
            and not self.captured
        )

    def with_changes(self, **changes: Any) -> Transaction:
        return replace(self, **changes)

    def to_value(self) -> dict[str, Any]:
        value = {
            name: getattr(self, name)
            for name in self.__dataclass_fields__
            if name not in ("account", "transaction_type", "status")
        }
        value["account"] = self.account.to_value()
        value["transaction_type"] = self.transaction_type.value
        value["status"] = self.status.value
        return value

    @classmethod
    def from_value(cls, value: dict[str, Any]) -> Transaction:
        fields = {k: v for k, v in value.items() if k in cls.__dataclass_fields__}
        fields["account"] = PaymentAccount.from_value(value["account"])
        fields["transaction_type"] = TransactionType(value["transaction_type"])
        fields["status"] = Status(value["status"])
        return cls(**fields)


@dataclass(frozen=True)
class IdempotencyEntry:
    """An Idempotency-Key: the request it was first sent with and, once done, the answer."""

    key: str
    facility: str
    fingerprint: str
    created: str
    response_status: int | None = None
    response_body: dict[str, Any] | None = None
    receipt_number: str | None = None

    @property
    def done(self) -> bool:
        return self.response_status is not None

    def to_value(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "facility": self.facility,
            "fingerprint": self.fingerprint,
            "created": self.created,
            "responseStatus": self.response_status,
            "responseBody": self.response_body,
            "receiptNumber": self.receipt_number,
        }

    @classmethod
    def from_value(cls, value: dict[str, Any]) -> IdempotencyEntry:
        return cls(
            key=value["key"],
            facility=value["facility"],
            fingerprint=value["fingerprint"],
            created=value["created"],
            response_status=value.get("responseStatus"),
            response_body=value.get("responseBody"),
            receipt_number=value.get("receiptNumber"),
        )
