"""Signatures already used by state-changing calls (kept for the freshness window)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Self

NS_NONCE = "tokenos.nonce"


@dataclass(frozen=True)
class Nonce:
    """A used ``member-id:signature`` (the key); its presence is all that is stored."""

    def to_value(self) -> dict[str, Any]:
        return {}

    @classmethod
    def from_value(cls, value: dict[str, Any]) -> Self:
        return cls()
