"""What QuickWeb stores: the store namespaces and one frozen record per stored kind.

Only these classes know the stored shape (camelCase keys, as the state view shows them): every
record is built and read through ``to_value()``/``from_value()``. Amounts are kept as
QuickStream formats them (``100.00``); cards only masked (``424242...242``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any, Self

from mockbank.providers.quickstream.models.common import format_amount

NS_TOKEN = "quickstream.token"
NS_SESSION = "quickstream.session"
NS_PAYMENT = "quickstream.payment"
NS_VAULT = "quickstream.vault"
NS_COUNTER = "quickstream.counter"
NS_RECURRING = "quickstream.recurring"
NS_INVOICE = "quickstream.invoice"

# The paid account's fields, the one list every output takes them from (the transaction,
# QuickVault, the passback, the notification, the registration fields, the emailed receipt).
CARD_FIELDS = (
    "cardholderName",
    "maskedCardNumber",
    "cardScheme",
    "expiryDateMonth",
    "expiryDateYear",
)
BANK_FIELDS = ("accountName", "bsb", "maskedAccountNumber")
# A completed payment's outcome, as a recurring setup's ``firstPayment`` carries it.
OUTCOME_FIELDS = (
    "receiptNumber",
    "principalAmount",
    "surchargeAmount",
    "paymentAmount",
    "responseCode",
    "responseDescription",
    "summaryCode",
    "createdDateTime",
)


def _optional(value: Mapping[str, Any], name: str) -> str | None:
    found = value.get(name)
    return None if found is None else str(found)


@dataclass(frozen=True)
class Counter:
    """A counter (receipt numbers, schedule ids): the next value to hand out."""

    next: int

    def to_value(self) -> dict[str, Any]:
        return {"next": self.next}

    @classmethod
    def from_value(cls, value: Mapping[str, Any]) -> Self:
        return cls(next=int(value["next"]))


@dataclass(frozen=True)
class TokenRecord:
    """A secure token's request: the facility, its community and the checked parameters.

    ``params`` are the merchant's own parameter names and values (the token request's wire
    names, kept as sent); ``custom`` holds the ``custom...`` ones.
    """

    facility: str
    community_code: str
    params: Mapping[str, Any]
    unknown_parameters: tuple[str, ...] = ()

    def to_value(self) -> dict[str, Any]:
        return {
            "facility": self.facility,
            "communityCode": self.community_code,
            "params": dict(self.params),
            "unknownParameters": list(self.unknown_parameters),
        }

    @classmethod
    def from_value(cls, value: Mapping[str, Any]) -> Self:
        return cls(
            facility=str(value["facility"]),
            community_code=str(value["communityCode"]),
            params=dict(value["params"]),
            unknown_parameters=tuple(value.get("unknownParameters", ())),
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
            account_token=_optional(value, "accountToken"),
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
            schedule_id=_optional(value, "scheduleId"),
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


@dataclass(frozen=True)
class Schedule:
    """A QuickWeb Recurring schedule as the customer chose it (the end: a count or a date)."""

    customer_reference_number: str
    frequency: str
    first_payment_date: str
    schedule_type: str
    number_of_payments: int | None = None
    final_payment_date: str | None = None

    def to_value(self) -> dict[str, Any]:
        value: dict[str, Any] = {
            "customerReferenceNumber": self.customer_reference_number,
            "frequency": self.frequency,
            "firstPaymentDate": self.first_payment_date,
            "scheduleType": self.schedule_type,
        }
        if self.number_of_payments is not None:
            value["numberOfPayments"] = self.number_of_payments
        if self.final_payment_date is not None:
            value["finalPaymentDate"] = self.final_payment_date
        return value

    @classmethod
    def from_value(cls, value: Mapping[str, Any]) -> Self:
        count = value.get("numberOfPayments")
        return cls(
            customer_reference_number=str(value["customerReferenceNumber"]),
            frequency=str(value["frequency"]),
            first_payment_date=str(value["firstPaymentDate"]),
            schedule_type=str(value["scheduleType"]),
            number_of_payments=None if count is None else int(count),
            final_payment_date=_optional(value, "finalPaymentDate"),
        )


@dataclass(frozen=True)
class Registration:
    """A QuickVault registration, or a QuickWeb Recurring setup (``kind`` ``recurring``).

    A recurring setup also has its schedule, regular amount and currency; a first payment due
    the day it is set up; and a ``scheduleId`` once created (a declined first payment creates
    nothing, so ``success_flag`` is False and there is no id).
    """

    kind: str
    account: PaidAccount
    account_token: str
    created_date_time: str
    success_flag: bool = True
    schedule: Schedule | None = None
    regular_payment_amount: str = ""
    currency_code: str = ""
    first_payment: Mapping[str, str] | None = None  # the `OUTCOME_FIELDS`
    schedule_id: str | None = None

    def to_value(self) -> dict[str, Any]:
        value: dict[str, Any] = {
            "kind": self.kind,
            "method": self.account.method,
            "accountToken": self.account_token,
            "createdDateTime": self.created_date_time,
            **self.account.details(),
        }
        if self.schedule is not None:
            value.update(self.schedule.to_value())
            value["regularPaymentAmount"] = self.regular_payment_amount
            value["currencyCode"] = self.currency_code
        value["successFlag"] = self.success_flag
        if self.first_payment is not None:
            value["firstPayment"] = dict(self.first_payment)
        if self.schedule_id is not None:
            value["scheduleId"] = self.schedule_id
        return value

    @classmethod
    def from_value(cls, value: Mapping[str, Any]) -> Self:
        recurring = value["kind"] == "recurring"
        first = value.get("firstPayment")
        return cls(
            kind=str(value["kind"]),
            account=PaidAccount.from_value(value),
            account_token=str(value["accountToken"]),
            created_date_time=str(value["createdDateTime"]),
            success_flag=bool(value.get("successFlag", True)),
            schedule=Schedule.from_value(value) if recurring else None,
            regular_payment_amount=str(value.get("regularPaymentAmount", "")),
            currency_code=str(value.get("currencyCode", "")),
            first_payment=None if first is None else dict(first),
            schedule_id=_optional(value, "scheduleId"),
        )


Completed = Transaction | Registration


def completed_from_value(value: Mapping[str, Any] | None) -> Completed | None:
    """A session's completed transaction or registration, from its stored value."""
    if not value:
        return None
    if "kind" in value:
        return Registration.from_value(value)
    return Transaction.from_value(value)


