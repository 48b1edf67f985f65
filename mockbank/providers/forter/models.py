"""Forter's vault and detokenization rules: tokens, aliases, placeholders, signing.

No flask here: every function takes the store and the app clock's ``now`` (STYLE).
Records live in two namespaces: ``forter.token`` (token id → card, CVC, alias, extra fields)
and ``forter.alias`` (``key\\nvalue`` → token id).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from enum import StrEnum
from typing import Any
from urllib.parse import quote

from mockbank.masking import luhn_complete, luhn_valid, mask_pan
from mockbank.providers.forter.errors import (
    ProxyTokenNotFound,
    ProxyValidationError,
    TokenNotFound,
    ValidationFailed,
)
from mockbank.proxy.upstream import HOP_BY_HOP
from mockbank.store import RecordExists, Store

TOKENS = "forter.token"
ALIASES = "forter.alias"
TOKEN_RE = re.compile(r"^ftr1[0-9a-f]{32}$")
SINGLE_USE_TTL_S = 24 * 3600  # the seed and Forter's docs: single-use tokens live 24 hours
TEXT_LIMIT = 256
EXTRA_LIMIT = 50
# Fixture cards are validated against this instant, so a fixture file never "expires".
FIXTURE_EPOCH = datetime(2024, 1, 1, tzinfo=UTC)

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
HMAC_ALGORITHMS: dict[str, Callable[[], Any]] = {
    "sha256": hashlib.sha256,
    "sha512": hashlib.sha512,
    "sha1": hashlib.sha1,
    "md5": hashlib.md5,
}
HMAC_HEADERS = (
    "forter-hmac-algo",
    "forter-hmac-target-header",
    "forter-hmac-secret",
    "forter-hmac-payload-template",
)
# Electronic commerce indicators of a network-token (tokenized e-commerce) transaction.
ECI_BY_BRAND = {"VISA": "05", "MASTERCARD": "02", "AMEX": "05"}


class TokenType(StrEnum):
    MULTI_USE = "multi-use"
    SINGLE_USE = "single-use"


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


# -- validation of tokenization requests -------------------------------------------------------
@dataclass(frozen=True)
class CardInput:
    """A validated tokenization request."""

    number: str | None
    exp_month: int | None
    exp_year: int | None
    holder: str | None
    cvc: str | None
    alias: dict[str, str] | None
    extra: dict[str, str]


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


def parse_card_input(data: Any, *, single_use: bool, now: datetime) -> CardInput:
    """Validate a tokenize / tokenize-single-use body; errors name the field."""
    if not isinstance(data, dict):
        raise ValidationFailed("The body must be a JSON object.")
    allowed = {
        "cardNumber",
        "expirationMonth",
        "expirationYear",
        "cardHolderName",
        "cvc",
        "alias",
        "extra",
    }
    unknown = sorted(set(data) - allowed)
    if unknown:
        raise ValidationFailed(
            f"Unknown field(s): {', '.join(unknown)}. Allowed: {', '.join(sorted(allowed))}.",
            field=unknown[0],
        )
    cvc = data.get("cvc")
    if cvc is not None:
        if not single_use:
            raise ValidationFailed(
                "'cvc' is only stored in single-use tokens; use tokenize-single-use.",
                field="cvc",
            )
        if not isinstance(cvc, str) or not re.fullmatch(r"\d{3,4}", cvc):
            raise ValidationFailed("'cvc' must be a string of 3 or 4 digits.", field="cvc")
    number = data.get("cardNumber")
    card_fields = ("cardNumber", "expirationMonth", "expirationYear", "cardHolderName")
    if number is None and single_use and cvc is not None:
        # A CVC-only token (the seed's forter-cvc-token): nothing else may come with it.
        stray = [f for f in (*card_fields, "alias", "extra") if data.get(f) is not None]
        if stray:
            raise ValidationFailed(
                f"'{stray[0]}' needs 'cardNumber'; a CVC-only token holds just 'cvc'.",
                field=stray[0],
            )
        return CardInput(None, None, None, None, cvc, None, {})
    if number is None:
        raise ValidationFailed("'cardNumber' is required.", field="cardNumber")
    if not isinstance(number, str) or not re.fullmatch(r"\d{12,19}", number):
        raise ValidationFailed(
            "'cardNumber' must be a string of 12 to 19 digits.", field="cardNumber"
        )
    if not luhn_valid(number):
        raise ValidationFailed("'cardNumber' fails the Luhn check.", field="cardNumber")
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
    holder = _text(data, "cardHolderName", limit=100)
    alias = _parse_alias(data.get("alias"))
    extra = _parse_extra(data.get("extra"))
    return CardInput(number, month, year, holder, cvc, alias, extra)


def _parse_alias(value: Any) -> dict[str, str] | None:
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
    return {"key": value["key"], "value": value["value"]}


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


# -- the vault -----------------------------------------------------------------------------------
def new_token_id(token_hex: Callable[[int], str]) -> str:
    """``ftr1`` + 32 hex characters, the shape of Forter's tokens."""
    return "ftr1" + token_hex(16)


