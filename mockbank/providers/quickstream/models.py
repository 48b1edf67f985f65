"""QuickStream / QuickWeb rules: token requests, handoff, payments, passback and notification.

Nothing here imports flask: every function takes the store, the fixtures and ``now`` (the app
clock) so the rules are testable without HTTP. Money is integer cents, formatted at the edge.
"""

from __future__ import annotations

import hmac
import ipaddress
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any
from urllib.parse import urlencode, urlsplit, urlunsplit

from mockbank.fixtures import FixtureReader
from mockbank.masking import luhn_valid, mask_cards, mask_value
from mockbank.outbound import is_loopback
from mockbank.providers.quickstream.errors import (
    AlreadyProcessed,
    CommunityMismatch,
    InvalidParameter,
    NotCompleted,
    SessionCheckFailed,
    SessionExpired,
    SessionUnknown,
    TokenExpired,
    TokenUnknown,
    TokenUsed,
    WrongConnectionType,
)
from mockbank.quickstream import LISTED_ORDER, PASSBACK_ORDER, RULES, sign_passback
from mockbank.store import Store, add_new

TOKEN_NS = "quickstream.token"
SESSION_NS = "quickstream.session"
PAYMENT_NS = "quickstream.payment"
VAULT_NS = "quickstream.vault"
COUNTER_NS = "quickstream.counter"

# "A security token is valid for 1 hour after it is created and can only be used once." (seed)
TOKEN_TTL = timedelta(hours=1)
# The payment page after a handoff: our choice, documented (the seed is silent).
SESSION_TTL = timedelta(hours=1)

CONNECTION_TYPES = ("QUICKWEB", "QUICKFRAME", "INVOICING", "QUICKCONNECT")
QUICKWEB_CONNECTIONS = ("QUICKWEB", "QUICKFRAME")
PRODUCTS = ("RECURRING", "INVOICING", "QUICKVAULT", "QUICKWEB")
ACCOUNT_TYPES = ("CREDIT_CARD", "DIRECT_DEBIT")
CURRENCIES = ("AUD", "NZD")
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


@dataclass(frozen=True)
class QuickStreamFixtures:
    """The validated contents of ``fixtures/quickstream.json``."""

    facilities: tuple[Facility, ...]

    def facility_by_username(self, username: str) -> Facility | None:
        """The facility these token-request credentials name, if any."""
        return next((f for f in self.facilities if f.username == username), None)

    def all_allowed_ips(self) -> list[str]:
        """Every facility's allow-list entries together."""
        return [ip for f in self.facilities for ip in f.allowed_ips]


def _percent_to_bp(reader: FixtureReader, where: str, value: Any) -> int:
    text = str(value) if isinstance(value, str | int | float) and value is not True else ""
    match = re.fullmatch(r"([0-9]{1,2})(?:\.([0-9]{1,2}))?", text)
    if match is None:
        raise reader.fail(where, f'expected a percentage such as "1.00", got {value!r}')
    return int(match.group(1)) * 100 + int((match.group(2) or "0").ljust(2, "0"))


