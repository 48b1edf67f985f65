"""The vault: creating, saving, upgrading and describing tokens."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from mockbank.providers.forter.errors import TokenNotFound, ValidationFailed
from mockbank.providers.forter.models.cards import CardInput, card_brand, network_token_for
from mockbank.providers.forter.records import (
    NS_ALIAS,
    NS_TOKEN,
    AliasRecord,
    StoredCard,
    TokenRecord,
    TokenType,
    iso,
)
from mockbank.store import RecordExists, Store

TOKEN_RE = re.compile(r"^ftr1[0-9a-f]{32}$")
SINGLE_USE_TTL_S = 24 * 3600  # the seed and Forter's docs: single-use tokens live 24 hours


def new_token_id(token_hex: Callable[[int], str]) -> str:
    """``ftr1`` + 32 hex characters, the shape of Forter's tokens."""
    return "ftr1" + token_hex(16)


def token_record(card: CardInput, *, kind: TokenType, now: datetime) -> TokenRecord:
    """The record of a new token (the sandbox's network-token cards get their DPAN)."""
    stored = None
    if card.number is not None and card.exp_month is not None and card.exp_year is not None:
        stored = StoredCard(
            number=card.number,
            exp_month=card.exp_month,
            exp_year=card.exp_year,
            holder=card.holder,
            brand=card_brand(card.number),
            network_token=network_token_for(card.number),
        )
    return TokenRecord(
        type=kind,
        card=stored,
        cvc=card.cvc if kind is TokenType.SINGLE_USE else None,
        alias=card.alias,
        extra=dict(card.extra),
        created_at=iso(now),
    )


def load_token(store: Store, token: str, *, now: datetime) -> TokenRecord | None:
    value = store.get(NS_TOKEN, token, now=now)
    return None if value is None else TokenRecord.from_value(value)


def save_token(
    store: Store,
    token: str,
    record: TokenRecord,
    *,
    now: datetime,
    expires_at: datetime | None = None,
    fixture: bool = False,
) -> bool:
    """Insert a token, never replacing one, and point its alias at it (the newest wins).

    A fixture token already in the store keeps its state and its alias (False): a used
    single-use token stays used across restarts until a reset.
    """
    if not store.add(NS_TOKEN, token, record.to_value(), now=now, expires_at=expires_at):
        if fixture:
            return False
        raise RecordExists(NS_TOKEN, token)
    if record.alias is not None:
        pointer = AliasRecord(token).to_value()
        if fixture:
            store.add(NS_ALIAS, record.alias.pointer, pointer, now=now)
        else:
            store.put(NS_ALIAS, record.alias.pointer, pointer, now=now)
    return True


def tokenize(
    store: Store,
    card: CardInput,
    *,
    kind: TokenType,
    token_hex: Callable[[int], str],
    now: datetime,
    ttl_s: float = SINGLE_USE_TTL_S,
) -> tuple[str, TokenRecord, datetime | None]:
    """Create a token; single-use ones expire after `ttl_s` on the app clock."""
    if kind is TokenType.MULTI_USE and card.number is None:
        raise ValidationFailed("'cardNumber' is required.", field="cardNumber")
    token = new_token_id(token_hex)
    record = token_record(card, kind=kind, now=now)
    expires_at = now + timedelta(seconds=ttl_s) if kind is TokenType.SINGLE_USE else None
    save_token(store, token, record, now=now, expires_at=expires_at)
    stored = store.record(NS_TOKEN, token)  # the expiry as the store keeps it
    return token, record, stored.expires_at if stored is not None else expires_at


def upgrade(
    store: Store, token: str, *, token_hex: Callable[[int], str], now: datetime
) -> tuple[str, TokenRecord]:
    """Single-use → multi-use: a new multi-use token without the CVC (idempotent)."""
    if not TOKEN_RE.match(token):
        raise ValidationFailed(
            "'token' must be 'ftr1' followed by 32 hex characters.", field="token"
        )
    gone = f"Token {token} does not exist (single-use tokens live 24 hours)."
    stored = store.record(NS_TOKEN, token)
    if stored is None or stored.expired(now):
        raise TokenNotFound(gone)
    record = TokenRecord.from_value(stored.value)
    if not record.single_use:
        raise ValidationFailed(f"Token {token} is already a multi-use token.", field="token")
    if record.card is None:
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

    updated = store.update(NS_TOKEN, token, claim, now=now, expires_at=stored.expires_at)
    if updated is None:
        raise TokenNotFound(gone)
    target = str(updated["upgradedTo"])
    if target != new_id:
        existing = load_token(store, target, now=now)
        if existing is not None:
            return target, existing
    multi = replace(
        record,
        type=TokenType.MULTI_USE,
        cvc=None,
        used=False,
        upgraded_to=None,
        upgraded_from=token,
        created_at=iso(now),
    )
    try:
        save_token(store, target, multi, now=now)
    except RecordExists:  # a concurrent upgrade saved the claimed token first
        existing = load_token(store, target, now=now)
        if existing is None:
            raise
        return target, existing
    return target, multi


def describe(token: str, record: TokenRecord, *, expires_at: datetime | None) -> dict[str, Any]:
    """The API's answer about a token: never the PAN or the CVC."""
    card = record.card
    body: dict[str, Any] = {"token": token, "type": str(record.type)}
    if card is not None:
        body.update(
            {
                "bin": card.number[:6],
                "lastFourDigits": card.number[-4:],
                "cardBrand": card.brand,
                "expirationMonth": f"{card.exp_month:02d}",
                "expirationYear": str(card.exp_year),
                "cardHolderName": card.holder,
                "hasNetworkToken": card.network_token is not None,
            }
        )
    body["hasCvc"] = record.cvc is not None
    if record.alias is not None:
        body["alias"] = record.alias.to_value()
    if record.extra:
        body["extraFields"] = sorted(record.extra)
    if record.upgraded_from:
        body["upgradedFrom"] = record.upgraded_from
    body["expiresAt"] = iso(expires_at) if expires_at else None
    return body
