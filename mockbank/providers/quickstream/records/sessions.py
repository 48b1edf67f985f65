"""Tokens, payment sessions, registrations and recurring payments as kept; counters."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Annotated, Any, Self

from mockbank.providers.quickstream.records import optional_text
from mockbank.providers.quickstream.records.payments import PaidAccount, Transaction
from mockbank.records import Record, Stored


@dataclass(frozen=True)
class Counter(Record):
    """A counter (receipt numbers, schedule ids): the next value to hand out."""

    next: int


@dataclass(frozen=True)
class TokenRecord(Record):
    """A secure token's request: the facility, its community and the checked parameters.

    ``params`` are the merchant's own parameter names and values (the token request's wire
    names, kept as sent); ``custom`` holds the ``custom...`` ones.
    """

    facility: str
    community_code: str
    params: Mapping[str, Any]
    unknown_parameters: tuple[str, ...] = ()


@dataclass(frozen=True)
class Schedule(Record):
    """A QuickWeb Recurring schedule as the customer chose it (the end: a count or a date)."""

    customer_reference_number: str
    frequency: str
    first_payment_date: str
    schedule_type: str
    number_of_payments: Annotated[int | None, Stored(omit=True)] = None
    final_payment_date: Annotated[str | None, Stored(omit=True)] = None


@dataclass(frozen=True)
class Registration(Record):
    """A QuickVault registration, or a QuickWeb Recurring setup (``kind`` ``recurring``).

    A recurring setup also has its schedule, regular amount and currency; a first payment due
    the day it is set up; and a ``scheduleId`` once created (a declined first payment creates
    nothing, so ``success_flag`` is False and there is no id).

    Its stored keys depend on its kind (a recurring setup's schedule and amounts are merged in,
    a registration has none), so it writes and reads its value itself.
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
            schedule_id=optional_text(value, "scheduleId"),
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
class Session(Record):
    """A payment session opened by a handoff: the token's request, its secrets, its outcome.

    ``csrf`` guards the page's forms; ``binding`` is the browser's cookie. ``status`` is a
    `SessionStatus` value (open, completed, cancelled).

    Its outcome is kept under ``transaction`` whichever kind it is (a transaction or a
    registration, told apart by ``kind``), so it writes and reads its value itself.
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
        origin = TokenRecord.from_value(value)  # the token request the session came from
        return cls(
            facility=origin.facility,
            community_code=origin.community_code,
            params=origin.params,
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
class RecurringPayment(Record):
    """A recurring payment a customer set up (QuickWeb Recurring), as the merchant sees it."""

    schedule_id: str
    schedule: Annotated[Schedule, Stored(flat=True)]
    account_token: str
    regular_payment_amount: str
    currency_code: str
    facility: str
    status: str = "ACTIVE"
    payments_made: int = 0
