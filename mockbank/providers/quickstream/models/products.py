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

import hmac
from collections.abc import Callable, Mapping
from datetime import date, datetime
from typing import Any

from mockbank.clients.quickstream import sign_passback
from mockbank.providers.quickstream.errors import (
    AlreadyProcessed,
    SessionCheckFailed,
    SessionExpired,
)
from mockbank.providers.quickstream.models.common import (
    BANK_APPROVED,
    Facility,
    QuickStreamFixtures,
    SessionStatus,
    SummaryCode,
    created_date_time,
    format_amount,
    sydney,
)
from mockbank.providers.quickstream.models.paying import pay, register_account
from mockbank.providers.quickstream.models.payment_form import (
    PaymentForm,
    PaymentInvalid,
    card_outcome,
    check_payment_form,
)
from mockbank.providers.quickstream.models.token_request import (
    check_token,
    handoff,
    load_session,
)
from mockbank.providers.quickstream.records import NS_COUNTER, NS_PAYMENT, NS_RECURRING, NS_SESSION
from mockbank.store import Store, add_new

# "Each has the same Frequency MONTHLY and the schedule type is CONTINUE_UNTIL_FURTHER_NOTICE"
# (QuickStream's "Recurring payment schedules" page); the other values are our reading.
FREQUENCIES = ("WEEKLY", "FORTNIGHTLY", "MONTHLY", "QUARTERLY", "SIX_MONTHLY", "YEARLY")
SCHEDULE_TYPES = ("CONTINUE_UNTIL_FURTHER_NOTICE", "NUMBER_OF_PAYMENTS", "REPEAT_UNTIL_DATE")
MAX_PAYMENTS = 999
QUICKCONNECT_CONNECTIONS = ("QUICKCONNECT",)
CARD_FIELDS = (
    "cardholderName",
    "maskedCardNumber",
    "cardScheme",
    "expiryDateMonth",
    "expiryDateYear",
)
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


def _open_session(
    store: Store, session_id: str, *, csrf: str, binding: str, now: datetime
) -> dict[str, Any]:
    session = load_session(store, session_id, now=now, binding=binding)
    if not hmac.compare_digest(csrf.encode("utf-8"), str(session["csrf"]).encode("utf-8")):
        raise SessionCheckFailed()
    if session["status"] != SessionStatus.OPEN:
        raise AlreadyProcessed()
    return session


def _complete(store: Store, session_id: str, record: dict[str, Any], *, now: datetime) -> None:
    def change(value: dict[str, Any]) -> dict[str, Any]:
        if value["status"] != SessionStatus.OPEN:
            raise AlreadyProcessed()
        value["status"] = SessionStatus.COMPLETED.value
        value["transaction"] = record
        return value

    if store.update(NS_SESSION, session_id, change, now=now) is None:
        raise SessionExpired()


def _account_record(checked: PaymentForm, token: str, *, now: datetime) -> dict[str, Any]:
    record: dict[str, Any] = {
        "method": checked.method,
        "accountToken": token,
        "createdDateTime": created_date_time(now),
    }
    if checked.method == "card":
        record.update(
            cardholderName=checked.cardholder_name,
            maskedCardNumber=checked.masked_card,
            cardScheme=checked.card_scheme,
            expiryDateMonth=checked.expiry_month,
            expiryDateYear=checked.expiry_year,
        )
    else:
        record.update(
            accountName=checked.account_name,
            bsb=checked.bsb,
            maskedAccountNumber=checked.masked_account,
        )
    return record


