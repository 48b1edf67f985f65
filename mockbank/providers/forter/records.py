"""Forter's stored records: tokens and alias pointers, typed, with their stored shapes.

``forter.token`` maps a token id to its `TokenRecord` (card, CVC, alias, extra fields, state);
``forter.alias`` maps ``key\\nvalue`` to the `AliasRecord` naming the token that alias points at.
Each is a `mockbank.records.Record`; the stored shape (camelCase keys) is known here only.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum
from typing import Annotated

from mockbank.records import Record, Stored

NS_TOKEN = "forter.token"
NS_ALIAS = "forter.alias"


class TokenType(StrEnum):
    MULTI_USE = "multi-use"
    SINGLE_USE = "single-use"


def iso(moment: datetime) -> str:
    """An instant as stored and answered: ISO 8601 with ``Z``."""
    return moment.isoformat().replace("+00:00", "Z")


@dataclass(frozen=True)
class Alias(Record):
    """A merchant's own name for a token (``key``/``value``), resolvable at the proxy."""

    key: str
    value: str

    @property
    def pointer(self) -> str:
        """The `NS_ALIAS` key of this alias."""
        return alias_pointer(self.key, self.value)


def alias_pointer(key: str, value: str) -> str:
    return f"{key}\n{value}"


@dataclass(frozen=True)
class StoredCard(Record):
    """The card a token holds (the full number: never logged, shown masked)."""

    number: str
    exp_month: Annotated[int, Stored(key="expirationMonth")]
    exp_year: Annotated[int, Stored(key="expirationYear")]
    holder: Annotated[str | None, Stored(key="cardHolderName")]
    brand: str
    network_token: str | None = None


@dataclass(frozen=True)
class TokenRecord(Record):
    """A token: a card (or, for a CVC-only token, none), what came with it, and its state."""

    type: TokenType
    card: StoredCard | None
    cvc: str | None
    alias: Alias | None
    extra: dict[str, str] = field(default_factory=dict)
    used: bool = False
    upgraded_to: str | None = None
    upgraded_from: Annotated[str | None, Stored(omit=True)] = None
    created_at: str = ""

    @property
    def single_use(self) -> bool:
        return self.type is TokenType.SINGLE_USE

    def spent(self) -> TokenRecord:
        return replace(self, used=True)

    def unspent(self) -> TokenRecord:
        return replace(self, used=False)

    def without_cvc(self) -> TokenRecord:
        return replace(self, cvc=None)


@dataclass(frozen=True)
class AliasRecord(Record):
    """Where an alias points: the newest token saved with it."""

    token: str
