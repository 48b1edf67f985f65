"""Reading a JSON request body field by field, collecting every problem for one 422.

A card number or CVN is never echoed back in ``fieldValue``; the checks mirror the QuickWeb
payment page's (Luhn, scheme and length, expiry in Sydney, CVN 3 digits or 4 for AMEX).
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from mockbank.masking import luhn_valid
from mockbank.providers.quickstream.models import common, payment_form
from mockbank.providers.quickstream.rest.errors import BadRequest, FieldError, Invalid
from mockbank.providers.quickstream.rest.records import BankAccount, Card, PaymentAccount

NOT_ECHOED = ("cardNumber", "cvn", "accountNumber")
CONTROL = re.compile(r"[\x00-\x1f\x7f]")
MAX_AMOUNT_CENTS = 100_000_000_00  # a single transaction's ceiling: our choice, documented


def parse_json(raw: bytes, mimetype: str | None) -> dict[str, Any]:
    """The body as a JSON object (numbers as Decimal, so 10.10 stays 10.10), or 400."""
    if (mimetype or "").lower() not in ("application/json", ""):
        raise BadRequest(f"Send the body as JSON (Content-Type: application/json), not {mimetype}.")
    try:
        data = json.loads(raw.decode("utf-8"), parse_float=Decimal)
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise BadRequest("The request body is not valid JSON (UTF-8).") from None
    if not isinstance(data, dict):
        raise BadRequest("The request body must be a JSON object.")
    return data


class Body:
    """A parsed JSON object and the field errors found while reading it."""

    def __init__(self, data: dict[str, Any]) -> None:
        self.data = data
        self.errors: list[FieldError] = []

    def fail(self, name: str, message: str) -> None:
        value = self.data.get(name)
        shown = None if value is None or name in NOT_ECHOED else str(value)[:100]
        self.errors.append(FieldError(name, shown, (message,)))

    def check(self) -> None:
        """Raise one 422 listing every problem found so far."""
        if self.errors:
            raise Invalid(list(self.errors))

    def text(self, name: str, *, required: bool = False, max_length: int = 100) -> str | None:
        """A string field (trimmed); blank counts as absent."""
        value = self.data.get(name)
        if value is None or (isinstance(value, str) and not value.strip()):
            if required:
                self.fail(name, f"{name} is required.")
            return None
        if not isinstance(value, str):
            self.fail(name, f"{name} must be a string.")
            return None
        value = value.strip()
        if CONTROL.search(value):
            self.fail(name, f"{name} must not contain control characters.")
            return None
        if len(value) > max_length:
            self.fail(name, f"{name} must be at most {max_length} characters.")
            return None
        return value

    def choice(self, name: str, allowed: tuple[str, ...], *, required: bool = False) -> str | None:
        value = self.text(name, required=required)
        if value is not None and value not in allowed:
            self.fail(name, f"{name} must be one of {', '.join(allowed)}.")
            return None
        return value

    def boolean(self, name: str, default: bool) -> bool:
        value = self.data.get(name)
        if value is None:
            return default
        if not isinstance(value, bool):
            self.fail(name, f"{name} must be true or false.")
            return default
        return value

    def amount(self, name: str, *, required: bool = True) -> int | None:
        """Cents from a positive amount with at most 2 decimals (a JSON number or a string)."""
        value = self.data.get(name)
        if value is None:
            if required:
                self.fail(name, f"{name} is required.")
            return None
        if isinstance(value, bool) or not isinstance(value, int | Decimal | str):
            self.fail(name, f"{name} must be an amount such as 10.00.")
            return None
        try:
            number = Decimal(value.strip() if isinstance(value, str) else value)
        except InvalidOperation:
            self.fail(name, f"{name} must be an amount such as 10.00.")
            return None
        if not number.is_finite() or number <= 0:
            self.fail(name, f"{name} must be greater than zero.")
            return None
        if number != number.quantize(Decimal("0.01")):
            self.fail(name, f"{name} must have at most 2 decimal places.")
            return None
        cents = int(number * 100)
        if cents > MAX_AMOUNT_CENTS:
            self.fail(name, f"{name} is too large.")
            return None
        return cents


def read_account(
    body: Body, account_type: str, accepted: dict[str, int], now: datetime
) -> PaymentAccount | None:
    """The card or bank account in `body` (single-use token request fields)."""
    if account_type == "CREDIT_CARD":
        card = _read_card(body, accepted, now)
        return PaymentAccount(card=card) if card else None
    bank = _read_bank(body)
    return PaymentAccount(bank=bank) if bank else None


def _read_card(body: Body, accepted: dict[str, int], now: datetime) -> Card | None:
    name = body.text("cardholderName", max_length=60) or ""
    raw = body.data.get("cardNumber")
    digits = re.sub(r"[\s-]", "", raw) if isinstance(raw, str) else ""
    scheme = payment_form.card_scheme(digits)
    if not digits:
        body.fail("cardNumber", "cardNumber is required.")
    elif (
        not (digits.isascii() and digits.isdigit())
        or scheme is None
        or len(digits) not in payment_form.CARD_LENGTHS[scheme]
        or not luhn_valid(digits)
    ):
        body.fail("cardNumber", "cardNumber is not a valid card number.")
    elif scheme not in accepted:
        body.fail("cardNumber", f"{scheme} cards are not accepted by this business.")
    month, year = _read_expiry(body, now)
    cvn = body.data.get("cvn")
    if cvn is not None and cvn != "":
        want = 4 if scheme == "AMEX" else 3
        if not (isinstance(cvn, str) and cvn.isascii() and cvn.isdigit() and len(cvn) == want):
            body.fail("cvn", f"cvn must be {want} digits.")
    if body.errors or scheme is None or month is None or year is None:
        return None
    return Card(payment_form.mask_card_number(digits), digits[-4:], scheme, month, year, name)


def _read_expiry(body: Body, now: datetime) -> tuple[str | None, str | None]:
    month = body.text("expiryDateMonth", required=True, max_length=2)
    year = body.text("expiryDateYear", required=True, max_length=4)
    if month is not None and not (month.isdigit() and 1 <= int(month) <= 12):
        body.fail("expiryDateMonth", "expiryDateMonth must be two digits, 01 to 12.")
        month = None
    if year is not None and not (year.isdigit() and len(year) == 4):
        body.fail("expiryDateYear", "expiryDateYear must be four digits, such as 2030.")
        year = None
    if month is None or year is None:
        return None, None
    today = common.sydney(now)
    if (int(year), int(month)) < (today.year, today.month):
        body.fail("expiryDateYear", "The card has expired.")
        return None, None
    if int(year) > today.year + 20:
        body.fail("expiryDateYear", "expiryDateYear is too far in the future.")
        return None, None
    return f"{int(month):02d}", year


def _read_bank(body: Body) -> BankAccount | None:
    name = body.text("accountName", required=True, max_length=32)
    bsb = body.text("bsb", required=True, max_length=7)
    if bsb is not None and not re.fullmatch(r"[0-9]{3}-?[0-9]{3}", bsb):
        body.fail("bsb", "bsb must be 6 digits, such as 032-000.")
        bsb = None
    raw = body.data.get("accountNumber")
    number = raw.replace(" ", "") if isinstance(raw, str) else ""
    if not number:
        body.fail("accountNumber", "accountNumber is required.")
    elif not re.fullmatch(r"[0-9]{4,9}", number):
        body.fail("accountNumber", "accountNumber must be 4 to 9 digits.")
    if body.errors or name is None or bsb is None:
        return None
    digits = bsb.replace("-", "")
    return BankAccount(name, f"{digits[:3]}-{digits[3:]}", payment_form.mask_account_number(number))
