"""Checking SysPay request bodies and fixtures; every problem carries SysPay's own code.

SysPay's code table (its v2 PHP SDK's ``ErrorCodes``) decides the numbers: 10003 a missing
parameter, 10004 an extra one, 10009 a value of the wrong JSON type, 20035 too long, 10001 a
value in the wrong format, 3002x the card fields, 30048 a bad check digit, 60006 an unknown
detokenizer login. Messages start with SysPay's text (placeholders filled in, never a card
value) and may add why in brackets.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from mockbank.masking import luhn_valid
from mockbank.providers.syspay import errors
from mockbank.providers.syspay.models import DetokenizeRequest, Partner, SysPayFixtures
from mockbank.providers.syspay.records import (
    ALL_TYPES,
    CreditCard,
    Detokenizer,
    DetokenizeType,
    is_type,
)

MAX_TEXT = 100  # viewer and company_reference: "max length 100" (seed 001)
CARD_FIELDS = ("number", "cardholder", "exp_month", "exp_year", "cvc")
CARD_CODES = {
    "number": errors.INVALID_CARDNUMBER,
    "cardholder": errors.INVALID_CARDHOLDER,
    "exp_month": errors.INVALID_EXP_MONTH,
    "exp_year": errors.INVALID_EXP_YEAR,
    "cvc": errors.INVALID_CVC,
}


class Problems:
    """Collects (field, message, code) so one 400 names every wrong field."""

    def __init__(self) -> None:
        self.items: list[tuple[str, str, int]] = []

    def add(self, name: str, message: str, code: int) -> None:
        self.items.append((name, message, code))

    def missing(self, name: str, hint: str = "") -> None:
        self.add(name, f"Missing required parameters: {name}{hint}", errors.MISSING_PARAMETERS)

    def wrong_type(self, name: str, kind: str) -> None:
        # SysPay's template names the value; the field stands in so no card value is echoed.
        self.add(name, f"The value {name} is not of type {kind}", errors.WRONG_TYPE)

    def bad_format(self, name: str, why: str) -> None:
        self.add(name, f"Invalid data format ({why})", errors.INVALID_DATA_FORMAT)

    def raise_if_any(self) -> None:
        if self.items:
            name, message, _ = self.items[0]
            raise errors.ValidationFailed(message, field=name, problems=list(self.items))


def _unknown_fields(
    problems: Problems, data: dict[str, Any], allowed: Iterable[str], where: str
) -> None:
    # Like a Symfony form, extra fields are refused rather than silently ignored.
    for name in sorted(set(data) - set(allowed)):
        problems.add(
            f"{where}{name}",
            f"Extra parameters not allowed: {where}{name}",
            errors.EXTRA_PARAMETERS,
        )


def _text(
    problems: Problems, data: dict[str, Any], name: str, where: str = "", *, required: bool = True
) -> str | None:
    value = data.get(name)
    label = f"{where}{name}"
    if value is None or value == "" or (isinstance(value, str) and not value.strip()):
        if required:
            problems.missing(label)
        return None
    if not isinstance(value, str):
        problems.wrong_type(label, "string")
        return None
    if len(value) > MAX_TEXT:
        problems.add(
            label,
            f"This parameter has a maximum length of {MAX_TEXT} characters "
            f"({label} is {len(value)})",
            errors.TOO_LONG,
        )
        return None
    return value


def _whole(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= 4:
        return int(value)
    return None


def _card_problem(problems: Problems, where: str, name: str, why: str) -> None:
    code = CARD_CODES[name]
    problems.add(f"{where}{name}", f"{errors.VALIDATION_CODES[code]} ({why})", code)


def _card_number(problems: Problems, data: dict[str, Any], where: str) -> str | None:
    number = data.get("number")
    if isinstance(number, int) and not isinstance(number, bool):
        number = str(number)
    if number is None or number == "":
        problems.missing(f"{where}number", " (a string of digits)")
        return None
    if not isinstance(number, str):
        problems.wrong_type(f"{where}number", "string")
        return None
    number = number.replace(" ", "")
    if not (number.isascii() and number.isdigit() and 12 <= len(number) <= 19):
        _card_problem(problems, where, "number", "12 to 19 digits")
        return None
    if not luhn_valid(number):
        problems.add(
            f"{where}number",
            "Invalid check digit for provided card number",
            errors.BAD_CHECK_DIGIT,
        )
        return None
    return number


def _cardholder(problems: Problems, data: dict[str, Any], where: str) -> str | None:
    value = data.get("cardholder")
    if value is None or value == "" or (isinstance(value, str) and not value.strip()):
        problems.missing(f"{where}cardholder")
        return None
    if not isinstance(value, str) or len(value) > MAX_TEXT:
        _card_problem(problems, where, "cardholder", f"a string of at most {MAX_TEXT} characters")
        return None
    return value


def parse_card(problems: Problems, data: Any, *, where: str = "creditcard.") -> CreditCard | None:
    """Validate card details (never echoing the number or the CVC in a message)."""
    if data is None:
        problems.missing(where.rstrip("."))
        return None
    if not isinstance(data, dict):
        problems.wrong_type(where.rstrip("."), "object")
        return None
    _unknown_fields(problems, data, CARD_FIELDS, where)
    number = _card_number(problems, data, where)
    holder = _cardholder(problems, data, where)
    month = _whole(data.get("exp_month"))
    if month is None or not 1 <= month <= 12:
        _card_problem(problems, where, "exp_month", "a month, 1 to 12")
    year = _whole(data.get("exp_year"))
    if year is None or not 2000 <= year <= 2099:
        _card_problem(problems, where, "exp_year", "a four-digit year")
    cvc = data.get("cvc")
    if cvc is not None and not (
        isinstance(cvc, str) and cvc.isascii() and cvc.isdigit() and len(cvc) in (3, 4)
    ):
        _card_problem(problems, where, "cvc", "3 or 4 digits")
    if number is None or holder is None or month is None or year is None:
        return None
    if not 1 <= month <= 12 or not 2000 <= year <= 2099:
        return None
    return CreditCard(number, holder, month, year)


def _detokenizer(
    problems: Problems, entry: Any, where: str, partners: Mapping[str, Partner], found: list[str]
) -> Detokenizer | None:
    if not isinstance(entry, dict):
        problems.wrong_type(where.rstrip("."), "object")
        return None
    _unknown_fields(problems, entry, ("login", "types"), where)
    login = entry.get("login")
    if login is None or login == "":
        problems.missing(f"{where}login")
        return None
    if not isinstance(login, str) or login not in partners or login in found:
        why = "listed twice" if login in found else f"unknown partner {login!r}"
        problems.add(
            f"{where}login",
            f"Invalid authorized_detokenizers IDs ({where}login: {why})",
            errors.INVALID_DETOKENIZER_IDS,
        )
        return None
    types = entry.get("types", [str(t) for t in ALL_TYPES])
    if (
        not isinstance(types, list)
        or not types
        or not all(is_type(t) for t in types)
        or len(set(types)) != len(types)
    ):
        problems.bad_format(f"{where}types", "a non-empty list of TEXT and/or IMAGE")
        return None
    return Detokenizer(login, tuple(DetokenizeType(t) for t in types))


def parse_detokenizers(
    problems: Problems, data: Any, partners: Mapping[str, Partner]
) -> tuple[Detokenizer, ...]:
    """``[{"login": "myPartnerLogin", "types": ["TEXT", "IMAGE"]}]``; types default to both."""
    if data is None or data == []:
        problems.missing("detokenizers", " (a non-empty list of partners)")
        return ()
    if not isinstance(data, list):
        problems.wrong_type("detokenizers", "array")
        return ()
    found: list[Detokenizer] = []
    for index, entry in enumerate(data):
        where = f"detokenizers.{index}."
        detokenizer = _detokenizer(problems, entry, where, partners, [d.login for d in found])
        if detokenizer is not None:
            found.append(detokenizer)
    return tuple(found)


def parse_token_request(
    data: Any, fixtures: SysPayFixtures, *, now: datetime
) -> tuple[CreditCard, tuple[Detokenizer, ...]]:
    """Validate ``POST /api/v2/merchant/token``: ``creditcard`` and ``detokenizers``."""
    problems = Problems()
    if not isinstance(data, dict):
        raise errors.MalformedJson("Invalid data format (the body must be a JSON object).")
    _unknown_fields(problems, data, ("creditcard", "detokenizers"), "")
    card = parse_card(problems, data.get("creditcard"))
    if card is not None and card.expired(now):
        problems.add(
            "creditcard.exp_year",
            f"Invalid expire date (the card expired at the end of {card.expiry})",
            errors.INVALID_EXPIRE_DATE,
        )
    detokenizers = parse_detokenizers(problems, data.get("detokenizers"), fixtures.partners)
    problems.raise_if_any()
    assert card is not None  # no problems means the card parsed
    return card, detokenizers


def parse_detokenize_request(data: Any, *, reference_required: bool = True) -> DetokenizeRequest:
    """Validate the detokenization body: ``type``, ``viewer``, ``company_reference``.

    A partner names the merchant it acts for in ``company_reference`` (seed 001: mandatory);
    a merchant detokenizing its own token may leave it out (``reference_required=False``).
    """
    if not isinstance(data, dict):
        raise errors.MalformedJson("Invalid data format (the body must be a JSON object).")
    problems = Problems()
    _unknown_fields(problems, data, ("type", "viewer", "company_reference"), "")
    kind = data.get("type")
    if kind is None or kind == "":
        problems.missing("type", " (TEXT or IMAGE)")
    elif not isinstance(kind, str):
        problems.wrong_type("type", "string")
    elif not is_type(kind):
        problems.bad_format("type", "type must be TEXT or IMAGE")
    viewer = _text(problems, data, "viewer")
    reference = _text(problems, data, "company_reference", required=reference_required)
    problems.raise_if_any()
    assert viewer is not None
    return DetokenizeRequest(DetokenizeType(str(kind)), viewer, reference or "")
