"""Paying, QuickVault registration, cancel, and the passback and notification fields."""

from __future__ import annotations

import hmac
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlencode, urlsplit, urlunsplit
from xml.etree import ElementTree

from mockbank.clients.quickstream import PASSBACK_ORDER, sign_passback
from mockbank.masking import mask_value
from mockbank.providers.quickstream.errors import (
    AlreadyProcessed,
    NotCompleted,
    SessionCheckFailed,
    SessionExpired,
)
from mockbank.providers.quickstream.models.common import (
    BANK_APPROVED,
    Facility,
    SessionStatus,
    SummaryCode,
    created_date_time,
    format_amount,
    settlement_date,
)
from mockbank.providers.quickstream.models.payment_form import (
    card_outcome,
    check_payment_form,
)
from mockbank.providers.quickstream.models.token_request import (
    load_session,
)
from mockbank.providers.quickstream.records import NS_COUNTER, NS_PAYMENT, NS_SESSION, NS_VAULT
from mockbank.store import Store, add_new


# -- paying --------------------------------------------------------------------------------
def next_receipt_number(store: Store, *, now: datetime) -> str:
    """Receipt numbers count up from a seeded start, atomically."""
    value = store.update(NS_COUNTER, "receipt", lambda v: {"next": v["next"] + 1}, now=now)
    if value is None:  # the counter is seeded; a missing one means a reset raced us
        store.add(NS_COUNTER, "receipt", {"next": 1000000000}, now=now)
        return next_receipt_number(store, now=now)
    return str(value["next"])


