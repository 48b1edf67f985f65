"""SysPay's ``syspay.*`` options, read and checked once when the app is built."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from mockbank.providers.syspay.models import DEFAULT_REDIRECT_TTL_S, DEFAULT_WINDOW_S
from mockbank.settings import check_known, positive_seconds, provider_settings

if TYPE_CHECKING:
    from mockbank.state import State

OPTIONS = ("created_window_s", "redirect_ttl_s")


@dataclass(frozen=True)
class Settings:
    """How far an X-Wsse ``Created`` may be from the app clock; how long a one-time URL lives."""

    created_window_s: float = DEFAULT_WINDOW_S
    redirect_ttl_s: float = DEFAULT_REDIRECT_TTL_S


def read_settings(options: Mapping[str, Any]) -> Settings:
    """The ``syspay.*`` options, checked; a `SettingError` names a bad or unknown one."""
    check_known(options, "syspay", OPTIONS)
    return Settings(
        created_window_s=positive_seconds(options, "syspay.created_window_s", DEFAULT_WINDOW_S),
        redirect_ttl_s=positive_seconds(options, "syspay.redirect_ttl_s", DEFAULT_REDIRECT_TTL_S),
    )


def settings(state: State) -> Settings:
    """This app's checked ``syspay.*`` options (read once, at start)."""
    return provider_settings(state, "syspay", Settings)
