"""Forter's ``forter.*`` options, read and checked once when the app is built."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from mockbank.providers.forter.models.signing import DEFAULT_HMAC_ENCODING, HMAC_ENCODINGS
from mockbank.providers.forter.models.tokens import SINGLE_USE_TTL_S
from mockbank.settings import check_known, choice, positive_seconds, provider_settings

if TYPE_CHECKING:
    from mockbank.state import State

OPTIONS = ("hmac_encoding", "single_use_ttl_s")


@dataclass(frozen=True)
class Settings:
    """How the proxy's ``hmac`` directive encodes a signature; how long a single-use token lives."""

    hmac_encoding: str = DEFAULT_HMAC_ENCODING
    single_use_ttl_s: float = SINGLE_USE_TTL_S


def read_settings(options: Mapping[str, Any]) -> Settings:
    """The ``forter.*`` options, checked; a `SettingError` names a bad or unknown one."""
    check_known(options, "forter", OPTIONS)
    return Settings(
        hmac_encoding=choice(
            options, "forter.hmac_encoding", DEFAULT_HMAC_ENCODING, HMAC_ENCODINGS
        ),
        single_use_ttl_s=positive_seconds(options, "forter.single_use_ttl_s", SINGLE_USE_TTL_S),
    )


def settings(state: State) -> Settings:
    """This app's checked ``forter.*`` options (read once, at start)."""
    return provider_settings(state, "forter", Settings)