# -- QuickVault registration only ----------------------------------------------------------
def register_only(
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
    """Check the card or bank account and keep it in QuickVault; no payment is taken."""
    session = _open_session(store, session_id, csrf=csrf, binding=binding, now=now)
    params = session["params"]
    # The page's checks need an amount; a registration has none, so one cent stands in.
    checked = check_payment_form(facility, {**params, "principalAmount": "0.01"}, form, now=now)
    record = {"kind": "registration", **_account_record(checked, new_account_token(), now=now)}
    record["successFlag"] = True
    _complete(store, session_id, record, now=now)
    register_account(store, facility, params, record, now=now)
    return record


# -- QuickWeb Recurring ----------------------------------------------------------------------
def _parse_date(text: str) -> date | None:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        return None


def _schedule_errors(
    form: Mapping[str, str], params: Mapping[str, Any], today: date
) -> tuple[dict[str, str], dict[str, Any]]:
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
    return errors, schedule


def _check_recurring(
    facility: Facility, params: Mapping[str, Any], form: Mapping[str, str], *, now: datetime
) -> tuple[PaymentForm, dict[str, Any]]:
    errors, schedule = _schedule_errors(form, params, sydney(now).date())
    try:
        checked = check_payment_form(facility, params, form, now=now)
    except PaymentInvalid as invalid:
        raise PaymentInvalid({**invalid.errors, **errors}) from None
    if errors:
        raise PaymentInvalid(errors)
    return checked, schedule


def _next_schedule_id(store: Store, *, now: datetime) -> str:
    value = store.update(NS_COUNTER, "recurring", lambda v: {"next": v["next"] + 1}, now=now)
    if value is None:
        store.add(NS_COUNTER, "recurring", {"next": 100000000}, now=now)
        return _next_schedule_id(store, now=now)
    return str(value["next"])


def create_recurring(
    store: Store,
    facility: Facility,
    session_id: str,
    form: Mapping[str, str],
    *,
    csrf: str,
    binding: str,
    now: datetime,
    new_account_token: Callable[[], str],
    next_receipt: Callable[[], str],
) -> dict[str, Any]:
    """Register the account and the recurring payment; take a first payment due today.

    A declined first payment creates nothing (no schedule, no QuickVault account)."""
    session = _open_session(store, session_id, csrf=csrf, binding=binding, now=now)
    params = session["params"]
    checked, schedule = _check_recurring(facility, params, form, now=now)
    record = {"kind": "recurring", **_account_record(checked, new_account_token(), now=now)}
    record.update(schedule, regularPaymentAmount=format_amount(checked.principal))
    record["currencyCode"] = params["currencyCode"]
    record["successFlag"] = True
    if schedule["firstPaymentDate"] == sydney(now).date().isoformat():
        first = _first_payment(checked, params, next_receipt(), now=now)
        record["firstPayment"] = first
        record["successFlag"] = first["summaryCode"] == SummaryCode.APPROVED.value
    if record["successFlag"]:
        record["scheduleId"] = _next_schedule_id(store, now=now)
    _complete(store, session_id, record, now=now)
    if "firstPayment" in record:
        _keep_first_payment(store, facility, session, record, now=now)
    if record["successFlag"]:
        register_account(store, facility, {**params, **schedule}, record, now=now)
        add_new(
            store, NS_RECURRING, record["scheduleId"], _schedule_view(facility, record), now=now
        )
    return record


def _first_payment(
    checked: PaymentForm, params: Mapping[str, Any], receipt: str, *, now: datetime
) -> dict[str, Any]:
    if checked.method == "card":
        code, description, summary = card_outcome(checked.last_two)
    else:
        (code, description), summary = BANK_APPROVED, SummaryCode.APPROVED
    return {
        "receiptNumber": receipt,
        "principalAmount": format_amount(checked.principal),
        "surchargeAmount": format_amount(checked.surcharge),
        "paymentAmount": format_amount(checked.principal + checked.surcharge),
        "responseCode": code,
        "responseDescription": description,
        "summaryCode": summary.value,
        "createdDateTime": created_date_time(now),
    }


def _keep_first_payment(
    store: Store,
    facility: Facility,
    session: Mapping[str, Any],
    record: Mapping[str, Any],
    *,
    now: datetime,
) -> None:
    first = record["firstPayment"]
    account = {
        name: record[name]
        for name in (*CARD_FIELDS, "accountName", "bsb", "maskedAccountNumber")
        if name in record
    }
    add_new(
        store,
        NS_PAYMENT,
        first["receiptNumber"],
        {
            **first,
            **account,
            "method": record["method"],
            "currencyCode": record["currencyCode"],
            "facility": facility.username,
            "communityCode": session["communityCode"],
            "supplierBusinessCode": session["params"]["supplierBusinessCode"],
            "customerReferenceNumber": record["customerReferenceNumber"],
            "scheduleId": record.get("scheduleId", ""),
        },
        now=now,
    )


def _schedule_view(facility: Facility, record: Mapping[str, Any]) -> dict[str, Any]:
    made = 1 if "firstPayment" in record else 0
    view = {
        name: record[name]
        for name in (
            "scheduleId",
            "customerReferenceNumber",
            "accountToken",
            "frequency",
            "regularPaymentAmount",
            "currencyCode",
            "firstPaymentDate",
            "scheduleType",
            "numberOfPayments",
            "finalPaymentDate",
        )
        if name in record
    }
    view.update(facility=facility.username, status="ACTIVE", paymentsMade=made)
    return view


# -- QuickConnect: the direct post ----------------------------------------------------------
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
) -> tuple[Facility, dict[str, Any], dict[str, Any]]:
    """The merchant page's direct post: check the card, then take the token and pay once.

    Invalid card details raise `PaymentInvalid` before the token is taken, so the payer can
    correct them on the merchant's page and post again."""
    stored = check_token(
        store, fixtures, token, community_code, now=now, connections=QUICKCONNECT_CONNECTIONS
    )
    facility = fixtures.facility_by_username(stored["facility"])
    assert facility is not None  # check_token refused a token of a removed facility
    check_payment_form(facility, stored["params"], form, now=now)
    session_id, session = handoff(
        store,
        fixtures,
        token,
        community_code,
        now=now,
        new_secret=new_secret,
        connections=QUICKCONNECT_CONNECTIONS,
    )
    transaction = pay(
        store,
        facility,
        session_id,
        form,
        csrf=session["csrf"],
        binding=session["binding"],
        now=now,
        new_account_token=new_account_token,
    )
    return facility, load_session(store, session_id, now=now), transaction


