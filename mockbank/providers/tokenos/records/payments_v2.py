"""Payments v2 as stored: the payment (single immediate, or a VRP), its refund holds, VRP ids.

Their refIds are `records.steps.RefId`s under NS_PAYMENT_REF.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from mockbank.providers.tokenos.records.steps import Tracked

NS_PAYMENT = "tokenos.v2_payment"
NS_PAYMENT_REF = "tokenos.v2_payment_ref"
NS_PAYMENT_ID = "tokenos.v2_payment_id"  # VRP ids reserved before the consent is charged


@dataclass(frozen=True)
class RefundHold:
    """A refund against a payment; its fate is known from its amount when it is made."""

    refund_id: str
    amount: str
    completes_at: float | None
    fails_at: float | None

    def to_value(self) -> dict[str, Any]:
        return {
            "refundId": self.refund_id,
            "amount": self.amount,
            "completesAt": self.completes_at,
            "failsAt": self.fails_at,
        }

    @classmethod
    def from_value(cls, value: dict[str, Any]) -> RefundHold:
        return cls(value["refundId"], value["amount"], value["completesAt"], value["failsAt"])


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

    def to_value(self) -> dict[str, Any]:
        return self.tracked_value() | {
            "flowType": self.flow_type,
            "sca": self.sca,
            "code": self.code,
            "bankId": self.bank_id,
            "payerAccount": self.payer_account,
            "wrongCodes": self.wrong_codes,
            "vrpConsentId": self.vrp_consent_id,
            "refunds": [r.to_value() for r in self.refunds],
        }

    @classmethod
    def from_value(cls, value: dict[str, Any]) -> Payment:
        return cls(
            **cls.tracked_fields(value),
            flow_type=value["flowType"],
            sca=value["sca"],
            code=int(value["code"]),
            bank_id=value["bankId"],
            payer_account=value["payerAccount"],
            wrong_codes=int(value["wrongCodes"]),
            vrp_consent_id=value["vrpConsentId"],
            refunds=tuple(RefundHold.from_value(r) for r in value["refunds"]),
        )


@dataclass(frozen=True)
class PaymentId:
    """A VRP's id, reserved before its consent is charged (so two VRPs never share one)."""

    payment_id: str
    member_id: str

    def to_value(self) -> dict[str, Any]:
        return {"id": self.payment_id, "memberId": self.member_id}

    @classmethod
    def from_value(cls, value: dict[str, Any]) -> PaymentId:
        return cls(value["id"], value["memberId"])