def load_fixtures(reader: FixtureReader) -> QuickStreamFixtures:
    """Validate ``fixtures/quickstream.json``; every error names the file and the field."""
    facilities: list[Facility] = []
    seen: set[str] = set()
    for where, node in reader.items("facilities"):
        if not isinstance(node, dict):
            raise reader.fail(where, "expected an object")

        def text(name: str, where: str = where) -> str:
            value: str = reader.get(f"{where}.{name}", str)
            if not value.strip():
                raise reader.fail(f"{where}.{name}", "must not be empty")
            return value

        username = text("username")
        if username in seen:
            raise reader.fail(f"{where}.username", f"duplicate username {username!r}")
        seen.add(username)
        codes = reader.get(f"{where}.supplierBusinessCodes", list)
        if not codes or not all(isinstance(c, str) and c for c in codes):
            raise reader.fail(f"{where}.supplierBusinessCodes", "expected non-empty strings")
        ips = reader.get(f"{where}.allowedIps", list)
        for index, ip in enumerate(ips):
            try:
                ipaddress.ip_network(ip, strict=False)
            except (TypeError, ValueError):
                raise reader.fail(
                    f"{where}.allowedIps.{index}", f"not an IP address or network: {ip!r}"
                ) from None
        reader.get(f"{where}.notification", dict)
        reader.get(f"{where}.passback", dict)
        method = reader.get(f"{where}.passback.method", str, default="POST").upper()
        if method not in ("POST", "GET"):
            raise reader.fail(f"{where}.passback.method", f"expected POST or GET, got {method!r}")
        rule = reader.get(f"{where}.passback.hmacRule", str, default=LISTED_ORDER)
        if rule not in RULES:
            raise reader.fail(f"{where}.passback.hmacRule", f"expected one of {', '.join(RULES)}")
        server_url = reader.get(
            f"{where}.notification.serverReturnUrl", (str, type(None)), default=None
        )
        if server_url:
            try:
                _check_url("serverReturnUrl", server_url)
            except InvalidParameter as error:
                raise reader.fail(f"{where}.notification.serverReturnUrl", str(error)) from None
        surcharges = reader.get(f"{where}.surcharges", dict)
        rates: dict[str, int] = {}
        for scheme, value in surcharges.items():
            if scheme not in SCHEMES:
                raise reader.fail(
                    f"{where}.surcharges.{scheme}", f"unknown card scheme; one of {SCHEMES}"
                )
            rates[scheme] = _percent_to_bp(reader, f"{where}.surcharges.{scheme}", value)
        facilities.append(
            Facility(
                name=text("name"),
                username=username,
                password=text("password"),
                supplier_business_codes=tuple(codes),
                community_code=text("communityCode"),
                allowed_ips=tuple(ips),
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
                surcharges_bp=rates,
            )
        )
    if not facilities:
        raise reader.fail("facilities", "at least one facility is required")
    return QuickStreamFixtures(tuple(facilities))


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


# -- the secure token request -------------------------------------------------------------
@dataclass
class TokenGrant:
    """A newly issued token and the unknown parameter names it ignored."""

    token: str
    unknown: list[str] = field(default_factory=list)


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


def single_values(params: Iterable[tuple[str, str]]) -> dict[str, str]:
    """Parameters by name; a repeated name or a control character is refused."""
    values: dict[str, str] = {}
    for name, value in params:
        if name in values:
            raise InvalidParameter(f"{name} is given more than once.", field=name)
        if NAME_CONTROL_CHARS.search(name):
            raise InvalidParameter(
                f"A parameter name contains control characters: {name!r}.", field=name
            )
        if CONTROL_CHARS.search(value):
            raise InvalidParameter(f"{name} contains control characters.", field=name)
        values[name] = value
    return values


