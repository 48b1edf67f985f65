"""VRP consents as stored: the consent, its control parameters and the VRPs held against it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from mockbank.providers.tokenos.records.steps import Tracked

NS_VRP_CONSENT = "tokenos.vrp_consent"


@dataclass(frozen=True)
class VrpHold:
    """A VRP counted against the consent's limits until it fails (known from its amount)."""

    payment_id: str
    amount: str
    at: float
    fails_at: float | None

    def live(self, now: float) -> bool:
        return self.fails_at is None or self.fails_at > now

    def to_value(self) -> dict[str, Any]:
        return {
            "paymentId": self.payment_id,
            "amount": self.amount,
            "at": self.at,
            "failsAt": self.fails_at,
        }

    @classmethod
    def from_value(cls, value: dict[str, Any]) -> VrpHold:
        return cls(value["paymentId"], value["amount"], float(value["at"]), value["failsAt"])


@dataclass(frozen=True, kw_only=True)
class VrpConsent(Tracked):
    """A long-held consent with its control parameters and the VRPs made under it."""

    start: float
    end: float | None
    bank_id: str | None
    payer_account: str | None = None
    holds: tuple[VrpHold, ...] = ()

    @property
    def kind(self) -> str:
        return "vrp-consent"

    @property
    def currency(self) -> str:
        return str(self.initiation["currency"])

    def to_value(self) -> dict[str, Any]:
        return self.tracked_value() | {
            "start": self.start,
            "end": self.end,
            "bankId": self.bank_id,
            "payerAccount": self.payer_account,
            "holds": [h.to_value() for h in self.holds],
        }

    @classmethod
    def from_value(cls, value: dict[str, Any]) -> VrpConsent:
        return cls(
            **cls.tracked_fields(value),
            start=float(value["start"]),
            end=None if value["end"] is None else float(value["end"]),
            bank_id=value["bankId"],
            payer_account=value["payerAccount"],
            holds=tuple(VrpHold.from_value(h) for h in value["holds"]),
        )