# -- what the merchant hears -----------------------------------------------------------------
def registration_fields(
    session: Mapping[str, Any], record: Mapping[str, Any]
) -> list[tuple[str, str]]:
    """Passback and notification fields of a registration or recurring payment setup."""
    params = session["params"]
    fields = [
        ("communityCode", str(session["communityCode"])),
        ("supplierBusinessCode", str(params["supplierBusinessCode"])),
        (
            "customerReferenceNumber",
            str(record.get("customerReferenceNumber") or params.get("customerReferenceNumber", "")),
        ),
        ("accountToken", str(record["accountToken"])),
        ("createdDateTime", str(record["createdDateTime"])),
    ]
    if record["method"] == "card":
        names: tuple[str, ...] = (
            "cardholderName",
            "maskedCardNumber",
            "cardScheme",
            "expiryDateMonth",
            "expiryDateYear",
        )
    else:
        names = ("accountName", "bsb", "maskedAccountNumber")
    fields += [(name, str(record[name])) for name in names]
    if record["kind"] == "recurring":
        fields += [
            (name, str(record[name]))
            for name in (
                "scheduleId",
                "frequency",
                "regularPaymentAmount",
                "firstPaymentDate",
                "scheduleType",
                "numberOfPayments",
                "finalPaymentDate",
            )
            if name in record
        ]
        fields += [(name, str(value)) for name, value in record.get("firstPayment", {}).items()]
    fields.append(("successFlag", "true" if record.get("successFlag", True) else "false"))
    fields += sorted(params.get("custom", {}).items())
    return fields


def signed_registration_fields(
    facility: Facility, session: Mapping[str, Any], record: Mapping[str, Any]
) -> dict[str, str]:
    """The passback of a registration or recurring setup, with its ``hmac``."""
    fields = dict(registration_fields(session, record))
    fields["hmac"] = sign_passback(fields, facility.passback_secret, rule=facility.passback_rule)
    return fields
