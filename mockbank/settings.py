"""Reading a provider's ``<provider>.<option>`` settings once.

Every provider package has a ``settings.py`` with a frozen ``Settings`` dataclass and a
``read_settings(options)`` built from the readers here. `State` reads them at start for every
provider that options are given for, so a malformed value stops `create_app` (and `mockbank
serve`, exit code 2) with an error naming the option, its value and what it must be; a provider
given no options has its defaults read on its first use (`ProviderSettings`). Views only read
the checked dataclass.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from mockbank.config import StartupError

if TYPE_CHECKING:
    from mockbank.providers import Provider
    from mockbank.state import State

T = TypeVar("T")

# Every provider accepts ``<provider>.hosts``: extra hostnames for the in-process mode.
COMMON_OPTIONS = ("hosts",)
TRUE_WORDS = frozenset({"true", "1", "yes", "on"})
FALSE_WORDS = frozenset({"false", "0", "no", "off", ""})
# The longest duration an option may give: a year and a day of app-clock time.
MAX_SECONDS = 366 * 86_400


class SettingError(StartupError):
    """A provider option that cannot be right; the message names it and says what it must be."""


def check_known(options: Mapping[str, Any], provider: str, known: Iterable[str]) -> None:
    """Refuse a ``<provider>.<name>`` option nobody reads (a typo would otherwise do nothing)."""
    names = {*known, *COMMON_OPTIONS}
    prefix = f"{provider}."
    for key in options:
        if key.startswith(prefix) and key[len(prefix) :] not in names:
            raise SettingError(
                f"{key} is not a {provider} option; the options are "
                + ", ".join(f"{prefix}{n}" for n in sorted(names))
            )


class ProviderSettings(Mapping[str, object]):
    """Each provider's checked settings: read at once for providers that options name, so a bad
    one stops the start; read on first use for the rest (their defaults, which are tested)."""

    def __init__(self, options: Mapping[str, Any], providers: Mapping[str, Provider]) -> None:
        self._options = options
        self._providers = providers
        self._read: dict[str, object] = {}
        self._lock = threading.Lock()
        for name in providers:
            if any(key.startswith(f"{name}.") for key in options):
                self.read(name)  # now: a bad option must stop the start

    def __getitem__(self, name: str) -> object:
        return self.read(name)

    def read(self, name: str) -> object:
        """`name`'s settings, read and checked on the first call."""
        found = self._read.get(name)
        if found is None:
            provider = self._providers[name]
            with self._lock:
                found = self._read.get(name)
                if found is None:
                    found = self._read[name] = provider.settings(self._options)
        return found

    def __iter__(self) -> Iterator[str]:
        return iter(self._providers)

    def __len__(self) -> int:
        return len(self._providers)


def provider_settings(state: State, provider: str, kind: type[T]) -> T:
    """The checked settings `State` read for `provider`."""
    found = state.settings[provider]
    if not isinstance(found, kind):
        raise TypeError(f"{provider} settings are a {type(found).__name__}, not {kind.__name__}")
    return found


def seconds(
    options: Mapping[str, Any],
    name: str,
    default: float,
    *,
    low: float = 0,
    high: float = MAX_SECONDS,
) -> float:
    """A number of seconds from `low` to `high`."""
    raw = options.get(name, default)
    try:
        value = math.nan if isinstance(raw, bool) else float(raw)
    except (TypeError, ValueError):
        value = math.nan
    if not low <= value <= high:  # NaN fails too
        raise SettingError(
            f"{name} must be a number of seconds from {low:g} to {high:g}, not {raw!r}"
        )
    return value


def positive_seconds(
    options: Mapping[str, Any], name: str, default: float, *, high: float = MAX_SECONDS
) -> float:
    """A number of seconds above 0 and at most `high`."""
    value = seconds(options, name, default, high=high)
    if value == 0:
        raise SettingError(f"{name} must be a number of seconds above 0, not {options.get(name)!r}")
    return value


def boolean(options: Mapping[str, Any], name: str, default: bool) -> bool:
    """true/false, also spelled as the words an environment variable carries."""
    raw = options.get(name, default)
    if isinstance(raw, bool):
        return raw
    word = str(raw).strip().lower() if isinstance(raw, str | int) else None
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise SettingError(f"{name} must be true or false, not {raw!r}")


def choice(options: Mapping[str, Any], name: str, default: str, allowed: Iterable[str]) -> str:
    """One of `allowed`."""
    raw = options.get(name, default)
    allowed = tuple(allowed)
    if not isinstance(raw, str) or raw not in allowed:
        raise SettingError(f"{name} must be one of {', '.join(allowed)}, not {raw!r}")
    return raw
