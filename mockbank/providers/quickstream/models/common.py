"""QuickStream's constants, facility fixtures, and money and date formatting."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from mockbank.outbound import is_loopback
from mockbank.providers.quickstream.errors import (
    InvalidParameter,
)

if TYPE_CHECKING:
    from mockbank.providers.quickstream.records.invoices import Invoice


# "A security token is valid for 1 hour after it is created and can only be used once." (seed)
TOKEN_TTL = timedelta(hours=1)
# The payment page after a handoff: our choice, documented (the seed is silent).
SESSION_TTL = timedelta(hours=1)

CONNECTION_TYPES = ("QUICKWEB", "QUICKFRAME", "INVOICING", "QUICKCONNECT")
QUICKWEB_CONNECTIONS = ("QUICKWEB", "QUICKFRAME", "INVOICING")
PRODUCTS = ("RECURRING", "INVOICING", "QUICKVAULT", "QUICKWEB")
ACCOUNT_TYPES = ("CREDIT_CARD", "DIRECT_DEBIT")
REQUIRED = ("supplierBusinessCode", "connectionType", "product", "currencyCode")
OPTIONAL = (
    "accountType",
    "registerPaymentAccount",
    "principalAmount",
    "customerReferenceNumber",
    "paymentReference",
    "returnUrl",
    "cancelUrl",
    "errorEmailToAddress",
    "serverReturnUrl",
    "receiptEmailAddress",
)
KNOWN = ("username", "password", *REQUIRED, *OPTIONAL)
URL_PARAMS = ("returnUrl", "cancelUrl", "serverReturnUrl")
EMAIL_PARAMS = ("errorEmailToAddress", "receiptEmailAddress")
REFERENCE_MAX = 100
CUSTOM_MAX = 100
CUSTOM_NAME = re.compile(r"custom[A-Z][A-Za-z0-9_]*")
AMOUNT = re.compile(r"([0-9]{1,9})(?:\.([0-9]{1,2}))?")
EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
# Values may hold tabs and line breaks (a multi-line custom field); names never.
CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
NAME_CONTROL_CHARS = re.compile(r"[\x00-\x1f\x7f]")

# QuickStream posts the server-to-server notification "as form parameters or as XML".
NOTIFICATION_FORMATS = ("FORM", "XML")
SCHEMES = ("VISA", "MASTERCARD", "AMEX", "DINERS", "JCB", "UPOP")


class SessionStatus(StrEnum):
    """A payment session: open until paid (approved or declined) or cancelled."""

    OPEN = "open"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


class SummaryCode(StrEnum):
    """QuickStream's summary of a transaction outcome."""

    APPROVED = "0"
    DECLINED = "1"


# The QuickStream test environment: the last two digits of the card number choose the outcome
# (DESIGN §2). 00-89 approve with response code 08.
APPROVED_RESPONSE = ("08", "Honour with identification")
DECLINES: dict[str, tuple[str, str]] = {
    "90": ("01", "Refer to card issuer"),
    "91": ("04", "Pick-up card"),
    "92": ("05", "Do not honour"),
    "93": ("91", "Issuer or switch is inoperative"),
    "94": ("54", "Expired card"),
    "95": ("42", "No universal account"),
    "96": ("51", "Not sufficient funds"),
    "97": ("62", "Restricted card"),
    "98": ("43", "Stolen card, pick up"),
    "99": ("01", "Refer to card issuer"),
}
BANK_APPROVED = ("00", "Approved or completed successfully")


def _digits(text: str) -> bool:
    """ASCII digits only: str.isdigit() also accepts other scripts' digits."""
    return text.isascii() and text.isdigit()


def _check_url(name: str, value: str) -> None:
    if len(value) > 2000:
        raise InvalidParameter(f"{name} must be at most 2000 characters.", field=name)
    if re.search(r"[\s\x00-\x1f\x7f]", value):
        raise InvalidParameter(f"{name} must not contain spaces or control characters.", field=name)
    try:
        parts = urlsplit(value)
    except ValueError:  # a bracketed host that is no IP address, such as https://[zz]/
        raise InvalidParameter(f"{name} has an invalid host, got {value!r}.", field=name) from None
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise InvalidParameter(f"{name} must be an absolute HTTPS URL, got {value!r}.", field=name)
    if parts.scheme == "http" and not is_loopback(parts.hostname):
        raise InvalidParameter(
            f"{name} must use HTTPS (plain http is accepted for loopback hosts only).",
            field=name,
        )
    try:
        _ = parts.port
    except ValueError:
        raise InvalidParameter(f"{name} has an invalid port.", field=name) from None