def validate_token_request(
    facility: Facility, values: Mapping[str, str]
) -> tuple[dict[str, Any], list[str]]:
    """The parameters a token stores, and the unknown names; raises `InvalidParameter`."""
    for name in REQUIRED:
        if not values.get(name, "").strip():
            raise InvalidParameter(f"{name} is required.", field=name)
    code = values["supplierBusinessCode"]
    if code not in facility.supplier_business_codes:
        raise InvalidParameter(
            f"supplierBusinessCode {code!r} does not belong to this facility.",
            field="supplierBusinessCode",
        )
    enums = (
        ("connectionType", CONNECTION_TYPES),
        ("product", PRODUCTS),
        ("currencyCode", CURRENCIES),
        ("accountType", ACCOUNT_TYPES),
    )
    for name, allowed in enums:
        value = values.get(name, "")
        if value and value not in allowed:
            raise InvalidParameter(
                f"{name} must be one of {', '.join(allowed)}, got {value!r}.", field=name
            )
    register = values.get("registerPaymentAccount", "").lower()
    if register not in ("", "true", "false"):
        raise InvalidParameter(
            "registerPaymentAccount must be true or false.", field="registerPaymentAccount"
        )
    principal = values.get("principalAmount", "")
    if principal and parse_amount(principal) is None:
        raise InvalidParameter(
            "principalAmount must be a positive amount with at most 2 decimals, such as 100.00.",
            field="principalAmount",
        )
    for name in URL_PARAMS:
        if values.get(name):
            _check_url(name, values[name])
    for name in EMAIL_PARAMS:
        if values.get(name) and not EMAIL.fullmatch(values[name]):
            raise InvalidParameter(f"{name} is not an email address.", field=name)
    for name in ("customerReferenceNumber", "paymentReference"):
        if len(values.get(name, "")) > REFERENCE_MAX:
            raise InvalidParameter(
                f"{name} must be at most {REFERENCE_MAX} characters.", field=name
            )
    custom: dict[str, str] = {}
    unknown: list[str] = []
    for name, value in values.items():
        if name in KNOWN:
            continue
        if name.startswith("custom"):
            if not CUSTOM_NAME.fullmatch(name):
                raise InvalidParameter(
                    f"{name}: a custom parameter name must be 'custom' followed by an "
                    "uppercase letter, such as customPayeeName.",
                    field=name,
                )
            if len(value) > CUSTOM_MAX:
                raise InvalidParameter(
                    f"{name} must be at most {CUSTOM_MAX} characters.", field=name
                )
            custom[name] = value
        else:
            unknown.append(name)
    registers = register == "true" or values["product"] == "QUICKVAULT"
    if registers and not facility.quick_vault:
        raise InvalidParameter(
            "registerPaymentAccount needs QuickVault, which this facility does not have.",
            field="registerPaymentAccount",
        )
    if registers and not values.get("customerReferenceNumber"):
        raise InvalidParameter(
            "customerReferenceNumber is required to register a payment account in QuickVault.",
            field="customerReferenceNumber",
        )
    stored: dict[str, Any] = {name: values[name] for name in KNOWN[2:] if values.get(name)}
    if principal:  # kept as QuickStream formats amounts: "100" and " 100.5 " become 100.00, 100.50
        stored["principalAmount"] = format_amount(parse_amount(principal) or 0)
    stored["registerPaymentAccount"] = registers
    stored["custom"] = custom
    return stored, unknown


def issue_token(
    store: Store,
    facility: Facility,
    values: Mapping[str, str],
    *,
    now: datetime,
    new_token: Callable[[], str],
) -> TokenGrant:
    """Validate a secure token request and store its parameters under a new token."""
    stored, unknown = validate_token_request(facility, values)
    record = {
        "facility": facility.username,
        "communityCode": facility.community_code,
        "params": stored,
        "unknownParameters": unknown,
    }
    while True:  # a collision is astronomically unlikely, but add() makes it impossible
        token = new_token()
        if store.add(TOKEN_NS, token, record, now=now, expires_at=now + TOKEN_TTL):
            return TokenGrant(token, unknown)


# -- the handoff ---------------------------------------------------------------------------
def handoff(
    store: Store,
    fixtures: QuickStreamFixtures,
    token: str,
    community_code: str,
    *,
    now: datetime,
    new_secret: Callable[[], str],
) -> tuple[str, dict[str, Any]]:
    """Consume a token atomically and open a payment session; returns (session id, session).

    Every check runs before the token is taken, so a refused handoff consumes nothing.
    """
    if not token:
        raise InvalidParameter("The handoff needs the token parameter.", field="token")
    if not community_code:
        raise InvalidParameter(
            "The handoff needs the communityCode parameter.", field="communityCode"
        )
    record = store.record(TOKEN_NS, token)
    if record is None:
        raise TokenUnknown()
    if record.used:
        raise TokenUsed()
    if record.expired(now):
        raise TokenExpired()
    if not hmac.compare_digest(
        community_code.encode("utf-8"), str(record.value["communityCode"]).encode("utf-8")
    ):
        raise CommunityMismatch()
    params = record.value["params"]
    if params["connectionType"] not in QUICKWEB_CONNECTIONS:
        raise WrongConnectionType(
            f"This token was requested with connectionType {params['connectionType']}; "
            "QuickWeb accepts QUICKWEB or QUICKFRAME tokens."
        )
    if fixtures.facility_by_username(record.value["facility"]) is None:
        raise TokenUnknown()  # the facility was removed from the fixtures since
    taken = store.take_once(TOKEN_NS, token, now=now)
    if taken is None:
        # Another request took it between our checks and now: report what it is now.
        again = store.record(TOKEN_NS, token)
        if again is not None and again.expired(now) and not again.used:
            raise TokenExpired()
        raise TokenUsed()
    session_id = new_secret()
    session = {
        "facility": taken["facility"],
        "communityCode": taken["communityCode"],
        "params": taken["params"],
        "csrf": new_secret(),
        "binding": new_secret(),
        "status": SessionStatus.OPEN.value,
        "transaction": None,
        "tokenPrefix": token[:6],
    }
    add_new(store, SESSION_NS, session_id, session, now=now, expires_at=now + SESSION_TTL)
    return session_id, session