def _alias_key(key: str, value: str) -> str:
    return f"{key}\n{value}"


def token_record(
    card: CardInput, *, kind: TokenType, now: datetime, network_token: str | None = None
) -> dict[str, Any]:
    """The stored value of a token."""
    record: dict[str, Any] = {
        "type": str(kind),
        "card": None,
        "cvc": card.cvc if kind is TokenType.SINGLE_USE else None,
        "alias": card.alias,
        "extra": dict(card.extra),
        "used": False,
        "upgradedTo": None,
        "createdAt": now.isoformat().replace("+00:00", "Z"),
    }
    if card.number is not None:
        record["card"] = {
            "number": card.number,
            "expirationMonth": card.exp_month,
            "expirationYear": card.exp_year,
            "cardHolderName": card.holder,
            "brand": card_brand(card.number),
            "networkToken": network_token,
        }
    return record


def save_token(
    store: Store,
    token: str,
    record: dict[str, Any],
    *,
    now: datetime,
    expires_at: datetime | None = None,
    fixture: bool = False,
) -> bool:
    """Insert a token, never replacing one, and point its alias at it (the newest wins).

    A fixture token already in the store keeps its state and its alias (False): a used
    single-use token stays used across restarts until a reset.
    """
    if not store.add(TOKENS, token, record, now=now, expires_at=expires_at):
        if fixture:
            return False
        raise RecordExists(TOKENS, token)
    alias = record.get("alias")
    if alias:
        pointer = _alias_key(alias["key"], alias["value"])
        if fixture:
            store.add(ALIASES, pointer, {"token": token}, now=now)
        else:
            store.put(ALIASES, pointer, {"token": token}, now=now)
    return True


def network_token_for(number: str) -> str | None:
    """A stable, Luhn-valid network token (DPAN) for the sandbox's network-token cards."""
    if not any(c["number"] == number and c.get("network_token") for c in SANDBOX_CARDS):
        return None
    digest = hashlib.sha256(b"mockbank-dpan:" + number.encode()).hexdigest()
    body = number[:6] + "".join(str(int(c, 16) % 10) for c in digest)[: len(number) - 7]
    return luhn_complete(body)


def tokenize(
    store: Store,
    card: CardInput,
    *,
    kind: TokenType,
    token_hex: Callable[[int], str],
    now: datetime,
    ttl_s: float = SINGLE_USE_TTL_S,
) -> tuple[str, dict[str, Any]]:
    """Create a token; single-use ones expire after `ttl_s` on the app clock."""
    if kind is TokenType.MULTI_USE and card.number is None:
        raise ValidationFailed("'cardNumber' is required.", field="cardNumber")
    token = new_token_id(token_hex)
    nt = network_token_for(card.number) if card.number else None
    record = token_record(card, kind=kind, now=now, network_token=nt)
    expires_at = now + timedelta(seconds=ttl_s) if kind is TokenType.SINGLE_USE else None
    save_token(store, token, record, now=now, expires_at=expires_at)
    return token, record


