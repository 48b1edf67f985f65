"""Forter's stored records: tokens and alias pointers, typed, with their stored shapes.

``forter.token`` maps a token id to its `TokenRecord` (card, CVC, alias, extra fields, state);
``forter.alias`` maps ``key\\nvalue`` to the `AliasRecord` naming the token that alias points at.
The stored shape (camelCase keys) is known here only.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum
from typing import Any, Self

NS_TOKEN = "forter.token"
NS_ALIAS = "forter.alias"


class TokenType(StrEnum):
    MULTI_USE = "multi-use"
    SINGLE_USE = "single-use"


def iso(moment: datetime) -> str:
    """An instant as stored and answered: ISO 8601 with ``Z``."""
    return moment.isoformat().replace("+00:00", "Z")


@dataclass(frozen=True)
class Alias:
    """A merchant's own name for a token (``key``/``value``), resolvable at the proxy."""

    key: str
    value: str

    @property
    def pointer(self) -> str:
        """The `NS_ALIAS` key of this alias."""
        return alias_pointer(self.key, self.value)

    def to_value(self) -> dict[str, str]:
        return {"key": self.key, "value": self.value}

    @classmethod
    def from_value(cls, value: dict[str, Any]) -> Self:
        return cls(str(value["key"]), str(value["value"]))


def alias_pointer(key: str, value: str) -> str:
    return f"{key}\n{value}"


@dataclass(frozen=True)
class StoredCard:
    """The card a token holds (the full number: never logged, shown masked)."""

    number: str
    exp_month: int
    exp_year: int
    holder: str | None
    brand: str
    network_token: str | None = None

    def to_value(self) -> dict[str, Any]:
        return {
            "number": self.number,
            "expirationMonth": self.exp_month,
            "expirationYear": self.exp_year,
            "cardHolderName": self.holder,
            "brand": self.brand,
            "networkToken": self.network_token,
        }

    @classmethod
    def from_value(cls, value: dict[str, Any]) -> Self:
        return cls(
            number=str(value["number"]),
            exp_month=int(value["expirationMonth"]),
            exp_year=int(value["expirationYear"]),
            holder=value.get("cardHolderName"),
            brand=str(value["brand"]),
            network_token=value.get("networkToken"),
        )


@dataclass(frozen=True)
class TokenRecord:
    """A token: a card (or, for a CVC-only token, none), what came with it, and its state."""

    type: TokenType
    card: StoredCard | None
    cvc: str | None
    alias: Alias | None
    extra: dict[str, str] = field(default_factory=dict)
    used: bool = False
    upgraded_to: str | None = None
    upgraded_from: str | None = None
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

    def to_value(self) -> dict[str, Any]:
        value: dict[str, Any] = {
            "type": str(self.type),
            "card": None if self.card is None else self.card.to_value(),
            "cvc": self.cvc,
            "alias": None if self.alias is None else self.alias.to_value(),
            "extra": dict(self.extra),
            "used": self.used,
            "upgradedTo": self.upgraded_to,
            "createdAt": self.created_at,
        }
        if self.upgraded_from is not None:
            value["upgradedFrom"] = self.upgraded_from
        return value

    @classmethod
    def from_value(cls, value: dict[str, Any]) -> Self:
        card, alias = value.get("card"), value.get("alias")
        return cls(
            type=TokenType(value["type"]),
            card=None if card is None else StoredCard.from_value(card),
            cvc=value.get("cvc"),
            alias=None if not alias else Alias.from_value(alias),
            extra=dict(value.get("extra") or {}),
            used=bool(value.get("used")),
            upgraded_to=value.get("upgradedTo"),
            upgraded_from=value.get("upgradedFrom"),
            created_at=str(value.get("createdAt") or ""),
        )


@dataclass(frozen=True)
class AliasRecord:
    """Where an alias points: the newest token saved with it."""

    token: str

    def to_value(self) -> dict[str, Any]:
        return {"token": self.token}

    @classmethod
    def from_value(cls, value: dict[str, Any]) -> Self:
        return cls(str(value["token"]))
