"""Refunds as stored: the refund, its refId, and the id reserved while it is checked."""

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


@dataclass(frozen=True)
class RefundRef:
    """A refId taken by a member among its refunds."""

    member_id: str
    ref_id: str

    @property
    def key(self) -> str:
        return f"{self.member_id}\n{self.ref_id}"

    def to_value(self) -> dict[str, Any]:
        return {"memberId": self.member_id, "refId": self.ref_id}

    @classmethod
    def from_value(cls, value: dict[str, Any]) -> RefundRef:
        return cls(value["memberId"], value["refId"])
