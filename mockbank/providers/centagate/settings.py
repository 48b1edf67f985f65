"""Centagate's ``centagate.*`` options, read and checked once when the app is built. A bad value
stops the app with an error naming it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from mockbank.clients.centagate import ORDER_NAMES
from mockbank.providers.centagate.errors import DEFAULT_RETURN_CODES, RETURN_CODE_TABLES
from mockbank.providers.centagate.models import DEFAULT_CHALLENGE_TTL_S
from mockbank.settings import check_known, choice, positive_seconds, provider_settings

if TYPE_CHECKING:
    from mockbank.state import State


@dataclass(frozen=True)
class Settings:
    """The app's ``centagate.*`` options, checked: a bad value fails at start, not per request."""

    hmac_order: str | None  # None: each app's own fixture setting
    challenge_ttl_s: float
    return_codes: str = DEFAULT_RETURN_CODES  # apps without their own returnCodes use it


OPTIONS = ("hmac_order", "challenge_ttl_s", "return_codes")


def read_settings(options: Mapping[str, Any]) -> Settings:
    """The ``centagate.*`` options, checked; a `SettingError` names a bad or unknown one."""
    check_known(options, "centagate", OPTIONS)
    order = options.get("centagate.hmac_order")
    if order is not None:
        order = choice(options, "centagate.hmac_order", "any", ("any", *ORDER_NAMES))
    ttl_s = positive_seconds(options, "centagate.challenge_ttl_s", DEFAULT_CHALLENGE_TTL_S)
    codes = choice(options, "centagate.return_codes", DEFAULT_RETURN_CODES, RETURN_CODE_TABLES)
    return Settings(hmac_order=order, challenge_ttl_s=ttl_s, return_codes=codes)


def settings(state: State) -> Settings:
    """This app's checked ``centagate.*`` options (read once, at start)."""
    return provider_settings(state, "centagate", Settings)
