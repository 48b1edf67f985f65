"""QuickStream's ``quickstream.*`` options, read and checked once when the app is built.

QuickStream has none of its own yet beyond ``quickstream.hosts`` (every provider's); its
facilities, keys and frame origins are fixtures. An unknown ``quickstream.*`` option is refused.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from mockbank.settings import check_known, provider_settings

if TYPE_CHECKING:
    from mockbank.state import State

OPTIONS: tuple[str, ...] = ()


@dataclass(frozen=True)
class Settings:
    """QuickStream's options (none beyond the common ``hosts``)."""


def read_settings(options: Mapping[str, Any]) -> Settings:
    """The ``quickstream.*`` options, checked; a `SettingError` names an unknown one."""
    check_known(options, "quickstream", OPTIONS)
    return Settings()


def settings(state: State) -> Settings:
    """This app's checked ``quickstream.*`` options (read once, at start)."""
    return provider_settings(state, "quickstream", Settings)
