"""Detokenization: which tokens a proxied request names, and placeholders filled from them."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import quote

from mockbank.masking import mask_pan
from mockbank.providers.forter.errors import ProxyTokenNotFound, ProxyValidationError
from mockbank.providers.forter.models.tokens import TOKEN_RE
from mockbank.providers.forter.records import (
    NS_ALIAS,
    NS_TOKEN,
    AliasRecord,
    StoredCard,
    TokenRecord,
    alias_pointer,
)
from mockbank.store import Store

# Electronic commerce indicators of a network-token (tokenized e-commerce) transaction.
ECI_BY_BRAND = {"VISA": "05", "MASTERCARD": "02", "AMEX": "05"}
TOKEN_HEADERS = ("forter-token", "forter-token-alias-key", "forter-token-alias-value")
SECRET_PLACEHOLDERS = frozenset({"card_number", "cvc", "network_token", "network_token_cryptogram"})
_PLACEHOLDER = re.compile(
    rb"\{\{[ \t]*(?P<plain>[A-Za-z0-9_.\-]+)[ \t]*\}\}"
    rb"|%7[Bb]%7[Bb](?:%20|\+|[ \t])*(?P<encoded>[A-Za-z0-9_.\-]+)(?:%20|\+|[ \t])*%7[Dd]%7[Dd]"
)


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
    if any(inner.get(n) for n in TOKEN_HEADERS):
        chosen, source = inner, "request"
    elif any(connect.get(n) for n in TOKEN_HEADERS):
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
    record: TokenRecord
    cvc_token: str | None
    cvc_record: TokenRecord | None

    @property
    def card(self) -> StoredCard:
        assert self.record.card is not None  # resolve_tokens refuses CVC-only tokens
        return self.record.card


def _lookup(store: Store, token: str, *, now: datetime, header: str) -> TokenRecord:
    if not TOKEN_RE.match(token):
        raise ProxyTokenNotFound(
            f"{header} {token[:40]!r} is not a Forter token ('ftr1' + 32 hex characters)."
        )
    stored = store.record(NS_TOKEN, token)
    if stored is None or stored.expired(now):
        raise ProxyTokenNotFound(f"{header} {token} could not be found.")
    record = TokenRecord.from_value(stored.value)
    if record.used:
        raise ProxyTokenNotFound(f"{header} {token} is single-use and was already used.")
    return record


def _chosen_token(store: Store, choice: TokenChoice, *, now: datetime) -> str:
    if choice.token and (choice.alias_key or choice.alias_value):
        raise ProxyValidationError(
            "Send either forter-token or forter-token-alias-key/-value, not both."
        )
    if choice.token:
        return choice.token.strip()
    if not (choice.alias_key or choice.alias_value):
        raise ProxyValidationError(
            "A token is required: send forter-token, or forter-token-alias-key and "
            "forter-token-alias-value."
        )
    if not (choice.alias_key and choice.alias_value):
        raise ProxyValidationError(
            "forter-token-alias-key and forter-token-alias-value go together."
        )
    pointer = store.get(NS_ALIAS, alias_pointer(choice.alias_key, choice.alias_value), now=now)
    if pointer is None:
        raise ProxyTokenNotFound(f"No token has the alias {choice.alias_key}={choice.alias_value}.")
    return AliasRecord.from_value(pointer).token


def resolve_tokens(store: Store, choice: TokenChoice, *, now: datetime) -> Resolved:
    """Find the payment token (by id or alias) and the optional CVC token; 555/556 otherwise."""
    token = _chosen_token(store, choice, now=now)
    record = _lookup(store, token, now=now, header="forter-token")
    if record.card is None:
        raise ProxyValidationError(
            f"{token} is a CVC-only token: send it as forter-cvc-token beside a card token."
        )
    cvc_record = None
    if choice.cvc_token:
        cvc_record = _lookup(store, choice.cvc_token, now=now, header="forter-cvc-token")
        if cvc_record.cvc is None:
            raise ProxyValidationError(f"forter-cvc-token {choice.cvc_token} holds no CVC.")
    return Resolved(token, record, choice.cvc_token, cvc_record)


def card_values(card: StoredCard) -> dict[str, str]:
    """The placeholders every card fills."""
    month, year = card.exp_month, card.exp_year
    return {
        "card_number": card.number,
        "expiration_m": str(month),
        "expiration_month": str(month),
        "expiration_mm": f"{month:02d}",
        "expiration_yy": f"{year % 100:02d}",
        "expiration_yyyy": str(year),
        "expiration_year": str(year),
        "card_bin": card.number[:6],
        "card_last_four": card.number[-4:],
    }


def placeholder_value(name: str, resolved: Resolved, *, cryptogram: Callable[[], str]) -> str:
    """The value a placeholder stands for; 556 naming the placeholder when there is none."""
    card = resolved.card
    simple = card_values(card)
    if name in simple:
        return simple[name]
    if name == "cvc":
        return _cvc(resolved)
    if name == "card_holder_name":
        if card.holder:
            return card.holder
        raise ProxyValidationError(
            "Placeholder {{ card_holder_name }}: the token has no cardHolderName.", field=name
        )
    if name.startswith("network_token"):
        value = _network_value(name, card, cryptogram)  # 556 when the card has none
        if value is not None:
            return value
    if name in resolved.record.extra:
        return resolved.record.extra[name]
    raise ProxyValidationError(
        f"Unknown placeholder {{{{ {name} }}}}: it is neither a card placeholder nor an "
        "'extra' field of this token (extra keys are case-sensitive).",
        field=name,
    )


def _cvc(resolved: Resolved) -> str:
    if resolved.cvc_record is not None and resolved.cvc_record.cvc is not None:
        return resolved.cvc_record.cvc
    if resolved.record.cvc:
        return resolved.record.cvc
    raise ProxyValidationError(
        "Placeholder {{ cvc }} needs a single-use token or a forter-cvc-token; "
        "multi-use tokens hold no CVC.",
        field="cvc",
    )


def _network_value(name: str, card: StoredCard, cryptogram: Callable[[], str]) -> str | None:
    if not card.network_token:
        raise ProxyValidationError(
            f"Placeholder {{{{ {name} }}}}: this card has no network token "
            "(the sandbox's network-token cards are 5353535353535351, 4343434343434345 "
            "and 373737373737374).",
            field=name,
        )
    if name == "network_token":
        return card.network_token
    if name == "network_token_cryptogram":
        return cryptogram()
    if name == "network_token_eci":
        return ECI_BY_BRAND.get(card.brand, "07")
    return None  # another name that starts so: perhaps an extra field


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


def mask_secrets(text: str, secrets: list[str]) -> str:
    """Replace substituted secret values (PAN, CVC, network token, cryptogram) in `text`."""
    for secret in sorted(set(secrets), key=len, reverse=True):
        if not secret:
            continue
        digits = secret.isdigit()
        replacement = mask_pan(secret) if digits and len(secret) >= 12 else "***"
        text = text.replace(secret, replacement)
    return text
