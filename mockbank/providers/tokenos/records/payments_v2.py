"""Payments v2 as stored: the payment (single immediate, or a VRP), its refund holds, VRP ids.

Their refIds are `records.steps.RefId`s under NS_PAYMENT_REF.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Annotated

from mockbank.providers.tokenos.records.steps import Tracked
from mockbank.records import Record, Stored

NS_PAYMENT = "tokenos.v2_payment"
NS_PAYMENT_REF = "tokenos.v2_payment_ref"
NS_PAYMENT_ID = "tokenos.v2_payment_id"  # VRP ids reserved before the consent is charged


@dataclass(frozen=True)
class RefundHold(Record):
    """A refund against a payment; its fate is known from its amount when it is made."""

    refund_id: str
    amount: str
    completes_at: float | None
    fails_at: float | None


@dataclass(frozen=True, kw_only=True)
class Payment(Tracked):
    """A single immediate payment, or a VRP under a consent (`vrp_consent_id`)."""

    flow_type: str
    sca: str  # REDIRECT, EMBEDDED, DECOUPLED, HOSTED or VRP
    code: int  # the magic value the amount selected
    bank_id: str | None
    payer_account: str | None = None
    wrong_codes: int = 0
    vrp_consent_id: str | None = None
    refunds: tuple[RefundHold, ...] = ()

    @property
    def kind(self) -> str:
        return "vrp" if self.vrp_consent_id else "payment"

    @property
    def amount(self) -> Decimal:
        return Decimal(self.initiation["amount"]["value"])

    @property
    def currency(self) -> str:
        return str(self.initiation["amount"]["currency"])


@dataclass(frozen=True)
class PaymentId(Record):
    """A VRP's id, reserved before its consent is charged (so two VRPs never share one)."""

    payment_id: Annotated[str, Stored(key="id")]
    member_id: str
