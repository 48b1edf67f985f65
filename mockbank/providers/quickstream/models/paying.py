"""Paying, QuickVault registration, cancel, and the passback and notification fields."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any
from urllib.parse import urlencode, urlsplit, urlunsplit

from mockbank.clients.quickstream import PASSBACK_ORDER, sign_passback
from mockbank.masking import mask_value
from mockbank.providers.quickstream.errors import NotCompleted
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
    PaymentForm,
    card_outcome,
    check_payment_form,
)
from mockbank.providers.quickstream.models.token_request import (
    check_csrf,
    complete_session,
    load_session,
    open_session,
)
from mockbank.providers.quickstream.records import NS_COUNTER, NS_PAYMENT, NS_VAULT
from mockbank.providers.quickstream.records.payments import (
    Payment,
    Transaction,
    VaultAccount,
)
from mockbank.providers.quickstream.records.sessions import Completed, Counter, Session
from mockbank.store import Store, add_new


# -- paying --------------------------------------------------------------------------------
@dataclass(frozen=True)
class Submission:
    """One submit of a payment page's form: the session, the fields, the browser's proofs
    (CSRF token, session cookie), the time, and where a new accountToken comes from."""

    session_id: str
    form: Mapping[str, str]
    csrf: str
    binding: str
    now: datetime
    new_account_token: Callable[[], str]


def next_receipt_number(store: Store, *, now: datetime) -> str:
    """Receipt numbers count up from a seeded start, atomically."""
    return _count(store, "receipt", 1000000000, now=now)


def next_schedule_id(store: Store, *, now: datetime) -> str:
    """QuickWeb Recurring schedule ids count up the same way."""
    return _count(store, "recurring", 100000000, now=now)


def _count(store: Store, name: str, first: int, *, now: datetime) -> str:
    def step(value: dict[str, Any]) -> dict[str, Any]:
        return Counter(Counter.from_value(value).next + 1).to_value()

    value = store.update(NS_COUNTER, name, step, now=now)
    if value is None:  # the counter is seeded; a missing one means a reset raced us
        store.add(NS_COUNTER, name, Counter(first).to_value(), now=now)
        return _count(store, name, first, now=now)
    return str(Counter.from_value(value).next)


def new_transaction(
    checked: PaymentForm, currency_code: str, receipt: str, *, now: datetime
) -> Transaction:
    """The outcome of paying with a checked form: the test-card table, or a bank approval."""
    if checked.method == "card":
        response_code, description, summary = card_outcome(checked.last_two)
    else:
        (response_code, description), summary = BANK_APPROVED, SummaryCode.APPROVED
    return Transaction(
        receipt_number=receipt,
        account=checked.paid,
        principal_amount=format_amount(checked.principal),
        surcharge_amount=format_amount(checked.surcharge),
        payment_amount=format_amount(checked.principal + checked.surcharge),
        currency_code=currency_code,
        response_code=response_code,
        response_description=description,
        summary_code=summary.value,
        created_date_time=created_date_time(now),
        settlement_date=settlement_date(now),
        created_at=now.isoformat(),
    )


def pay(store: Store, facility: Facility, sent: Submission) -> Transaction:
    """Check the form, decide the outcome and complete the session exactly once.

    Validation errors raise `PaymentInvalid` and change nothing; a second submit (or a
    concurrent one) raises `AlreadyProcessed`.
    """
    now = sent.now
    session = open_session(store, sent.session_id, csrf=sent.csrf, binding=sent.binding, now=now)
    params = session.params
    checked = check_payment_form(facility, params, sent.form, now=now)
    receipt = next_receipt_number(store, now=now)
    transaction = new_transaction(checked, params["currencyCode"], receipt, now=now)
    # Only an approved payment is registered: a declined card is not worth keeping.
    if params.get("registerPaymentAccount") and transaction.approved:
        transaction = replace(transaction, account_token=sent.new_account_token())
    complete_session(store, sent.session_id, transaction, now=now)
    keep_payment(store, facility, session, transaction, session_id=sent.session_id, now=now)
    if transaction.account_token is not None:
        register_account(store, facility, session, transaction, now=now)
    return transaction


def keep_payment(
    store: Store,
    facility: Facility,
    session: Session,
    transaction: Transaction,
    *,
    now: datetime,
    session_id: str = "",
    customer_reference_number: str | None = None,
    schedule_id: str | None = None,
) -> None:
    """Add the payment to the merchant's records under its receipt number."""
    params = session.params
    if customer_reference_number is None:
        customer_reference_number = params.get("customerReferenceNumber", "")
    payment = Payment(
        transaction=transaction,
        facility=facility.username,
        community_code=session.community_code,
        supplier_business_code=params["supplierBusinessCode"],
        customer_reference_number=customer_reference_number,
        payment_reference=params.get("paymentReference", ""),
        session=session_id[:8] + "…" if session_id else "",
        schedule_id=schedule_id,
    )
    add_new(store, NS_PAYMENT, transaction.receipt_number, payment.to_value(), now=now)