def upgrade(
    store: Store, token: str, *, token_hex: Callable[[int], str], now: datetime
) -> tuple[str, dict[str, Any]]:
    """Single-use → multi-use: a new multi-use token without the CVC (idempotent)."""
    if not TOKEN_RE.match(token):
        raise ValidationFailed(
            "'token' must be 'ftr1' followed by 32 hex characters.", field="token"
        )
    record = store.record(TOKENS, token)
    if record is None or record.expired(now):
        raise TokenNotFound(f"Token {token} does not exist (single-use tokens live 24 hours).")
    value = record.value
    if value["type"] != TokenType.SINGLE_USE:
        raise ValidationFailed(f"Token {token} is already a multi-use token.", field="token")
    if value["card"] is None:
        raise ValidationFailed(
            f"Token {token} is a CVC-only token; only card tokens can be upgraded.",
            field="token",
        )
    new_id = new_token_id(token_hex)

    def claim(current: dict[str, Any]) -> dict[str, Any]:
        # Atomic: the first upgrade names the new token, a concurrent one sees it set.
        if current.get("upgradedTo") is None:
            current["upgradedTo"] = new_id
        return current

    updated = store.update(TOKENS, token, claim, now=now, expires_at=record.expires_at)
    if updated is None:
        raise TokenNotFound(f"Token {token} does not exist (single-use tokens live 24 hours).")
    target = updated["upgradedTo"]
    if target != new_id:
        existing = store.get(TOKENS, target, now=now)
        if existing is not None:
            return target, existing
    multi = dict(
        value,
        type=str(TokenType.MULTI_USE),
        cvc=None,
        used=False,
        upgradedTo=None,
        upgradedFrom=token,
        createdAt=now.isoformat().replace("+00:00", "Z"),
    )
    try:
        save_token(store, target, multi, now=now)
    except RecordExists:  # a concurrent upgrade saved the claimed token first
        existing = store.get(TOKENS, target, now=now)
        if existing is None:
            raise
        return target, existing
    return target, multi


def describe(token: str, record: dict[str, Any], *, expires_at: datetime | None) -> dict[str, Any]:
    """The API's answer about a token: never the PAN or the CVC."""
    card = record.get("card")
    body: dict[str, Any] = {"token": token, "type": record["type"]}
    if card is not None:
        body.update(
            {
                "bin": card["number"][:6],
                "lastFourDigits": card["number"][-4:],
                "cardBrand": card["brand"],
                "expirationMonth": f"{card['expirationMonth']:02d}",
                "expirationYear": str(card["expirationYear"]),
                "cardHolderName": card["cardHolderName"],
                "hasNetworkToken": card.get("networkToken") is not None,
            }
        )
    body["hasCvc"] = record.get("cvc") is not None
    if record.get("alias"):
        body["alias"] = record["alias"]
    if record.get("extra"):
        body["extraFields"] = sorted(record["extra"])
    if record.get("upgradedFrom"):
        body["upgradedFrom"] = record["upgradedFrom"]
    body["expiresAt"] = expires_at.isoformat().replace("+00:00", "Z") if expires_at else None
    return body


# -- detokenization --------------------------------------------------------------------------
@dataclass(frozen=True)
class TokenChoice:
    """Which token headers a proxied request carries, and where they came from."""

    token: str | None
    alias_key: str | None
    alias_value: str | None
    cvc_token: str | None
    source: str  # "request" (inside the tunnel), "connect" or "none"


def choose_tokens(inner: Mapping[str, str], connect: Mapping[str, str]) -> TokenChoice:
    """The seed shows the token on the CONNECT; in-tunnel headers win when both are sent."""
    names = ("forter-token", "forter-token-alias-key", "forter-token-alias-value")
    if any(inner.get(n) for n in names):
        chosen, source = inner, "request"
    elif any(connect.get(n) for n in names):
        chosen, source = connect, "connect"
    else:
        chosen, source = inner, "none"
    cvc = inner.get("forter-cvc-token") or connect.get("forter-cvc-token")
    return TokenChoice(
        chosen.get("forter-token") or None,
        chosen.get("forter-token-alias-key") or None,
        chosen.get("forter-token-alias-value") or None,
        cvc.strip() if cvc else None,
        source,
    )


@dataclass(frozen=True)
class Resolved:
    """The records a proxied request detokenizes with."""

    token: str
    record: dict[str, Any]
    cvc_token: str | None
    cvc_record: dict[str, Any] | None


