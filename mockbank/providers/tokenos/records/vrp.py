"""VRP consents as stored: the consent, its control parameters and the VRPs held against it."""

from __future__ import annotations

from dataclasses import dataclass

from mockbank.providers.tokenos.records.steps import Tracked
from mockbank.records import Record

NS_VRP_CONSENT = "tokenos.vrp_consent"


@dataclass(frozen=True)
class VrpHold(Record):
    """A VRP counted against the consent's limits until it fails (known from its amount)."""

    payment_id: str
    amount: str
    at: float
    fails_at: float | None

    def live(self, now: float) -> bool:
        return self.fails_at is None or self.fails_at > now


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