# -- fixtures -------------------------------------------------------------------------------
@dataclass(frozen=True)
class Facility:
    """One merchant facility: credentials, allow-list, notification and passback settings."""

    name: str
    username: str
    password: str
    supplier_business_codes: tuple[str, ...]
    community_code: str
    allowed_ips: tuple[str, ...]
    quick_vault: bool
    notification_username: str
    notification_password: str
    server_return_url: str | None
    error_email: str | None
    passback_secret: str
    passback_method: str
    passback_rule: str
    surcharges_bp: Mapping[str, int]  # basis points per card scheme; absent = not accepted
    notification_format: str = "FORM"  # server-to-server notification: FORM or XML
    receipt_page: bool = True  # False: straight from "Make payment" to the passback


@dataclass(frozen=True)
class QuickStreamFixtures:
    """The validated contents of ``fixtures/quickstream.json``."""

    facilities: tuple[Facility, ...]
    invoices: tuple[Invoice, ...] = ()  # QuickWeb Invoicing: seeded into the store

    def facility_by_username(self, username: str) -> Facility | None:
        """The facility these token-request credentials name, if any."""
        return next((f for f in self.facilities if f.username == username), None)

    def all_allowed_ips(self) -> list[str]:
        """Every facility's allow-list entries together."""
        return [ip for f in self.facilities for ip in f.allowed_ips]


# -- money and formatting ------------------------------------------------------------------
def parse_amount(text: str) -> int | None:
    """Cents from a positive amount with at most 2 decimals; None when not one."""
    match = AMOUNT.fullmatch(text.strip())
    if match is None:
        return None
    cents = int(match.group(1)) * 100 + int((match.group(2) or "0").ljust(2, "0"))
    return cents if cents > 0 else None


def amount_problem(text: str) -> str:
    """What is wrong with an amount the payer typed, in words a payer understands."""
    text = text.strip().removeprefix("$").strip()
    if not text:
        return "Enter the amount to pay, such as 100.00."
    match = re.fullmatch(r"([0-9]+)(?:\.([0-9]*))?", text) if text.isascii() else None
    if match is None:
        return "Enter the amount in dollars and cents using digits only, such as 100.00."
    if len(match.group(2) or "") > 2:
        return "Enter the amount with at most 2 decimal places (cents), such as 100.00."
    if len(match.group(1).lstrip("0")) > 9:
        return "This amount is too large to pay here."
    return "Enter an amount greater than zero, such as 100.00."


def format_amount(cents: int) -> str:
    """``12345`` cents as ``123.45``, QuickStream's amount format."""
    return f"{cents // 100}.{cents % 100:02d}"


def surcharge_cents(principal: int, basis_points: int) -> int:
    """Round half up to the cent, as a payer would on paper."""
    return (principal * basis_points + 5000) // 10000


def sydney(now: datetime) -> datetime:
    """QuickStream reports times in Sydney; fall back to AEST where no tz database exists."""
    try:
        from zoneinfo import ZoneInfo

        return now.astimezone(ZoneInfo("Australia/Sydney"))
    except Exception:  # no tz database on this machine: a fixed +10:00 is close enough
        from datetime import timezone

        return now.astimezone(timezone(timedelta(hours=10)))


def created_date_time(now: datetime) -> str:
    """``10 Jan 2017 01:11:31``, the passback example's format."""
    return sydney(now).strftime("%d %b %Y %H:%M:%S")


def settlement_date(now: datetime) -> str:
    """``yyyyMMdd``: today in Sydney, the next day after the 18:00 cut-off, weekends to Monday."""
    local = sydney(now)
    day = local.date() + timedelta(days=1 if local.hour >= 18 else 0)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return day.strftime("%Y%m%d")
