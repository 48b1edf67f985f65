"""The token request's other products: QuickVault registration only, QuickWeb Recurring and the
QuickConnect direct post. Each reuses the payment page's checks and the test-card outcome table.

- ``product=QUICKVAULT`` without ``principalAmount``: the page registers the card or bank account
  in QuickVault and takes no payment.
- ``product=RECURRING``: the customer registers an account and a recurring payment (a schedule:
  frequency, regular amount, first payment date, and when it ends); a first payment due today
  (Sydney) is taken at once.
- ``connectionType=QUICKCONNECT``: the merchant's own page posts the card details with the token
  to the handoff URL; QuickConnect pays and redirects the browser back to ``returnUrl``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import date, datetime
from typing import Any

from mockbank.clients.quickstream import sign_passback
from mockbank.providers.quickstream.errors import InvalidParameter, NotCompleted, SessionUnknown
from mockbank.providers.quickstream.models.common import (
    Facility,
    QuickStreamFixtures,
    created_date_time,
    format_amount,
    sydney,
)
from mockbank.providers.quickstream.models.invoicing import pay_invoices
from mockbank.providers.quickstream.models.paying import (
    Notification,
    Submission,
    keep_payment,
    new_transaction,
    next_receipt_number,
    next_schedule_id,
    notification_for,
    passback_fields,
    pay,
    register_account,
    require_completed,
)
from mockbank.providers.quickstream.models.payment_form import (
    PaymentForm,
    PaymentInvalid,
    check_payment_form,
)
from mockbank.providers.quickstream.models.token_request import (
    check_token,
    complete_session,
    handoff,
    load_session,
    open_session,
)
from mockbank.providers.quickstream.records import NS_RECURRING
from mockbank.providers.quickstream.records.payments import Transaction
from mockbank.providers.quickstream.records.sessions import (
    Completed,
    RecurringPayment,
    Registration,
    Schedule,
    Session,
)
from mockbank.store import Store, add_new

# "Each has the same Frequency MONTHLY and the schedule type is CONTINUE_UNTIL_FURTHER_NOTICE"
# (QuickStream's "Recurring payment schedules" page); the other values are our reading.
FREQUENCIES = ("WEEKLY", "FORTNIGHTLY", "MONTHLY", "QUARTERLY", "SIX_MONTHLY", "YEARLY")
SCHEDULE_TYPES = ("CONTINUE_UNTIL_FURTHER_NOTICE", "NUMBER_OF_PAYMENTS", "REPEAT_UNTIL_DATE")
MAX_PAYMENTS = 999
QUICKCONNECT_CONNECTIONS = ("QUICKCONNECT",)
SCHEDULE_FIELDS = (
    "scheduleId",
    "frequency",
    "regularPaymentAmount",
    "firstPaymentDate",
    "scheduleType",
    "numberOfPayments",
    "finalPaymentDate",
)


def page_kind(params: Mapping[str, Any]) -> str:
    """What the QuickWeb page does for these token parameters."""
    if "INVOICING" in (params.get("connectionType"), params.get("product")):
        return "invoicing"
    if params.get("product") == "RECURRING":
        return "recurring"
    if params.get("product") == "QUICKVAULT" and not params.get("principalAmount"):
        return "registration"
    return "payment"


def submit(
    store: Store, fixtures: QuickStreamFixtures, sent: Submission
) -> tuple[Facility, Completed]:
    """The payment page's submit, whatever the page does: pay (an amount or invoices),
    register an account, or set up a recurring payment. Returns the facility and the outcome.
    """
    session = load_session(store, sent.session_id, now=sent.now)
    facility = fixtures.facility_by_username(session.facility)
    if facility is None:
        raise SessionUnknown()
    kind = page_kind(session.params)
    run: Callable[[Store, Facility, Submission], Completed] = pay
    if kind == "invoicing":
        run = pay_invoices
    elif kind == "registration":
        run = register_only
    elif kind == "recurring":
        run = create_recurring
    return facility, run(store, facility, sent)


# -- QuickVault registration only ----------------------------------------------------------
def register_only(store: Store, facility: Facility, sent: Submission) -> Registration:
    """Check the card or bank account and keep it in QuickVault; no payment is taken."""
    now = sent.now
    session = open_session(store, sent.session_id, csrf=sent.csrf, binding=sent.binding, now=now)
    params = session.params
    # The page's checks need an amount; a registration has none, so one cent stands in.
    amount = {**params, "principalAmount": "0.01"}
    checked = check_payment_form(facility, amount, sent.form, now=now)
    registration = Registration(
        "registration", checked.paid, sent.new_account_token(), created_date_time(now)
    )
    complete_session(store, sent.session_id, registration, now=now)
    register_account(store, facility, session, registration, now=now)
    return registration


# -- QuickWeb Recurring ----------------------------------------------------------------------
def _parse_date(text: str) -> date | None:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        return None


def _schedule_errors(
    form: Mapping[str, str], params: Mapping[str, Any], today: date
) -> tuple[dict[str, str], Schedule]:
    """The inline errors (none: empty) and the schedule the form asks for."""
    errors: dict[str, str] = {}
    schedule: dict[str, Any] = {}
    reference = params.get("customerReferenceNumber") or form.get("customerReferenceNumber", "")
    if not reference.strip():
        errors["customerReferenceNumber"] = "Enter your customer reference number."
    elif len(reference) > 100:
        errors["customerReferenceNumber"] = "The customer reference number is too long."
    schedule["customerReferenceNumber"] = reference.strip()
    frequency = form.get("frequency", "")
    if frequency not in FREQUENCIES:
        errors["frequency"] = "Choose how often to pay."
    schedule["frequency"] = frequency
    first = _parse_date(form.get("firstPaymentDate", "")) or None
    if first is None or first < today:
        errors["firstPaymentDate"] = "Choose a first payment date from today on (YYYY-MM-DD)."
    schedule["firstPaymentDate"] = first.isoformat() if first else ""
    kind = form.get("scheduleType", "")
    schedule["scheduleType"] = kind
    if kind not in SCHEDULE_TYPES:
        errors["scheduleType"] = "Choose when the recurring payment ends."
    elif kind == "NUMBER_OF_PAYMENTS":
        count = form.get("numberOfPayments", "").strip()
        if not (count.isascii() and count.isdigit() and 1 <= int(count) <= MAX_PAYMENTS):
            errors["numberOfPayments"] = f"Enter the number of payments, 1 to {MAX_PAYMENTS}."
        else:
            schedule["numberOfPayments"] = int(count)
    elif kind == "REPEAT_UNTIL_DATE":
        final = _parse_date(form.get("finalPaymentDate", ""))
        if final is None or first is None or final < first:
            errors["finalPaymentDate"] = "Choose a final payment date on or after the first."
        else:
            schedule["finalPaymentDate"] = final.isoformat()
    return errors, Schedule(
        customer_reference_number=schedule["customerReferenceNumber"],
        frequency=frequency,
        first_payment_date=schedule["firstPaymentDate"],
        schedule_type=kind,
        number_of_payments=schedule.get("numberOfPayments"),
        final_payment_date=schedule.get("finalPaymentDate"),
    )


def _check_recurring(
    facility: Facility, params: Mapping[str, Any], form: Mapping[str, str], *, now: datetime
) -> tuple[PaymentForm, Schedule]:
    errors, schedule = _schedule_errors(form, params, sydney(now).date())
    try:
        checked = check_payment_form(facility, params, form, now=now)
    except PaymentInvalid as invalid:
        raise PaymentInvalid({**invalid.errors, **errors}) from None
    if errors:
        raise PaymentInvalid(errors)
    return checked, schedule


def create_recurring(store: Store, facility: Facility, sent: Submission) -> Registration:
    """Register the account and the recurring payment; take a first payment due today.

    A declined first payment creates nothing (no schedule, no QuickVault account)."""
    now = sent.now
    session = open_session(store, sent.session_id, csrf=sent.csrf, binding=sent.binding, now=now)
    params = session.params
    checked, schedule = _check_recurring(facility, params, sent.form, now=now)
    registration = Registration(
        "recurring",
        checked.paid,
        sent.new_account_token(),
        created_date_time(now),
        schedule=schedule,
        regular_payment_amount=format_amount(checked.principal),
        currency_code=params["currencyCode"],
    )
    first = None
    if schedule.first_payment_date == sydney(now).date().isoformat():
        receipt = next_receipt_number(store, now=now)
        first = new_transaction(checked, params["currencyCode"], receipt, now=now)
        registration = replace(
            registration, first_payment=first.outcome(), success_flag=first.approved
        )
    if registration.success_flag:
        registration = replace(registration, schedule_id=next_schedule_id(store, now=now))
    complete_session(store, sent.session_id, registration, now=now)
    if first is not None:
        keep_payment(
            store,
            facility,
            session,
            first,
            now=now,
            customer_reference_number=schedule.customer_reference_number,
            schedule_id=registration.schedule_id or "",
        )
    if registration.schedule_id is not None:
        made = int(first is not None)
        _keep_schedule(store, facility, session, registration, schedule, made=made, now=now)
    return registration


def _keep_schedule(
    store: Store,
    facility: Facility,
    session: Session,
    registration: Registration,
    schedule: Schedule,
    *,
    made: int,
    now: datetime,
) -> None:
    """The account in QuickVault and the recurring payment in the merchant's records."""
    assert registration.schedule_id is not None
    reference = schedule.customer_reference_number
    register_account(
        store, facility, session, registration, now=now, customer_reference_number=reference
    )
    recurring = RecurringPayment(
        schedule_id=registration.schedule_id,
        schedule=schedule,
        account_token=registration.account_token,
        regular_payment_amount=registration.regular_payment_amount,
        currency_code=registration.currency_code,
        facility=facility.username,
        payments_made=made,
    )
    add_new(store, NS_RECURRING, recurring.schedule_id, recurring.to_value(), now=now)


