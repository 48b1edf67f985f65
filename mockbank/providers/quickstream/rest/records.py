"""What the REST API stores: frozen records (`mockbank.records.Record`).

Only these classes know the stored shape; `wire.py` knows Westpac's spelling. No record holds a
full card number or a CVN: a card is kept as its masked number, last four digits (the test
outcome reads the last two), scheme and expiry.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any

from mockbank.records import Record, Stored

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
class Card(Record):
    """A card as kept: masked (``424242...242``), last four, scheme, expiry, holder."""

    masked: str
    last_four: str
    scheme: str
    expiry_month: str
    expiry_year: str
    cardholder_name: str


@dataclass(frozen=True)
class BankAccount(Record):
    """An Australian bank account as kept: name, BSB ``032-000``, masked number."""

    account_name: str
    bsb: str
    masked_number: Annotated[str, Stored(key="masked")]


@dataclass(frozen=True)
class PaymentAccount(Record):
    """A card or a bank account (exactly one is set)."""

    card: Card | None = None
    bank: BankAccount | None = None

    @property
    def account_type(self) -> AccountType:
        return AccountType.CREDIT_CARD if self.card else AccountType.DIRECT_DEBIT


@dataclass(frozen=True)
class SingleUseToken(Record):
    """A single-use token: usable once (the store's take-once), for 10 minutes."""

    token_id: Annotated[str, Stored(key="id")]
    facility: str
    supplier_business_code: str
    account: PaymentAccount
    created: str


@dataclass(frozen=True)
class Customer(Record):
    """A QuickStream customer of one facility."""

    customer_id: Annotated[str, Stored(key="id")]
    facility: str
    customer_number: str
    customer_name: str
    supplier_business_code: str
    email_address: str | None
    phone_number: str | None
    created: str


@dataclass(frozen=True)
class Account(Record):
    """A QuickVault account registered through the REST API (from a single-use token)."""

    account_token: str
    facility: str
    customer_id: str
    account: PaymentAccount
    default_account: bool
    created: str


@dataclass(frozen=True)
class Transaction(Record, keys="snake"):
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


@dataclass(frozen=True)
class IdempotencyEntry(Record):
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