def register_account(
    store: Store,
    facility: Facility,
    session: Session,
    completed: Completed,
    *,
    now: datetime,
    customer_reference_number: str | None = None,
) -> None:
    """Keep the (masked) payment account in QuickVault under its accountToken (by default
    for the token's customerReferenceNumber)."""
    assert completed.account_token is not None
    if customer_reference_number is None:
        customer_reference_number = session.params.get("customerReferenceNumber", "")
    vault = VaultAccount(
        account_token=completed.account_token,
        facility=facility.username,
        customer_reference_number=customer_reference_number,
        account=completed.account,
        created_at=now.isoformat(),
    )
    add_new(store, NS_VAULT, completed.account_token, vault.to_value(), now=now)


def cancel(store: Store, session_id: str, *, csrf: str, binding: str, now: datetime) -> Session:
    """Cancel an open session (the payer pressed Cancel); returns the session."""
    session = load_session(store, session_id, now=now, binding=binding)
    check_csrf(session, csrf)
    return complete_session(store, session_id, None, now=now, status=SessionStatus.CANCELLED)


# -- passback and notification ---------------------------------------------------------------
# The notification's fields after ``sourceCode``, in its order (the account's follow).
NOTIFICATION_FIELDS = (
    "receiptNumber",
    "communityCode",
    "supplierBusinessCode",
    "paymentReference",
    "customerReferenceNumber",
    "paymentAmount",
    "surchargeAmount",
    "cardScheme",
    "settlementDate",
    "createdDateTime",
    "responseCode",
    "responseDescription",
    "summaryCode",
    "successFlag",
    "principalAmount",
    "currencyCode",
)
# The passback's always-present fields: the first of its documented signing order.
PASSBACK_FIELDS = PASSBACK_ORDER[:12]
# The notification is tried at once, then after 10 s and 60 s (our choice, documented);
# after the last failure the facility's error address gets an email.
NOTIFY_RETRY_DELAYS = (0.0, 10.0, 60.0)


def merchant_view(session: Session, transaction: Transaction) -> dict[str, str]:
    """Everything the merchant hears about a payment, by QuickStream's names, as text."""
    params = session.params
    value = transaction.to_value()
    view = {
        "communityCode": session.community_code,
        "supplierBusinessCode": str(params["supplierBusinessCode"]),
        "paymentReference": str(params.get("paymentReference", "")),
        "customerReferenceNumber": str(params.get("customerReferenceNumber", "")),
    }
    view.update((k, str(v)) for k, v in value.items() if k not in ("allocations", "successFlag"))
    view["successFlag"] = "true" if transaction.approved else "false"
    return view


def passback_fields(
    facility: Facility, session: Session, transaction: Transaction
) -> dict[str, str]:
    """The passback to ``returnUrl``, signed (the documented field order, then extras)."""
    view = merchant_view(session, transaction)
    names = [*PASSBACK_FIELDS, *transaction.account.details()]
    if transaction.account_token is not None:
        names.append("accountToken")
    # QuickStream's "Validating the hmac" example passback carries principalAmount and the
    # custom parameters too; the merchant gets them back without a lookup of its own.
    names.append("principalAmount")
    every = {name: view[name] for name in names}
    every.update(allocation_fields(transaction))
    every.update(session.params.get("custom", {}))
    # Sent in the order they are signed: the listed fields, then any other in ASCII order of
    # its name (a bank account's accountName, accountToken, bsb...), so that a merchant who
    # signs the fields as received gets the same hmac.
    fields = {name: every.pop(name) for name in PASSBACK_ORDER if name in every}
    fields.update(sorted(every.items()))
    fields["hmac"] = sign_passback(fields, facility.passback_secret, rule=facility.passback_rule)
    return fields


def passback_get_url(return_url: str, fields: Mapping[str, str]) -> str:
    """``returnUrl`` with the passback added to its query, before any ``#fragment``."""
    parts = urlsplit(return_url)
    query = "&".join(q for q in (parts.query, urlencode(fields)) if q)
    return urlunsplit(parts._replace(query=query))


