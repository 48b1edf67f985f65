"""Payer accounts, their transaction histories and cached balances."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Annotated, Any

from mockbank.records import Record, Stored

NS_ACCOUNT = "tokenos.account"
NS_HISTORY = "tokenos.history"
NS_BALANCE = "tokenos.balance_cache"


@dataclass(frozen=True)
class Account(Record):
    """A seeded payer account (its balance before any transfer)."""

    id: str
    member_id: str
    bank_id: str
    name: str
    number: str
    currency: str
    balance: Decimal


@dataclass(frozen=True)
class History(Record):
    """An account's history: the recipe it is made from on first read, then the items."""

    recipe: Annotated[dict[str, int], Stored(absent={})]  # {"seed", "anchorMs", "count"}
    items: Annotated[tuple[dict[str, Any], ...] | None, Stored(omit=True)] = None


@dataclass(frozen=True)
class BalanceCache(Record):
    """A balance as last read, kept for the cache time unless the call is customer-initiated."""

    value: Decimal
    updated_at_ms: Annotated[int, Stored(text=True)]
