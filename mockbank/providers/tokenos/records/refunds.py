"""Refunds as stored: the refund and the id reserved while it is checked.

Their refIds are `records.steps.RefId`s under NS_REFUND_REF.
"""

from __future__ import annotations

from dataclasses import dataclass

from mockbank.providers.tokenos.records.steps import Tracked
from mockbank.records import Record

NS_REFUND = "tokenos.refund"
NS_REFUND_REF = "tokenos.refund_ref"


@dataclass(frozen=True, kw_only=True)
class Refund(Tracked):
    """A refund of (part of) a v2 payment and its timed steps."""

    @property
    def kind(self) -> str:
        return "refund"


@dataclass(frozen=True)
class RefundReservation(Record):
    """An id held under NS_REFUND while the refund is checked against its payment."""