# -- QuickConnect: the direct post ----------------------------------------------------------
class QuickConnectInvalid(PaymentInvalid):
    """The direct post's card details are wrong: back to the merchant's page, nothing taken."""

    def __init__(self, errors: dict[str, str], return_url: str) -> None:
        super().__init__(errors)
        self.return_url = return_url

    def refused_fields(self) -> dict[str, str]:
        """What the merchant's page hears: summary code 3 and the fields to correct."""
        return {
            "summaryCode": "3",
            "responseDescription": "Invalid payment details",
            "errorFields": ",".join(sorted(self.errors)),
        }


def quickconnect(
    store: Store,
    fixtures: QuickStreamFixtures,
    token: str,
    community_code: str,
    form: Mapping[str, str],
    *,
    now: datetime,
    new_secret: Callable[[], str],
    new_account_token: Callable[[], str],
) -> tuple[Facility, Session, Transaction]:
    """The merchant page's direct post: check the card, then take the token and pay once.

    A token without a ``returnUrl`` is refused (`InvalidParameter`). Invalid card details
    raise `QuickConnectInvalid` before the token is taken, so the payer can correct them on
    the merchant's page and post again."""
    stored = check_token(
        store, fixtures, token, community_code, now=now, connections=QUICKCONNECT_CONNECTIONS
    )
    return_url = stored.params.get("returnUrl")
    if not return_url:
        raise InvalidParameter("A QuickConnect token needs a returnUrl to send the payer back to.")
    facility = fixtures.facility_by_username(stored.facility)
    assert facility is not None  # check_token refused a token of a removed facility
    try:
        check_payment_form(facility, stored.params, form, now=now)
    except PaymentInvalid as invalid:
        raise QuickConnectInvalid(invalid.errors, return_url) from None
    session_id, session = handoff(
        store,
        fixtures,
        token,
        community_code,
        now=now,
        new_secret=new_secret,
        connections=QUICKCONNECT_CONNECTIONS,
    )
    sent = Submission(session_id, form, session.csrf, session.binding, now, new_account_token)
    transaction = pay(store, facility, sent)
    return facility, load_session(store, session_id, now=now), transaction