def _lookup(store: Store, token: str, *, now: datetime, header: str) -> dict[str, Any]:
    if not TOKEN_RE.match(token):
        raise ProxyTokenNotFound(
            f"{header} {token[:40]!r} is not a Forter token ('ftr1' + 32 hex characters)."
        )
    record = store.record(TOKENS, token)
    if record is None or record.expired(now):
        raise ProxyTokenNotFound(f"{header} {token} could not be found.")
    if record.value.get("used"):
        raise ProxyTokenNotFound(f"{header} {token} is single-use and was already used.")
    return record.value


def resolve_tokens(store: Store, choice: TokenChoice, *, now: datetime) -> Resolved:
    """Find the payment token (by id or alias) and the optional CVC token; 555/556 otherwise."""
    if choice.token and (choice.alias_key or choice.alias_value):
        raise ProxyValidationError(
            "Send either forter-token or forter-token-alias-key/-value, not both."
        )
    if choice.token:
        token = choice.token.strip()
    elif choice.alias_key or choice.alias_value:
        if not (choice.alias_key and choice.alias_value):
            raise ProxyValidationError(
                "forter-token-alias-key and forter-token-alias-value go together."
            )
        pointer = store.get(ALIASES, _alias_key(choice.alias_key, choice.alias_value), now=now)
        if pointer is None:
            raise ProxyTokenNotFound(
                f"No token has the alias {choice.alias_key}={choice.alias_value}."
            )
        token = pointer["token"]
    else:
        raise ProxyValidationError(
            "A token is required: send forter-token, or forter-token-alias-key and "
            "forter-token-alias-value."
        )
    record = _lookup(store, token, now=now, header="forter-token")
    if record["card"] is None:
        raise ProxyValidationError(
            f"{token} is a CVC-only token: send it as forter-cvc-token beside a card token."
        )
    cvc_record = None
    if choice.cvc_token:
        cvc_record = _lookup(store, choice.cvc_token, now=now, header="forter-cvc-token")
        if cvc_record.get("cvc") is None:
            raise ProxyValidationError(f"forter-cvc-token {choice.cvc_token} holds no CVC.")
    return Resolved(token, record, choice.cvc_token, cvc_record)


def placeholder_value(name: str, resolved: Resolved, *, cryptogram: Callable[[], str]) -> str:
    """The value a placeholder stands for; 556 naming the placeholder when there is none."""
    card = resolved.record["card"]
    month, year = card["expirationMonth"], card["expirationYear"]
    simple: dict[str, str] = {
        "card_number": str(card["number"]),
        "expiration_m": str(month),
        "expiration_month": str(month),
        "expiration_mm": f"{month:02d}",
        "expiration_yy": f"{year % 100:02d}",
        "expiration_yyyy": str(year),
        "expiration_year": str(year),
        "card_bin": str(card["number"])[:6],
        "card_last_four": str(card["number"])[-4:],
    }
    if name in simple:
        return simple[name]
    if name == "cvc":
        if resolved.cvc_record is not None:
            return str(resolved.cvc_record["cvc"])
        if resolved.record.get("cvc"):
            return str(resolved.record["cvc"])
        raise ProxyValidationError(
            "Placeholder {{ cvc }} needs a single-use token or a forter-cvc-token; "
            "multi-use tokens hold no CVC.",
            field="cvc",
        )
    if name == "card_holder_name":
        if card.get("cardHolderName"):
            return str(card["cardHolderName"])
        raise ProxyValidationError(
            "Placeholder {{ card_holder_name }}: the token has no cardHolderName.",
            field=name,
        )
    if name.startswith("network_token"):
        if not card.get("networkToken"):
            raise ProxyValidationError(
                f"Placeholder {{{{ {name} }}}}: this card has no network token "
                "(the sandbox's network-token cards are 5353535353535351, 4343434343434345 "
                "and 373737373737374).",
                field=name,
            )
        if name == "network_token":
            return str(card["networkToken"])
        if name == "network_token_cryptogram":
            return cryptogram()
        if name == "network_token_eci":
            return ECI_BY_BRAND.get(str(card["brand"]), "07")
    extra = resolved.record.get("extra") or {}
    if name in extra:
        return str(extra[name])
    raise ProxyValidationError(
        f"Unknown placeholder {{{{ {name} }}}}: it is neither a card placeholder nor an "
        "'extra' field of this token (extra keys are case-sensitive).",
        field=name,
    )