def pay(
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
    """Check the form, decide the outcome and complete the session exactly once.

    Returns the transaction. Validation errors raise `PaymentInvalid` and change nothing; a
    second submit (or a concurrent one) raises `AlreadyProcessed`.
    """
    session = load_session(store, session_id, now=now, binding=binding)
    if not hmac.compare_digest(csrf.encode("utf-8"), str(session["csrf"]).encode("utf-8")):
        raise SessionCheckFailed()
    if session["status"] != SessionStatus.OPEN:
        raise AlreadyProcessed()
    params = session["params"]
    checked = check_payment_form(facility, params, form, now=now)
    if checked.method == "card":
        response_code, description, summary = card_outcome(checked.last_two)
    else:
        response_code, description = BANK_APPROVED
        summary = SummaryCode.APPROVED
    receipt = next_receipt_number(store, now=now)
    transaction: dict[str, Any] = {
        "receiptNumber": receipt,
        "method": checked.method,
        "principalAmount": format_amount(checked.principal),
        "surchargeAmount": format_amount(checked.surcharge),
        "paymentAmount": format_amount(checked.principal + checked.surcharge),
        "currencyCode": params["currencyCode"],
        "responseCode": response_code,
        "responseDescription": description,
        "summaryCode": summary.value,
        "successFlag": summary == SummaryCode.APPROVED,
        "createdDateTime": created_date_time(now),
        "settlementDate": settlement_date(now),
        "createdAt": now.isoformat(),
    }
    if checked.method == "card":
        transaction.update(
            cardholderName=checked.cardholder_name,
            maskedCardNumber=checked.masked_card,
            cardScheme=checked.card_scheme,
            expiryDateMonth=checked.expiry_month,
            expiryDateYear=checked.expiry_year,
        )
    else:
        transaction.update(
            accountName=checked.account_name,
            bsb=checked.bsb,
            maskedAccountNumber=checked.masked_account,
        )
    # Only an approved payment is registered: a declined card is not worth keeping.
    if params.get("registerPaymentAccount") and summary == SummaryCode.APPROVED:
        transaction["accountToken"] = new_account_token()

    def complete(value: dict[str, Any]) -> dict[str, Any]:
        if value["status"] != SessionStatus.OPEN:
            raise AlreadyProcessed()
        value["status"] = SessionStatus.COMPLETED.value
        value["transaction"] = transaction
        return value

    if store.update(NS_SESSION, session_id, complete, now=now) is None:
        raise SessionExpired()
    add_new(
        store,
        NS_PAYMENT,
        receipt,
        {
            **transaction,
            "facility": facility.username,
            "communityCode": session["communityCode"],
            "supplierBusinessCode": params["supplierBusinessCode"],
            "customerReferenceNumber": params.get("customerReferenceNumber", ""),
            "paymentReference": params.get("paymentReference", ""),
            "session": session_id[:8] + "…",
        },
        now=now,
    )
    if "accountToken" in transaction:
        register_account(store, facility, params, transaction, now=now)
    return transaction


def register_account(
    store: Store,
    facility: Facility,
    params: Mapping[str, Any],
    transaction: Mapping[str, Any],
    *,
    now: datetime,
) -> None:
    """Keep the (masked) payment account in QuickVault under its accountToken."""
    account: dict[str, Any] = {
        "accountToken": transaction["accountToken"],
        "facility": facility.username,
        "customerReferenceNumber": params.get("customerReferenceNumber", ""),
        "accountType": "CREDIT_CARD" if transaction["method"] == "card" else "DIRECT_DEBIT",
        "createdAt": now.isoformat(),
    }
    for name in (
        "cardholderName",
        "maskedCardNumber",
        "cardScheme",
        "expiryDateMonth",
        "expiryDateYear",
        "accountName",
        "bsb",
        "maskedAccountNumber",
    ):
        if name in transaction:
            account[name] = transaction[name]
    add_new(store, NS_VAULT, str(transaction["accountToken"]), account, now=now)


def cancel(
    store: Store, session_id: str, *, csrf: str, binding: str, now: datetime
) -> dict[str, Any]:
    """Cancel an open session (the payer pressed Cancel); returns the session."""
    session = load_session(store, session_id, now=now, binding=binding)
    if not hmac.compare_digest(csrf.encode("utf-8"), str(session["csrf"]).encode("utf-8")):
        raise SessionCheckFailed()

    def change(value: dict[str, Any]) -> dict[str, Any]:
        if value["status"] != SessionStatus.OPEN:
            raise AlreadyProcessed()
        value["status"] = SessionStatus.CANCELLED.value
        return value

    updated = store.update(NS_SESSION, session_id, change, now=now)
    if updated is None:
        raise SessionExpired()
    return updated


# -- passback and notification ---------------------------------------------------------------
def passback_fields(
    facility: Facility, session: Mapping[str, Any], transaction: Mapping[str, Any]
) -> dict[str, str]:
    """The passback to ``returnUrl``, signed (DESIGN §2 field list and order, then extras)."""
    params = session["params"]
    fields: dict[str, str] = {
        "communityCode": str(session["communityCode"]),
        "supplierBusinessCode": params["supplierBusinessCode"],
        "surchargeAmount": transaction["surchargeAmount"],
        "paymentAmount": transaction["paymentAmount"],
        "paymentReference": params.get("paymentReference", ""),
        "customerReferenceNumber": params.get("customerReferenceNumber", ""),
        "receiptNumber": transaction["receiptNumber"],
        "responseCode": transaction["responseCode"],
        "responseDescription": transaction["responseDescription"],
        "summaryCode": transaction["summaryCode"],
        "createdDateTime": transaction["createdDateTime"],
        "settlementDate": transaction["settlementDate"],
    }
    extra = {name: str(transaction[name]) for name in _account_fields(transaction)}
    if "accountToken" in transaction:
        extra["accountToken"] = str(transaction["accountToken"])
    # QuickStream's "Validating the hmac" example passback carries principalAmount and the
    # custom parameters too; the merchant gets them back without a lookup of its own.
    extra["principalAmount"] = str(transaction["principalAmount"])
    extra.update(allocation_fields(transaction))
    extra.update(params.get("custom", {}))
    # Sent in the order they are signed: the listed fields, then any other in ASCII order of
    # its name (a bank account's accountName, accountToken, bsb...), so that a merchant who
    # signs the fields as received gets the same hmac.
    for name in PASSBACK_ORDER:
        if name in extra:
            fields[name] = extra.pop(name)
    fields.update(sorted(extra.items()))
    fields["hmac"] = sign_passback(fields, facility.passback_secret, rule=facility.passback_rule)
    return fields


def passback_get_url(return_url: str, fields: Mapping[str, str]) -> str:
    """``returnUrl`` with the passback added to its query, before any ``#fragment``."""
    parts = urlsplit(return_url)
    query = "&".join(q for q in (parts.query, urlencode(fields)) if q)
    return urlunsplit(parts._replace(query=query))


def _account_fields(transaction: Mapping[str, Any]) -> tuple[str, ...]:
    if transaction["method"] == "card":
        return (
            "cardholderName",
            "maskedCardNumber",
            "cardScheme",
            "expiryDateMonth",
            "expiryDateYear",
        )
    return ("accountName", "bsb", "maskedAccountNumber")


def notification_fields(
    session: Mapping[str, Any], transaction: Mapping[str, Any]
) -> list[tuple[str, str]]:
    """The server-to-server notification's form fields (DESIGN §2), custom ones last."""
    params = session["params"]
    fields: list[tuple[str, str]] = [
        ("sourceCode", "QUICKWEB"),
        ("receiptNumber", transaction["receiptNumber"]),
        ("communityCode", str(session["communityCode"])),
        ("supplierBusinessCode", params["supplierBusinessCode"]),
        ("paymentReference", params.get("paymentReference", "")),
        ("customerReferenceNumber", params.get("customerReferenceNumber", "")),
        ("paymentAmount", transaction["paymentAmount"]),
        ("surchargeAmount", transaction["surchargeAmount"]),
        ("cardScheme", transaction.get("cardScheme", "")),
        ("settlementDate", transaction["settlementDate"]),
        ("createdDateTime", transaction["createdDateTime"]),
        ("responseCode", transaction["responseCode"]),
        ("responseDescription", transaction["responseDescription"]),
        ("summaryCode", transaction["summaryCode"]),
        ("successFlag", "true" if transaction["successFlag"] else "false"),
        ("principalAmount", transaction["principalAmount"]),
        ("currencyCode", transaction["currencyCode"]),
    ]
    fields += [(n, str(transaction[n])) for n in _account_fields(transaction) if n != "cardScheme"]
    if "accountToken" in transaction:
        fields.append(("accountToken", str(transaction["accountToken"])))
    fields += allocation_fields(transaction)
    fields += sorted(params.get("custom", {}).items())
    return fields


def allocation_fields(transaction: Mapping[str, Any]) -> list[tuple[str, str]]:
    """``allocationCount`` then ``allocation<n>InvoiceNumber``/``Amount``/``Comment``."""
    if "allocations" not in transaction:
        return []
    allocations = transaction["allocations"]
    fields = [("allocationCount", str(len(allocations)))]
    for n, allocation in enumerate(allocations, start=1):
        fields.append((f"allocation{n}InvoiceNumber", allocation["invoiceNumber"]))
        fields.append((f"allocation{n}Amount", allocation["amount"]))
        if allocation["comment"]:
            fields.append((f"allocation{n}Comment", allocation["comment"]))
    return fields


@dataclass(frozen=True)
class Notification:
    """Where and how to deliver one notification; the outbox does the delivering."""

    url: str
    body: bytes
    username: str
    password: str
    error_email: str | None
    content_type: str = "application/x-www-form-urlencoded"


def plan_notification(
    facility: Facility, session: Mapping[str, Any], transaction: Mapping[str, Any]
) -> Notification | None:
    """The notification for a completed payment, or None when no URL is configured."""
    params = session["params"]
    url = params.get("serverReturnUrl") or facility.server_return_url
    if not url:
        return None
    return notification_for(facility, url, params, notification_fields(session, transaction))


def notification_for(
    facility: Facility, url: str, params: Mapping[str, Any], fields: list[tuple[str, str]]
) -> Notification:
    """The fields as the facility takes them: form parameters, or XML."""
    if facility.notification_format == "XML":
        body, content_type = notification_xml(fields), "application/xml; charset=utf-8"
    else:
        body, content_type = urlencode(fields).encode("utf-8"), "application/x-www-form-urlencoded"
    return Notification(
        url=url,
        body=body,
        username=facility.notification_username,
        password=facility.notification_password,
        error_email=params.get("errorEmailToAddress") or facility.error_email,
        content_type=content_type,
    )


def notification_xml(fields: list[tuple[str, str]]) -> bytes:
    """``<PaymentResponse>`` with one element per field, in the form's order (our layout)."""
    root = ElementTree.Element("PaymentResponse")
    for name, value in fields:
        ElementTree.SubElement(root, name).text = value
    data: bytes = ElementTree.tostring(root, encoding="utf-8", xml_declaration=True)
    return data


def receipt_email_body(
    facility: Facility, session: Mapping[str, Any], transaction: Mapping[str, Any]
) -> str:
    """The payer's emailed receipt: the receipt page as text, account details masked."""
    params = session["params"]
    if transaction["method"] == "card":
        account = f"{transaction['cardScheme']} {transaction['maskedCardNumber']}"
    else:
        account = f"BSB {transaction['bsb']} account {transaction['maskedAccountNumber']}"
    lines = [
        f"Payment to {facility.name}",
        f"Receipt number: {transaction['receiptNumber']}",
        f"Date: {transaction['createdDateTime']}",
        f"Payment reference: {params.get('paymentReference', '')}",
        f"Customer reference number: {params.get('customerReferenceNumber', '')}",
        f"Amount: {transaction['currencyCode']} {transaction['principalAmount']}",
        f"Surcharge: {transaction['currencyCode']} {transaction['surchargeAmount']}",
        f"Total: {transaction['currencyCode']} {transaction['paymentAmount']}",
        f"Paid with: {account}",
        f"Result: {transaction['responseCode']} {transaction['responseDescription']}",
    ]
    return "\n".join(lines) + "\n"


def require_transaction(session: Mapping[str, Any]) -> dict[str, Any]:
    """The session's completed transaction, or `NotCompleted`."""
    transaction = session.get("transaction")
    if not transaction:
        raise NotCompleted()
    return dict(transaction)


def session_summary(session: Mapping[str, Any]) -> dict[str, Any]:
    """The non-secret parts of a session for the state view."""
    summary = {k: v for k, v in session.items() if k not in ("csrf", "binding")}
    summary["params"] = mask_value(summary.get("params", {}))
    return summary
