"""Payer accounts, their transaction histories and cached balances."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Self

NS_ACCOUNT = "tokenos.account"
NS_HISTORY = "tokenos.history"
NS_BALANCE = "tokenos.balance_cache"


@dataclass(frozen=True)
class Account:
    """A seeded payer account (its balance before any transfer)."""

    id: str
    member_id: str
    bank_id: str
    name: str
    number: str
    currency: str
    balance: Decimal

    def to_value(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "memberId": self.member_id,
            "bankId": self.bank_id,
            "name": self.name,
            "number": self.number,
            "currency": self.currency,
            "balance": str(self.balance),
        }

    @classmethod
    def from_value(cls, value: dict[str, Any]) -> Self:
        return cls(
            id=str(value["id"]),
            member_id=str(value["memberId"]),
            bank_id=str(value["bankId"]),
            name=str(value["name"]),
            number=str(value["number"]),
            currency=str(value["currency"]),
            balance=Decimal(str(value["balance"])),
        )


@dataclass(frozen=True)
class History:
    """An account's history: the recipe it is made from on first read, then the items."""

    recipe: dict[str, int]  # {"seed", "anchorMs", "count"}
    items: tuple[dict[str, Any], ...] | None = None

    def to_value(self) -> dict[str, Any]:
        value: dict[str, Any] = {"recipe": dict(self.recipe)}
        if self.items is not None:
            value["items"] = list(self.items)
        return value

    @classmethod
    def from_value(cls, value: dict[str, Any]) -> Self:
        items = value.get("items")
        return cls(
            recipe=dict(value.get("recipe") or {}),
            items=None if items is None else tuple(items),
        )


@dataclass(frozen=True)
class BalanceCache:
    """A balance as last read, kept for the cache time unless the call is customer-initiated."""

    value: Decimal
    updated_at_ms: int

    def to_value(self) -> dict[str, Any]:
        return {"value": str(self.value), "updatedAtMs": str(self.updated_at_ms)}

    @classmethod
    def from_value(cls, value: dict[str, Any]) -> Self:
        return cls(value=Decimal(str(value["value"])), updated_at_ms=int(value["updatedAtMs"]))