_PLACEHOLDER = re.compile(
    rb"\{\{[ \t]*(?P<plain>[A-Za-z0-9_.\-]+)[ \t]*\}\}"
    rb"|%7[Bb]%7[Bb](?:%20|\+|[ \t])*(?P<encoded>[A-Za-z0-9_.\-]+)(?:%20|\+|[ \t])*%7[Dd]%7[Dd]"
)
SECRET_PLACEHOLDERS = frozenset({"card_number", "cvc", "network_token", "network_token_cryptogram"})


def looks_like_json(body: bytes, content_type: str | None) -> bool:
    """JSON-escaping applies to JSON bodies, and to text that starts like JSON (Worldpay)."""
    if content_type and "json" in content_type.lower():
        return True
    return body.lstrip()[:1] in (b"{", b"[")


@dataclass
class Substitution:
    """The detokenized body, and what was put into it (for masking what we record)."""

    body: bytes
    names: list[str]
    secrets: list[str]


def substitute(body: bytes, value_of: Callable[[str], str], *, json_body: bool) -> Substitution:
    """Replace every placeholder in the raw body; JSON-escape inside string literals."""
    out: list[bytes] = []
    names: list[str] = []
    secrets: list[str] = []
    cache: dict[str, str] = {}
    position = 0
    in_string = False
    scanned = 0
    for match in _PLACEHOLDER.finditer(body):
        name = (match.group("plain") or match.group("encoded")).decode("ascii")
        if name not in cache:
            cache[name] = value_of(name)  # raises 556 naming the placeholder
        value = cache[name]
        if json_body:
            in_string = _scan_strings(body, scanned, match.start(), in_string)
            scanned = match.start()
        if match.group("encoded") is not None:
            # A form-encoding SDK (Stripe's) encoded the braces: encode the value the same way.
            text = quote(value, safe="")
        elif json_body and in_string:
            text = json.dumps(value, ensure_ascii=False)[1:-1]
        else:
            text = value
        out.append(body[position : match.start()])
        out.append(text.encode("utf-8"))
        position = match.end()
        if name not in names:
            names.append(name)
        if name in SECRET_PLACEHOLDERS:
            secrets.extend({value, quote(value, safe="")})
    out.append(body[position:])
    return Substitution(b"".join(out), names, secrets)


def _scan_strings(body: bytes, start: int, end: int, in_string: bool) -> bool:
    """Whether `end` lies inside a double-quoted string, continuing a scan from `start`."""
    index = start
    while index < end:
        char = body[index]
        if in_string and char == 0x5C:  # a backslash escapes the next byte
            index += 2
            continue
        if char == 0x22:
            in_string = not in_string
        index += 1
    return in_string


def consume_single_use(store: Store, resolved: Resolved, *, now: datetime) -> None:
    """Mark the single-use tokens of a forwarded request used, atomically, or raise 555."""
    taken: list[str] = []
    candidates = [(resolved.token, resolved.record)]
    if resolved.cvc_token and resolved.cvc_record is not None:
        candidates.append((resolved.cvc_token, resolved.cvc_record))
    for token, record in candidates:
        if record["type"] != TokenType.SINGLE_USE or token in taken:
            continue

        def mark(current: dict[str, Any], token: str = token) -> dict[str, Any]:
            if current.get("used"):
                raise ProxyTokenNotFound(f"{token} is single-use and was already used.")
            current["used"] = True
            return current

        stored = store.record(TOKENS, token)
        try:
            if (
                stored is None
                or store.update(TOKENS, token, mark, now=now, expires_at=stored.expires_at) is None
            ):
                raise ProxyTokenNotFound(f"{token} could not be found.")
        except ProxyTokenNotFound:
            for earlier in taken:  # the pair is used together or not at all
                _release(store, earlier, now=now)
            raise
        taken.append(token)
    for token in taken:  # a used single-use secret is not kept: the CVC goes once it is spent
        _forget_cvc(store, token, now=now)