def load_session(
    store: Store, session_id: str, *, now: datetime, binding: str | None = None
) -> dict[str, Any]:
    """A session by id; with `binding`, also check the browser's session cookie."""
    record = store.record(SESSION_NS, session_id)
    if record is None:
        raise SessionUnknown()
    if record.expired(now):
        raise SessionExpired()
    if binding is not None and not hmac.compare_digest(
        binding.encode("utf-8"), str(record.value["binding"]).encode("utf-8")
    ):
        raise SessionCheckFailed()
    return record.value


# -- cards and bank accounts ---------------------------------------------------------------
def card_scheme(digits: str) -> str | None:
    """The card scheme from the number's leading digits (IIN ranges)."""
    if not _digits(digits) or len(digits) < 6:
        return None
    two, four = int(digits[:2]), int(digits[:4])
    if digits[0] == "4":
        return "VISA"
    if 51 <= two <= 55 or 2221 <= four <= 2720:
        return "MASTERCARD"
    if two in (34, 37):
        return "AMEX"
    if two in (36, 38, 39) or 300 <= int(digits[:3]) <= 305:
        return "DINERS"
    if 3528 <= four <= 3589:
        return "JCB"
    if two == 62:
        return "UPOP"
    return None


CARD_LENGTHS = {
    "VISA": (13, 16, 19),
    "MASTERCARD": (16,),
    "AMEX": (15,),
    "DINERS": (14, 15, 16, 17, 18, 19),
    "JCB": (16, 17, 18, 19),
    "UPOP": (16, 17, 18, 19),
}


def mask_card_number(digits: str) -> str:
    """QuickStream's mask: first six, ``...``, last three (``456471...004``)."""
    return f"{digits[:6]}...{digits[-3:]}"


def mask_account_number(digits: str) -> str:
    """All but the last three digits starred."""
    return "*" * (len(digits) - 3) + digits[-3:]


def masked_form(form: Mapping[str, str]) -> dict[str, str]:
    """The payment form with the card number, CVN, account number and CSRF token masked."""
    masked: dict[str, str] = {}
    for name, value in form.items():
        digits = re.sub(r"[^0-9]", "", value)
        if name == "cardNumber":
            masked[name] = mask_card_number(digits) if len(digits) >= 12 else "***"
        elif name == "accountNumber":
            masked[name] = mask_account_number(digits) if len(digits) >= 4 else "***"
        elif name in ("cvn", "csrf"):
            masked[name] = "***"
        else:
            # A payer may type the card number into the wrong field (name, amount...).
            masked[name] = mask_cards(value)[:100]
    return masked


def card_outcome(digits: str) -> tuple[str, str, SummaryCode]:
    """(responseCode, responseDescription, summaryCode) from the last two digits."""
    decline = DECLINES.get(digits[-2:])
    if decline is None:
        return (*APPROVED_RESPONSE, SummaryCode.APPROVED)
    return (*decline, SummaryCode.DECLINED)


@dataclass
class PaymentForm:
    """What the payer submitted, checked; never holds the full card number after checking."""

    method: str  # "card" or "bank"
    principal: int
    surcharge: int = 0
    cardholder_name: str = ""
    card_scheme: str = ""
    masked_card: str = ""
    expiry_month: str = ""
    expiry_year: str = ""
    last_two: str = ""
    account_name: str = ""
    bsb: str = ""
    masked_account: str = ""


