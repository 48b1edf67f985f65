"""Cards: the sandbox's card table, brands, network tokens, and validating a tokenize body."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from mockbank.masking import luhn_complete, luhn_valid
from mockbank.providers.forter.errors import ValidationFailed
from mockbank.providers.forter.records import Alias

TEXT_LIMIT = 256
EXTRA_LIMIT = 50
# Fixture cards are validated against this instant, so a fixture file never "expires".
FIXTURE_EPOCH = datetime(2024, 1, 1, tzinfo=UTC)
ALLOWED_FIELDS = frozenset(
    {
        "cardNumber",
        "expirationMonth",
        "expirationYear",
        "cardHolderName",
        "cvc",
        "alias",
        "extra",
    }
)
CARD_FIELDS = ("cardNumber", "expirationMonth", "expirationYear", "cardHolderName")

SANDBOX_CARDS: tuple[dict[str, str], ...] = (
    {"number": "4111111111111111", "brand": "VISA"},
    {"number": "4444333322221111", "brand": "VISA"},
    {"number": "4646464646464644", "brand": "VISA"},
    {"number": "349531373081938", "brand": "AMEX"},
    {"number": "5248480000201017", "brand": "MASTERCARD"},
    {"number": "5555444433331111", "brand": "MASTERCARD"},
    {"number": "5353535353535351", "brand": "MASTERCARD", "network_token": "yes"},
    {"number": "4343434343434345", "brand": "VISA", "network_token": "yes"},
    {"number": "373737373737374", "brand": "AMEX", "network_token": "yes"},
)

CARD_PLACEHOLDERS = (
    "card_number",
    "expiration_m",
    "expiration_month",
    "expiration_mm",
    "expiration_yy",
    "expiration_yyyy",
    "expiration_year",
    "cvc",
    "card_holder_name",
    "card_bin",
    "card_last_four",
    "network_token",
    "network_token_cryptogram",
    "network_token_eci",
)


def card_brand(number: str) -> str:
    """The card scheme from the leading digits (enough for the sandbox numbers)."""
    if number[:2] in ("34", "37"):
        return "AMEX"
    if number[:1] == "4":
        return "VISA"
    if number[:2] in ("51", "52", "53", "54", "55") or "2221" <= number[:4] <= "2720":
        return "MASTERCARD"
    if number[:4] == "6011" or number[:2] == "65":
        return "DISCOVER"
    return "UNKNOWN"


def network_token_for(number: str) -> str | None:
    """A stable, Luhn-valid network token (DPAN) for the sandbox's network-token cards."""
    if not any(c["number"] == number and c.get("network_token") for c in SANDBOX_CARDS):
        return None
    digest = hashlib.sha256(b"mockbank-dpan:" + number.encode()).hexdigest()
    body = number[:6] + "".join(str(int(c, 16) % 10) for c in digest)[: len(number) - 7]
    return luhn_complete(body)


@dataclass(frozen=True)
class CardInput:
    """A validated tokenization request."""

    number: str | None
    exp_month: int | None
    exp_year: int | None
    holder: str | None
    cvc: str | None
    alias: Alias | None
    extra: dict[str, str]


def parse_card_input(data: Any, *, single_use: bool, now: datetime) -> CardInput:
    """Validate a tokenize / tokenize-single-use body; errors name the field."""
    if not isinstance(data, dict):
        raise ValidationFailed("The body must be a JSON object.")
    unknown = sorted(set(data) - ALLOWED_FIELDS)
    if unknown:
        raise ValidationFailed(
            f"Unknown field(s): {', '.join(unknown)}. "
            f"Allowed: {', '.join(sorted(ALLOWED_FIELDS))}.",
            field=unknown[0],
        )
    cvc = _parse_cvc(data.get("cvc"), single_use=single_use)
    if data.get("cardNumber") is None and single_use and cvc is not None:
        return _cvc_only(data, cvc)
    number = _parse_number(data.get("cardNumber"))
    month, year = _parse_expiry(data, now)
    holder = _text(data, "cardHolderName", limit=100)
    alias = _parse_alias(data.get("alias"))
    extra = _parse_extra(data.get("extra"))
    return CardInput(number, month, year, holder, cvc, alias, extra)


def _parse_cvc(cvc: Any, *, single_use: bool) -> str | None:
    if cvc is None:
        return None
    if not single_use:
        raise ValidationFailed(
            "'cvc' is only stored in single-use tokens; use tokenize-single-use.", field="cvc"
        )
    if not isinstance(cvc, str) or not re.fullmatch(r"\d{3,4}", cvc):
        raise ValidationFailed("'cvc' must be a string of 3 or 4 digits.", field="cvc")
    return cvc