def _forget_cvc(store: Store, token: str, *, now: datetime) -> None:
    stored = store.record(TOKENS, token)
    if stored is not None and stored.value.get("cvc") is not None:
        store.update(
            TOKENS, token, lambda v: dict(v, cvc=None), now=now, expires_at=stored.expires_at
        )


def _release(store: Store, token: str, *, now: datetime) -> None:
    stored = store.record(TOKENS, token)
    if stored is not None:
        store.update(
            TOKENS, token, lambda v: dict(v, used=False), now=now, expires_at=stored.expires_at
        )


# -- signing --------------------------------------------------------------------------------
_TEMPLATE = re.compile(r"\{\{\s*([A-Za-z0-9_\-]+)\s*\}\}")


HMAC_ENCODINGS = ("base64", "hex")
DEFAULT_HMAC_ENCODING = "base64"


def hmac_signature(
    *,
    algorithm: str,
    secret: str,
    template: str,
    method: str,
    path: str,
    headers: Mapping[str, str],
    body: bytes,
    encoding: str = DEFAULT_HMAC_ENCODING,
) -> str:
    """The seed's generic HMAC over the filled-in template.

    Base64 of the raw digest by default: the seed's one example signs for Fiserv, whose
    ``Message-Signature`` is Base64 of the HMAC-SHA256; ``encoding="hex"`` gives lowercase hex.
    """
    digest = HMAC_ALGORITHMS.get(algorithm.strip().lower())
    if digest is None:
        raise ProxyValidationError(
            f"forter-hmac-algo {algorithm[:20]!r} is not supported; use one of "
            f"{', '.join(HMAC_ALGORITHMS)}.",
            field="forter-hmac-algo",
        )
    lower = {k.lower(): v for k, v in headers.items()}
    parts: list[bytes] = []
    position = 0
    for match in _TEMPLATE.finditer(template):
        parts.append(template[position : match.start()].encode("utf-8"))
        name = match.group(1)
        if name == "request-body":
            parts.append(body)
        elif name == "http-method":
            parts.append(method.encode())
        elif name == "http-path":
            parts.append(path.encode("utf-8"))
        elif name.lower() in lower:
            parts.append(lower[name.lower()].encode("utf-8"))
        else:
            raise ProxyValidationError(
                f"forter-hmac-payload-template uses {{{{ {name} }}}}, which is neither "
                "request-body, http-method, http-path nor a header of this request.",
                field="forter-hmac-payload-template",
            )
        position = match.end()
    parts.append(template[position:].encode("utf-8"))
    mac = hmac.new(secret.encode("utf-8"), b"".join(parts), digest)
    return mac.hexdigest() if encoding == "hex" else base64.b64encode(mac.digest()).decode("ascii")


def ixopay_headers(
    *, key: str, method: str, request_uri: str, content_type: str, body: bytes, now: datetime
) -> dict[str, str]:
    """Ixopay's request signature (documentation.ixopay.com, "Additional security").

    ``X-Signature`` is base64(HMAC-SHA512(shared secret, METHOD \\n hex(SHA-512(body)) \\n
    Content-Type \\n Date \\n request URI)) and ``Date`` the RFC 7231 date that was signed.
    """
    date = format_datetime(now.astimezone(UTC), usegmt=True)
    message = "\n".join(
        [method.upper(), hashlib.sha512(body).hexdigest(), content_type, date, request_uri]
    )
    signature = hmac.new(key.encode("utf-8"), message.encode("utf-8"), hashlib.sha512).digest()
    return {"Date": date, "X-Signature": base64.b64encode(signature).decode("ascii")}