class PaymentInvalid(Exception):
    """Inline validation errors by field name; the session stays open for another try."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


# The payment page's fields in the order a person meets them (and tabs through them).
PAGE_FIELDS = (
    "amount",
    "paymentMethod",
    "cardholderName",
    "cardNumber",
    "expiryDateMonth",
    "expiryDateYear",
    "cvn",
    "accountName",
    "bsb",
    "accountNumber",
)


def errors_in_page_order(errors: Mapping[str, str]) -> list[tuple[str, str]]:
    """Inline errors in the order of the fields on the page (the first one gets the focus)."""
    rank = {name: index for index, name in enumerate(PAGE_FIELDS)}
    return sorted(errors.items(), key=lambda item: rank.get(item[0], len(rank)))


# Never echoed back into the page after an error, so the payer has to type them again.
NOT_ECHOED = ("cardNumber", "cvn")


def focus_field(errors: Mapping[str, str], method: str) -> str | None:
    """Where the focus goes after inline errors: the first field to fix or to type again."""
    if not errors:
        return None
    retype = NOT_ECHOED if method == "card" else ()
    wanted = set(errors) | set(retype)
    return next((name for name in PAGE_FIELDS if name in wanted), None)


def custom_label(name: str) -> str:
    """``customPayeeName`` shown as ``Payee name``: the words of the name after ``custom``."""
    words = re.findall(r"[A-Z]+(?![a-z])|[A-Z]?[a-z0-9_]+", name.removeprefix("custom"))
    text = " ".join(w if w.isupper() and len(w) > 1 else w.lower() for w in words)
    return (text[:1].upper() + text[1:]) if text else name


def allowed_methods(params: Mapping[str, Any]) -> tuple[str, ...]:
    """Card, bank account, or both, per the token's accountType."""
    account_type = params.get("accountType")
    if account_type == "CREDIT_CARD":
        return ("card",)
    if account_type == "DIRECT_DEBIT":
        return ("bank",)
    return ("card", "bank")


def check_payment_form(
    facility: Facility, params: Mapping[str, Any], form: Mapping[str, str], *, now: datetime
) -> PaymentForm:
    """Validate the payment page's form: amount, card (Luhn, expiry, CVN) or bank account."""
    errors: dict[str, str] = {}
    methods = allowed_methods(params)
    method = form.get("paymentMethod") or methods[0]
    if method not in methods:
        errors["paymentMethod"] = "This payment method is not available for this payment."
        raise PaymentInvalid(errors)
    principal = parse_amount(params["principalAmount"]) if params.get("principalAmount") else None
    if principal is None:
        # A person may type the dollar sign; the token request's principalAmount may not.
        principal = parse_amount(form.get("amount", "").strip().removeprefix("$"))
        if principal is None:
            errors["amount"] = amount_problem(form.get("amount", ""))
    result = PaymentForm(method=method, principal=principal or 0)
    if method == "card":
        _check_card(facility, form, now, result, errors)
    else:
        _check_bank(form, result, errors)
    if errors:
        raise PaymentInvalid(errors)
    return result