@dataclass(frozen=True)
class Session:
    """A payment session opened by a handoff: the token's request, its secrets, its outcome.

    ``csrf`` guards the page's forms; ``binding`` is the browser's cookie. ``status`` is a
    `SessionStatus` value (open, completed, cancelled).
    """

    facility: str
    community_code: str
    params: Mapping[str, Any]
    csrf: str
    binding: str
    status: str
    token_prefix: str
    completed: Completed | None = None

    def to_value(self) -> dict[str, Any]:
        return {
            "facility": self.facility,
            "communityCode": self.community_code,
            "params": dict(self.params),
            "csrf": self.csrf,
            "binding": self.binding,
            "status": self.status,
            "transaction": None if self.completed is None else self.completed.to_value(),
            "tokenPrefix": self.token_prefix,
        }

    @classmethod
    def from_value(cls, value: Mapping[str, Any]) -> Self:
        return cls(
            facility=str(value["facility"]),
            community_code=str(value["communityCode"]),
            params=dict(value["params"]),
            csrf=str(value["csrf"]),
            binding=str(value["binding"]),
            status=str(value["status"]),
            token_prefix=str(value.get("tokenPrefix", "")),
            completed=completed_from_value(value.get("transaction")),
        )

    def complete(self, completed: Completed | None, status: str) -> Self:
        """This session closed with `status` (and the outcome, unless cancelled)."""
        return replace(self, status=status, completed=completed)


@dataclass(frozen=True)
class RecurringPayment:
    """A recurring payment a customer set up (QuickWeb Recurring), as the merchant sees it."""

    schedule_id: str
    schedule: Schedule
    account_token: str
    regular_payment_amount: str
    currency_code: str
    facility: str
    status: str = "ACTIVE"
    payments_made: int = 0

    def to_value(self) -> dict[str, Any]:
        schedule = self.schedule.to_value()
        value: dict[str, Any] = {
            "scheduleId": self.schedule_id,
            "customerReferenceNumber": schedule.pop("customerReferenceNumber"),
            "accountToken": self.account_token,
            "frequency": schedule.pop("frequency"),
            "regularPaymentAmount": self.regular_payment_amount,
            "currencyCode": self.currency_code,
            **schedule,
        }
        value.update(facility=self.facility, status=self.status, paymentsMade=self.payments_made)
        return value

    @classmethod
    def from_value(cls, value: Mapping[str, Any]) -> Self:
        return cls(
            schedule_id=str(value["scheduleId"]),
            schedule=Schedule.from_value(value),
            account_token=str(value["accountToken"]),
            regular_payment_amount=str(value["regularPaymentAmount"]),
            currency_code=str(value["currencyCode"]),
            facility=str(value["facility"]),
            status=str(value.get("status", "ACTIVE")),
            payments_made=int(value.get("paymentsMade", 0)),
        )


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