def forward_headers(
    raw: list[tuple[str, str]], body_length: int, method: str
) -> list[tuple[str, str]]:
    """The headers to forward: forter-*, proxy-*, hop-by-hop and Expect stripped, and
    Content-Length recomputed (the seed: the proxy alters the body, so the length changes)."""
    connection_named = {
        token.strip().lower()
        for name, value in raw
        if name.lower() == "connection"
        for token in value.split(",")
    }
    kept = [
        (name, value)
        for name, value in raw
        if not name.lower().startswith(("forter-", "proxy-"))
        and name.lower() not in HOP_BY_HOP
        and name.lower() not in connection_named
        and name.lower() not in ("content-length", "expect")  # the proxy answered any 100
    ]
    if body_length or method in ("POST", "PUT", "PATCH"):
        kept.append(("Content-Length", str(body_length)))
    return kept


def combine_headers(headers: Any) -> dict[str, str]:
    """Headers as one object for the echo: a repeated field's values joined with ", "
    (RFC 9110 §5.3), under the first spelling of its name."""
    combined: dict[str, str] = {}
    spelled: dict[str, str] = {}
    for name, value in headers:
        key = spelled.setdefault(name.lower(), name)
        combined[key] = f"{combined[key]}, {value}" if key in combined else value
    return combined


def set_header(headers: list[tuple[str, str]], name: str, value: str) -> list[tuple[str, str]]:
    """`headers` with every `name` header replaced by one with `value`."""
    return [(k, v) for k, v in headers if k.lower() != name.lower()] + [(name, value)]


def sign_request(
    headers: list[tuple[str, str]],
    inner: Mapping[str, str],
    *,
    method: str,
    request_uri: str,
    body: bytes,
    now: datetime,
    hmac_encoding: str = DEFAULT_HMAC_ENCODING,
) -> tuple[list[tuple[str, str]], dict[str, Any]]:
    """Apply the request's forter-hmac-* and Forter-Ixopay-Signature instructions.

    Returns the headers to forward and notes for the journal (never a secret).
    """
    notes: dict[str, Any] = {}
    given = [name for name in HMAC_HEADERS if inner.get(name)]
    if given:
        missing = [name for name in HMAC_HEADERS if not inner.get(name)]
        if missing:
            raise ProxyValidationError(
                f"HMAC signing needs {', '.join(missing)} too (got {', '.join(given)}).",
                field=missing[0],
            )
        signature = hmac_signature(
            algorithm=inner["forter-hmac-algo"],
            secret=inner["forter-hmac-secret"],
            template=inner["forter-hmac-payload-template"],
            method=method,
            path=request_uri,
            headers=dict(headers),
            body=body,
            encoding=hmac_encoding,
        )
        target = inner["forter-hmac-target-header"].strip()
        if not target or any(c in target for c in " :\r\n"):
            raise ProxyValidationError(
                "forter-hmac-target-header must be a header name.",
                field="forter-hmac-target-header",
            )
        headers = set_header(headers, target, signature)
        notes["hmac"] = {
            "algorithm": inner["forter-hmac-algo"],
            "header": target,
            "encoding": hmac_encoding,
        }
    ixopay_key = inner.get("forter-ixopay-signature")
    if ixopay_key is not None:
        if not ixopay_key.strip():
            raise ProxyValidationError(
                "Forter-Ixopay-Signature must carry the Ixopay shared secret.",
                field="forter-ixopay-signature",
            )
        content_type = next((v for k, v in headers if k.lower() == "content-type"), "")
        added = ixopay_headers(
            key=ixopay_key.strip(),
            method=method,
            request_uri=request_uri,
            content_type=content_type,
            body=body,
            now=now,
        )
        # Ixopay reads X-Date before Date when both are present (its PHP SDK sends both):
        # a client's own X-Date would make Ixopay check our signature against another time.
        if any(k.lower() == "x-date" for k, _ in headers):
            added["X-Date"] = added["Date"]
        for name, value in added.items():
            headers = set_header(headers, name, value)
        notes["ixopay"] = f"{', '.join(sorted(added))} added"
    return headers, notes


def mask_secrets(text: str, secrets: list[str]) -> str:
    """Replace substituted secret values (PAN, CVC, network token, cryptogram) in `text`."""
    for secret in sorted(set(secrets), key=len, reverse=True):
        if not secret:
            continue
        digits = secret.isdigit()
        replacement = mask_pan(secret) if digits and len(secret) >= 12 else "***"
        text = text.replace(secret, replacement)
    return text
