"""Reading ``fixtures/quickstream.json``: QuickWeb's facilities and the seeded invoices.

Every error names the file and the field (``FixtureReader.fail``).
"""

from __future__ import annotations

import ipaddress
import re
from datetime import date
from typing import Any

from mockbank.clients.quickstream import LISTED_ORDER, RULES
from mockbank.fixtures import FixtureReader
from mockbank.providers.quickstream.errors import InvalidParameter
from mockbank.providers.quickstream.models.common import (
    NOTIFICATION_FORMATS,
    SCHEMES,
    Facility,
    QuickStreamFixtures,
    _check_url,
    parse_amount,
)
from mockbank.providers.quickstream.records.invoices import Invoice, LineItem

INVOICE_NUMBER = re.compile(r"[A-Za-z0-9_-]{1,50}")


def read_fixtures(reader: FixtureReader) -> QuickStreamFixtures:
    """The facilities (at least one, usernames unique) and the optional invoices."""
    facilities: list[Facility] = []
    seen: set[str] = set()
    for where, node in reader.items("facilities"):
        if not isinstance(node, dict):
            raise reader.fail(where, "expected an object")
        facilities.append(_read_facility(reader, where, seen))
    if not facilities:
        raise reader.fail("facilities", "at least one facility is required")
    return QuickStreamFixtures(tuple(facilities), read_invoices(reader, seen))


def _text(reader: FixtureReader, where: str) -> str:
    value: str = reader.get(where, str)
    if not value.strip():
        raise reader.fail(where, "must not be empty")
    return value


def _read_facility(reader: FixtureReader, where: str, seen: set[str]) -> Facility:
    username = _text(reader, f"{where}.username")
    if username in seen:
        raise reader.fail(f"{where}.username", f"duplicate username {username!r}")
    seen.add(username)
    codes = reader.get(f"{where}.supplierBusinessCodes", list)
    if not codes or not all(isinstance(c, str) and c for c in codes):
        raise reader.fail(f"{where}.supplierBusinessCodes", "expected non-empty strings")
    ips = _read_ips(reader, f"{where}.allowedIps")
    reader.get(f"{where}.notification", dict)
    reader.get(f"{where}.passback", dict)
    method, rule = _read_passback(reader, f"{where}.passback")
    server_url, notify_format = _read_notification(reader, f"{where}.notification")
    surcharges = _read_surcharges(reader, f"{where}.surcharges")
    return Facility(
        name=_text(reader, f"{where}.name"),
        username=username,
        password=_text(reader, f"{where}.password"),
        supplier_business_codes=tuple(codes),
        community_code=_text(reader, f"{where}.communityCode"),
        allowed_ips=ips,
        quick_vault=reader.get(f"{where}.quickVault", bool, default=False),
        notification_username=reader.get(f"{where}.notification.username", str),
        notification_password=reader.get(f"{where}.notification.password", str),
        server_return_url=server_url or None,
        error_email=reader.get(
            f"{where}.notification.errorEmailToAddress", (str, type(None)), default=None
        ),
        passback_secret=reader.get(f"{where}.passback.secret", str),
        passback_method=method,
        passback_rule=rule,
        surcharges_bp=surcharges,
        notification_format=notify_format,
        receipt_page=reader.get(f"{where}.receiptPage", bool, default=True),
    )


def _read_ips(reader: FixtureReader, where: str) -> tuple[str, ...]:
    ips = reader.get(where, list)
    for index, ip in enumerate(ips):
        try:
            ipaddress.ip_network(ip, strict=False)
        except (TypeError, ValueError):
            raise reader.fail(f"{where}.{index}", f"not an IP address or network: {ip!r}") from None
    return tuple(ips)


def _read_passback(reader: FixtureReader, where: str) -> tuple[str, str]:
    """The passback's method (POST or GET) and hmac rule."""
    method = reader.get(f"{where}.method", str, default="POST").upper()
    if method not in ("POST", "GET"):
        raise reader.fail(f"{where}.method", f"expected POST or GET, got {method!r}")
    rule = reader.get(f"{where}.hmacRule", str, default=LISTED_ORDER)
    if rule not in RULES:
        raise reader.fail(f"{where}.hmacRule", f"expected one of {', '.join(RULES)}")
    return method, rule