def _check_card(
    facility: Facility,
    form: Mapping[str, str],
    now: datetime,
    result: PaymentForm,
    errors: dict[str, str],
) -> None:
    name = form.get("cardholderName", "").strip()
    if not name:
        errors["cardholderName"] = "Enter the name on the card."
    elif NAME_CONTROL_CHARS.search(name):
        # A name travels on in the passback, the notification and the emailed receipt.
        errors["cardholderName"] = "The name on the card must be one line of plain text."
    elif len(name) > 60:
        errors["cardholderName"] = "The name on the card must be at most 60 characters."
    digits = re.sub(r"[\s-]", "", form.get("cardNumber", ""))
    scheme = card_scheme(digits)
    if not digits:
        errors["cardNumber"] = "Enter the card number."
    elif not _digits(digits) or scheme is None or len(digits) not in CARD_LENGTHS[scheme]:
        errors["cardNumber"] = "This is not a valid card number."
    elif not luhn_valid(digits):
        errors["cardNumber"] = "This card number is not valid (check digit). Check the number."
    elif scheme not in facility.surcharges_bp:
        accepted = ", ".join(facility.surcharges_bp) or "none"
        errors["cardNumber"] = f"{scheme} cards are not accepted here (accepted: {accepted})."
    # A card is good to the end of its expiry month where QuickStream runs: Sydney, not UTC.
    today = sydney(now)
    month, year = form.get("expiryDateMonth", "").strip(), form.get("expiryDateYear", "").strip()
    if len(year) == 2 and _digits(year):
        year = "20" + year
    if not (_digits(month) and 1 <= int(month) <= 12):
        errors["expiryDateMonth"] = "Choose the expiry month."
    elif not (len(year) == 4 and _digits(year)):
        errors["expiryDateYear"] = "Choose the expiry year."
    elif (int(year), int(month)) < (today.year, today.month):
        errors["expiryDateYear"] = "This card has expired."
    elif int(year) > today.year + 20:
        errors["expiryDateYear"] = "The expiry year is too far in the future."
    cvn = form.get("cvn", "").strip()
    cvn_length = 4 if scheme == "AMEX" else 3
    if not (_digits(cvn) and len(cvn) == cvn_length):
        errors["cvn"] = f"Enter the {cvn_length}-digit security code (CVN)."
    if errors:
        return
    assert scheme is not None  # checked above; narrows the type
    result.cardholder_name = name
    result.card_scheme = scheme
    result.masked_card = mask_card_number(digits)
    result.expiry_month = f"{int(month):02d}"
    result.expiry_year = year
    result.last_two = digits[-2:]
    result.surcharge = surcharge_cents(result.principal, facility.surcharges_bp[scheme])


def _check_bank(form: Mapping[str, str], result: PaymentForm, errors: dict[str, str]) -> None:
    name = form.get("accountName", "").strip()
    if not name:
        errors["accountName"] = "Enter the account name."
    elif NAME_CONTROL_CHARS.search(name):
        errors["accountName"] = "The account name must be one line of plain text."
    elif len(name) > 32:
        errors["accountName"] = "The account name must be at most 32 characters."
    bsb = form.get("bsb", "").strip()
    if not re.fullmatch(r"[0-9]{3}-?[0-9]{3}", bsb):
        errors["bsb"] = "Enter a 6-digit BSB, such as 032-000."
    number = form.get("accountNumber", "").replace(" ", "")
    if not re.fullmatch(r"[0-9]{4,9}", number):
        errors["accountNumber"] = "Enter an account number of 4 to 9 digits."
    if errors:
        return
    digits = bsb.replace("-", "")
    result.account_name = name
    result.bsb = f"{digits[:3]}-{digits[3:]}"
    result.masked_account = mask_account_number(number)


# -- paying --------------------------------------------------------------------------------
def next_receipt_number(store: Store, *, now: datetime) -> str:
    """Receipt numbers count up from a seeded start, atomically."""
    value = store.update(COUNTER_NS, "receipt", lambda v: {"next": v["next"] + 1}, now=now)
    if value is None:  # the counter is seeded; a missing one means a reset raced us
        store.add(COUNTER_NS, "receipt", {"next": 1000000000}, now=now)
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

    if store.update(SESSION_NS, session_id, complete, now=now) is None:
        raise SessionExpired()
    add_new(
        store,
        PAYMENT_NS,
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
    add_new(store, VAULT_NS, str(transaction["accountToken"]), account, now=now)


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

    updated = store.update(SESSION_NS, session_id, change, now=now)
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
    fields += sorted(params.get("custom", {}).items())
    return fields


@dataclass(frozen=True)
class Notification:
    """Where and how to deliver one notification; the outbox does the delivering."""

    url: str
    body: bytes
    username: str
    password: str
    error_email: str | None


def plan_notification(
    facility: Facility, session: Mapping[str, Any], transaction: Mapping[str, Any]
) -> Notification | None:
    """The notification for a completed payment, or None when no URL is configured."""
    params = session["params"]
    url = params.get("serverReturnUrl") or facility.server_return_url
    if not url:
        return None
    body = urlencode(notification_fields(session, transaction)).encode("utf-8")
    return Notification(
        url=url,
        body=body,
        username=facility.notification_username,
        password=facility.notification_password,
        error_email=params.get("errorEmailToAddress") or facility.error_email,
    )


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
