"""Token.io's ``tokenos.*`` options, read and checked once when the app is built."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from mockbank.providers.tokenos.models import payment_flow as flow
from mockbank.providers.tokenos.models.common import BALANCE_CACHE_S, REQUEST_TTL_S
from mockbank.providers.tokenos.models.payments_v2 import Settings as PaymentSettings
from mockbank.settings import boolean, check_known, positive_seconds, provider_settings, seconds

if TYPE_CHECKING:
    from mockbank.state import State

OPTIONS = (
    "lenient_signatures",
    "token_request_ttl_s",
    "balance_cache_s",
    "decoupled_approval_s",
    "settlement_s",
)


@dataclass(frozen=True)
class Settings:
    """Signature strictness, token-request and balance lifetimes, and v2 payment timings."""

    lenient_signatures: bool = False
    token_request_ttl_s: int = REQUEST_TTL_S
    balance_cache_s: int = BALANCE_CACHE_S
    payments: PaymentSettings = field(default_factory=PaymentSettings)


def read_settings(options: Mapping[str, Any]) -> Settings:
    """The ``tokenos.*`` options, checked; a `SettingError` names a bad or unknown one."""
    check_known(options, "tokenos", OPTIONS)
    ttl = positive_seconds(options, "tokenos.token_request_ttl_s", REQUEST_TTL_S)
    cache = seconds(options, "tokenos.balance_cache_s", BALANCE_CACHE_S)
    return Settings(
        lenient_signatures=boolean(options, "tokenos.lenient_signatures", False),
        token_request_ttl_s=int(ttl),
        balance_cache_s=int(cache),
        payments=PaymentSettings(
            seconds(options, "tokenos.decoupled_approval_s", flow.DECOUPLED_S),
            seconds(options, "tokenos.settlement_s", flow.SETTLEMENT_S),
        ),
    )


def settings(state: State) -> Settings:
    """This app's checked ``tokenos.*`` options (read once, at start)."""
    return provider_settings(state, "tokenos", Settings)