# -- what the merchant hears -----------------------------------------------------------------
def registration_fields(session: Session, registration: Registration) -> list[tuple[str, str]]:
    """Passback and notification fields of a registration or recurring payment setup."""
    params = session.params
    schedule = registration.schedule
    reference = (schedule.customer_reference_number if schedule else "") or params.get(
        "customerReferenceNumber", ""
    )
    fields = [
        ("communityCode", session.community_code),
        ("supplierBusinessCode", str(params["supplierBusinessCode"])),
        ("customerReferenceNumber", str(reference)),
        ("accountToken", registration.account_token),
        ("createdDateTime", registration.created_date_time),
    ]
    fields += list(registration.account.details().items())
    if registration.kind == "recurring":
        value = registration.to_value()
        fields += [(name, str(value[name])) for name in SCHEDULE_FIELDS if name in value]
        fields += [(name, str(v)) for name, v in (registration.first_payment or {}).items()]
    fields.append(("successFlag", "true" if registration.success_flag else "false"))
    fields += sorted(params.get("custom", {}).items())
    return fields


def signed_registration_fields(
    facility: Facility, session: Session, registration: Registration
) -> dict[str, str]:
    """The passback of a registration or recurring setup, with its ``hmac``."""
    fields = dict(registration_fields(session, registration))
    fields["hmac"] = sign_passback(fields, facility.passback_secret, rule=facility.passback_rule)
    return fields


def plan_registration_notification(
    facility: Facility, session: Session, registration: Registration
) -> Notification | None:
    """The notification of a registration or recurring setup (None: no URL configured)."""
    url = session.params.get("serverReturnUrl") or facility.server_return_url
    if not url:
        return None
    fields = registration_fields(session, registration)
    planned = notification_for(facility, url, session.params, fields)
    return replace(planned, label=f"notification for account {registration.account_token}")


def passback(facility: Facility, session: Session) -> tuple[str, dict[str, str]]:
    """Where the passback goes (``returnUrl``) and its signed fields.

    `NotCompleted` before the session completes, or when the merchant gave no returnUrl."""
    completed = require_completed(session)
    return_url = session.params.get("returnUrl")
    if not return_url:
        raise NotCompleted("The merchant gave no returnUrl; this receipt is the last page.")
    if isinstance(completed, Registration):
        return return_url, signed_registration_fields(facility, session, completed)
    return return_url, passback_fields(facility, session, completed)