def _read_notification(reader: FixtureReader, where: str) -> tuple[str | None, str]:
    """The facility's own serverReturnUrl (if any) and the notification format."""
    server_url = reader.get(f"{where}.serverReturnUrl", (str, type(None)), default=None)
    if server_url:
        try:
            _check_url("serverReturnUrl", server_url)
        except InvalidParameter as error:
            raise reader.fail(f"{where}.serverReturnUrl", str(error)) from None
    notify_format = reader.get(f"{where}.format", str, default="FORM").upper()
    if notify_format not in NOTIFICATION_FORMATS:
        raise reader.fail(f"{where}.format", f"expected one of {', '.join(NOTIFICATION_FORMATS)}")
    return server_url, notify_format


def _read_surcharges(reader: FixtureReader, where: str) -> dict[str, int]:
    rates: dict[str, int] = {}
    for scheme, value in reader.get(where, dict).items():
        if scheme not in SCHEMES:
            raise reader.fail(f"{where}.{scheme}", f"unknown card scheme; one of {SCHEMES}")
        rates[scheme] = _percent_to_bp(reader, f"{where}.{scheme}", value)
    return rates


def _percent_to_bp(reader: FixtureReader, where: str, value: Any) -> int:
    text = str(value) if isinstance(value, str | int | float) and value is not True else ""
    match = re.fullmatch(r"([0-9]{1,2})(?:\.([0-9]{1,2}))?", text)
    if match is None:
        raise reader.fail(where, f'expected a percentage such as "1.00", got {value!r}')
    return int(match.group(1)) * 100 + int((match.group(2) or "0").ljust(2, "0"))


# -- QuickWeb Invoicing's seeded invoices ------------------------------------------------------
def _fixture_amount(reader: FixtureReader, where: str) -> int:
    cents = parse_amount(reader.get(where, str))
    if cents is None:
        raise reader.fail(where, 'expected a positive amount such as "120.00"')
    return cents


def _read_invoice(reader: FixtureReader, where: str, facilities: set[str]) -> Invoice:
    facility = reader.get(f"{where}.facility", str)
    if facility not in facilities:
        raise reader.fail(f"{where}.facility", f"unknown facility {facility!r}")
    number = reader.get(f"{where}.invoiceNumber", str)
    if not INVOICE_NUMBER.fullmatch(number):
        raise reader.fail(f"{where}.invoiceNumber", "expected 1-50 letters, digits, - or _")
    due = reader.get(f"{where}.dueDate", str)
    try:
        date.fromisoformat(due)
    except ValueError:
        raise reader.fail(f"{where}.dueDate", "expected a date such as 2026-12-31") from None
    amount = _fixture_amount(reader, f"{where}.amount")
    outstanding = amount
    if reader.get(f"{where}.outstandingAmount", str, default=None) is not None:
        outstanding = _fixture_amount(reader, f"{where}.outstandingAmount")
    if outstanding > amount:
        raise reader.fail(f"{where}.outstandingAmount", "must not exceed the amount")
    items = [
        LineItem(
            description=reader.get(f"{item_where}.description", str),
            amount=_fixture_amount(reader, f"{item_where}.amount"),
        )
        for item_where, _ in reader.items(f"{where}.lineItems")
    ]
    return Invoice(
        facility=facility,
        customer_reference_number=reader.get(f"{where}.customerReferenceNumber", str),
        invoice_number=number,
        due_date=due,
        amount=amount,
        outstanding=outstanding,
        line_items=tuple(items),
    )


def read_invoices(reader: FixtureReader, facilities: set[str]) -> tuple[Invoice, ...]:
    """The optional ``"invoices"`` list of the fixtures file, validated."""
    if reader.get("invoices", list, default=None) is None:
        return ()
    invoices: dict[str, Invoice] = {}
    for where, _ in reader.items("invoices"):
        invoice = _read_invoice(reader, where, facilities)
        if invoice.key in invoices:
            raise reader.fail(f"{where}.invoiceNumber", "duplicate invoice number")
        invoices[invoice.key] = invoice
    return tuple(invoices.values())