def _cvc_only(data: Mapping[str, Any], cvc: str) -> CardInput:
    # A CVC-only token (the seed's forter-cvc-token): nothing else may come with it.
    stray = [f for f in (*CARD_FIELDS, "alias", "extra") if data.get(f) is not None]
    if stray:
        raise ValidationFailed(
            f"'{stray[0]}' needs 'cardNumber'; a CVC-only token holds just 'cvc'.",
            field=stray[0],
        )
    return CardInput(None, None, None, None, cvc, None, {})


def _parse_number(number: Any) -> str:
    if number is None:
        raise ValidationFailed("'cardNumber' is required.", field="cardNumber")
    if not isinstance(number, str) or not re.fullmatch(r"\d{12,19}", number):
        raise ValidationFailed(
            "'cardNumber' must be a string of 12 to 19 digits.", field="cardNumber"
        )
    if not luhn_valid(number):
        raise ValidationFailed("'cardNumber' fails the Luhn check.", field="cardNumber")
    return number


def _parse_expiry(data: Mapping[str, Any], now: datetime) -> tuple[int, int]:
    month = _number_field(data, "expirationMonth")
    year = _number_field(data, "expirationYear")
    if month is None:
        raise ValidationFailed("'expirationMonth' is required.", field="expirationMonth")
    if year is None:
        raise ValidationFailed("'expirationYear' is required.", field="expirationYear")
    if not 1 <= month <= 12:
        raise ValidationFailed("'expirationMonth' must be 1 to 12.", field="expirationMonth")
    if year < 100:
        year += 2000  # a two-digit year means this century
    if not 2000 <= year <= 2099:
        raise ValidationFailed(
            "'expirationYear' must be a four-digit year.", field="expirationYear"
        )
    if (year, month) < (now.year, now.month):
        raise ValidationFailed(
            "The card expired (expirationMonth/expirationYear is past).", field="expirationYear"
        )
    return month, year


def _text(data: Mapping[str, Any], name: str, *, limit: int = TEXT_LIMIT) -> str | None:
    value = data.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValidationFailed(f"'{name}' must be a string.", field=name)
    if not value.strip():
        raise ValidationFailed(f"'{name}' must not be empty.", field=name)
    if len(value) > limit:
        raise ValidationFailed(f"'{name}' is longer than {limit} characters.", field=name)
    return value


def _number_field(data: Mapping[str, Any], name: str) -> int | None:
    value = data.get(name)
    if value is None:
        return None
    if isinstance(value, bool):
        raise ValidationFailed(f"'{name}' must be a number.", field=name)
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit() and len(value.strip()) <= 4:
        return int(value.strip())
    raise ValidationFailed(f"'{name}' must be a number such as 8 or \"08\".", field=name)


def _parse_alias(value: Any) -> Alias | None:
    if value is None:
        return None
    if not isinstance(value, dict) or set(value) != {"key", "value"}:
        raise ValidationFailed("'alias' must be an object with 'key' and 'value'.", field="alias")
    for part in ("key", "value"):
        text = value[part]
        if not isinstance(text, str) or not text.strip() or len(text) > 100:
            raise ValidationFailed(
                f"'alias.{part}' must be a non-empty string of at most 100 characters.",
                field=f"alias.{part}",
            )
        if "\n" in text:
            raise ValidationFailed(f"'alias.{part}' must be one line.", field=f"alias.{part}")
    return Alias(value["key"], value["value"])


def _parse_extra(value: Any) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ValidationFailed("'extra' must be an object of text fields.", field="extra")
    if len(value) > EXTRA_LIMIT:
        raise ValidationFailed(f"'extra' holds at most {EXTRA_LIMIT} fields.", field="extra")
    result: dict[str, str] = {}
    for key, text in value.items():
        if not re.fullmatch(r"[A-Za-z0-9_.\-]{1,64}", key):
            raise ValidationFailed(
                f"'extra' key {key[:64]!r} must be 1-64 letters, digits, '_', '.' or '-' "
                "(it becomes a placeholder name).",
                field="extra",
            )
        if key in CARD_PLACEHOLDERS:
            raise ValidationFailed(
                f"'extra.{key}' would shadow the built-in placeholder of that name.",
                field=f"extra.{key}",
            )
        if not isinstance(text, str) or len(text) > TEXT_LIMIT:
            raise ValidationFailed(
                f"'extra.{key}' must be a string of at most {TEXT_LIMIT} characters.",
                field=f"extra.{key}",
            )
        result[key] = text
    return result