def notification_fields(session: Session, transaction: Transaction) -> list[tuple[str, str]]:
    """The server-to-server notification's form fields, custom ones last."""
    view = merchant_view(session, transaction)
    fields = [("sourceCode", "QUICKWEB")]
    fields += [(name, view.get(name, "")) for name in NOTIFICATION_FIELDS]
    fields += [(n, v) for n, v in transaction.account.details().items() if n != "cardScheme"]
    if transaction.account_token is not None:
        fields.append(("accountToken", transaction.account_token))
    fields += allocation_fields(transaction)
    fields += sorted(session.params.get("custom", {}).items())
    return fields


def allocation_fields(transaction: Transaction) -> list[tuple[str, str]]:
    """``allocationCount`` then ``allocation<n>InvoiceNumber``/``Amount``/``Comment``."""
    if transaction.allocations is None:
        return []
    fields = [("allocationCount", str(len(transaction.allocations)))]
    for n, allocation in enumerate(transaction.allocations, start=1):
        fields.append((f"allocation{n}InvoiceNumber", allocation.invoice_number))
        fields.append((f"allocation{n}Amount", allocation.amount))
        if allocation.comment:
            fields.append((f"allocation{n}Comment", allocation.comment))
    return fields


@dataclass(frozen=True)
class Notification:
    """Where and how to deliver one notification; the outbox does the delivering.

    ``retry_delays`` are the attempts' delays; when all fail and ``error_email`` is set, the
    facility gets ``failure_subject``/``failure_body`` there.
    """

    url: str
    body: bytes
    username: str
    password: str
    error_email: str | None
    content_type: str = "application/x-www-form-urlencoded"
    label: str = "notification"
    retry_delays: tuple[float, ...] = NOTIFY_RETRY_DELAYS
    failure_subject: str = ""
    failure_body: str = ""


def plan_notification(
    facility: Facility, session: Session, transaction: Transaction
) -> Notification | None:
    """The notification for a completed payment, or None when no URL is configured."""
    url = session.params.get("serverReturnUrl") or facility.server_return_url
    if not url:
        return None
    planned = notification_for(
        facility, url, session.params, notification_fields(session, transaction)
    )
    receipt = transaction.receipt_number
    return replace(
        planned,
        label=f"notification for receipt {receipt}",
        failure_subject=(f"QuickStream: server to server notification failed (receipt {receipt})"),
        failure_body=(
            f"QuickStream could not deliver the server to server notification for receipt "
            f"{receipt} to {url} after {len(planned.retry_delays)} attempts.\n"
            f"Community code: {session.community_code}\n"
            f"Payment amount: {transaction.payment_amount} {transaction.currency_code}\n"
            f"Summary code: {transaction.summary_code}\n"
        ),
    )


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
    from xml.etree import ElementTree  # on first use: not needed to start serving

    root = ElementTree.Element("PaymentResponse")
    for name, value in fields:
        ElementTree.SubElement(root, name).text = value
    data: bytes = ElementTree.tostring(root, encoding="utf-8", xml_declaration=True)
    return data


def receipt_email_body(facility: Facility, session: Session, transaction: Transaction) -> str:
    """The payer's emailed receipt: the receipt page as text, account details masked."""
    params = session.params
    currency = transaction.currency_code
    lines = [
        f"Payment to {facility.name}",
        f"Receipt number: {transaction.receipt_number}",
        f"Date: {transaction.created_date_time}",
        f"Payment reference: {params.get('paymentReference', '')}",
        f"Customer reference number: {params.get('customerReferenceNumber', '')}",
        f"Amount: {currency} {transaction.principal_amount}",
        f"Surcharge: {currency} {transaction.surcharge_amount}",
        f"Total: {currency} {transaction.payment_amount}",
        f"Paid with: {transaction.account.described()}",
        f"Result: {transaction.response_code} {transaction.response_description}",
    ]
    return "\n".join(lines) + "\n"


def require_completed(session: Session) -> Completed:
    """The session's completed transaction or registration, or `NotCompleted`."""
    if session.completed is None:
        raise NotCompleted()
    return session.completed


def session_summary(session: Mapping[str, Any]) -> dict[str, Any]:
    """The non-secret parts of a stored session for the state view."""
    summary = {k: v for k, v in session.items() if k not in ("csrf", "binding")}
    summary["params"] = mask_value(summary.get("params", {}))
    return summary
