"""Refunds as stored: the refund and the id reserved while it is checked.

Their refIds are `records.steps.RefId`s under NS_REFUND_REF.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from mockbank.providers.tokenos.records.steps import Tracked

NS_REFUND = "tokenos.refund"
NS_REFUND_REF = "tokenos.refund_ref"


@dataclass(frozen=True, kw_only=True)
class Refund(Tracked):
    """A refund of (part of) a v2 payment and its timed steps."""

    @property
    def kind(self) -> str:
        return "refund"

    def to_value(self) -> dict[str, Any]:
        return self.tracked_value()

    @classmethod
    def from_value(cls, value: dict[str, Any]) -> Refund:
        return cls(**cls.tracked_fields(value))


@dataclass(frozen=True)
class RefundReservation:
    """An id held under NS_REFUND while the refund is checked against its payment."""

    def to_value(self) -> dict[str, Any]:
        return {}

    @classmethod
    def from_value(cls, value: dict[str, Any]) -> RefundReservation:
        return cls()
