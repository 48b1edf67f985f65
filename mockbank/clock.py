"""The app clock: the only module that reads wall time.

Every expiry in every provider asks a `Clock`, so tests and demos can move time forward,
freeze it, or return to real time without touching the machine's clock.

The clock's setting (an offset from wall time, or a frozen instant) lives in memory, or in the
store when the store is persistent (`--state`), so every process sharing that store reads the
same time and a move made by one is seen by the others at once.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from mockbank.store import Store

# What the clock can represent: every provider adds TTLs of days or years to `now` and formats
# the result, so the range stays far from `datetime`'s own limits (years 1 to 9999).
MIN_EPOCH = 0.0  # 1970-01-01T00:00:00Z
MAX_EPOCH = 32503680000.0  # 3000-01-01T00:00:00Z
RANGE_TEXT = "1970-01-01T00:00:00Z and 3000-01-01T00:00:00Z"

CLOCK_NAMESPACE = "mockbank.clock"
CLOCK_KEY = "clock"
# Store records need a `now`; the clock's own record never expires, so any instant will do.
_RECORD_TIME = datetime(1970, 1, 1, tzinfo=UTC)


class ClockRangeError(ValueError):
    """A clock move or instant the clock cannot represent; the clock is left as it was."""


def check_epoch(epoch: float, what: str = "the clock") -> float:
    """`epoch` if the clock can stand there, else `ClockRangeError` naming the range."""
    if not math.isfinite(epoch):
        raise ClockRangeError(f"{what} must be a finite number of seconds")
    if not MIN_EPOCH <= epoch < MAX_EPOCH:
        raise ClockRangeError(
            f"{what} would stand at epoch {epoch:.0f}; the clock runs between {RANGE_TEXT}"
        )
    return epoch


def parse_instant(value: str | float | int) -> datetime:
    """Parse an ISO-8601 string (``Z`` allowed) or epoch seconds into an aware UTC datetime."""
    if isinstance(value, bool):
        raise ValueError("expected an ISO-8601 time or epoch seconds, not a boolean")
    if isinstance(value, int | float):
        return datetime.fromtimestamp(check_epoch(float(value), "the instant"), tz=UTC)
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    parsed = datetime.fromisoformat(text)
    if parsed.tzinfo is None:
        raise ValueError(f"{value!r} has no time zone; add Z or an offset such as +00:00")
    try:
        return parsed.astimezone(UTC)
    except OverflowError:  # e.g. 0001-01-01T00:00:00+01:00 falls before year 1
        raise ClockRangeError(f"{value!r} is outside {RANGE_TEXT}") from None


def wall_epoch() -> float:
    """Real wall time in epoch seconds: the one reader of the machine's calendar clock.

    For what others check against the machine's clock (TLS certificates, a client's request
    signature); every expiry reads the app clock (`Clock`) instead.
    """
    return time.time()


def monotonic() -> float:
    """Seconds on a clock that never jumps: durations and deadlines inside one process
    (latency, waits, socket timeouts), never an instant of the calendar."""
    return time.perf_counter()


@dataclass(frozen=True)
class ClockSetting:
    """Where the clock stands: wall time plus `offset`, or stopped at `frozen_at`."""

    offset: float = 0.0
    frozen_at: float | None = None

    def epoch(self, wall: float) -> float:
        return self.frozen_at if self.frozen_at is not None else wall + self.offset

    def to_value(self) -> dict[str, Any]:
        return {"offset": self.offset, "frozenAt": self.frozen_at}

    @classmethod
    def from_value(cls, value: dict[str, Any] | None) -> ClockSetting:
        if not value:
            return cls()
        frozen = value.get("frozenAt")
        return cls(float(value.get("offset", 0.0)), None if frozen is None else float(frozen))


Change = Callable[[ClockSetting], ClockSetting]


class ClockBacking(Protocol):
    """Where a clock keeps its setting; `change` is atomic."""

    def load(self) -> ClockSetting: ...

    def change(self, change: Change) -> ClockSetting: ...


class MemoryClockBacking:
    """The setting in this process only."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._setting = ClockSetting()

    def load(self) -> ClockSetting:
        return self._setting

    def change(self, change: Change) -> ClockSetting:
        with self._lock:
            self._setting = change(self._setting)
            return self._setting


# The settings a request has read from the store, per backing: a request reads the shared
# setting once (a store round trip), however often it asks the time. Set by `request_scope`.
_REQUEST_SETTINGS: ContextVar[dict[object, ClockSetting] | None] = ContextVar(
    "mockbank_clock_settings", default=None
)


@contextmanager
def request_scope() -> Iterator[None]:
    """Within one request, a shared clock's setting is read from the store once.

    Time still runs (the wall clock is read on every use); a move made by another process
    during the request is seen from the next request on. A move made by this request is
    seen at once.
    """
    token = _REQUEST_SETTINGS.set({})
    try:
        yield
    finally:
        _REQUEST_SETTINGS.reset(token)


class StoreClockBacking:
    """The setting as a record in the store, read once per request, changed atomically."""

    def __init__(self, store: Store, namespace: str = CLOCK_NAMESPACE) -> None:
        self._store = store
        self._namespace = namespace

    def load(self) -> ClockSetting:
        settings = _REQUEST_SETTINGS.get()
        if settings is not None:
            cached = settings.get(self)
            if cached is not None:
                return cached
        setting = ClockSetting.from_value(
            self._store.get(self._namespace, CLOCK_KEY, now=_RECORD_TIME)
        )
        if settings is not None:
            settings[self] = setting
        return setting

    def change(self, change: Change) -> ClockSetting:
        setting = self._change(change)
        settings = _REQUEST_SETTINGS.get()
        if settings is not None:
            settings[self] = setting
        return setting

    def _change(self, change: Change) -> ClockSetting:
        while True:
            value = self._store.update(
                self._namespace,
                CLOCK_KEY,
                lambda v: change(ClockSetting.from_value(v)).to_value(),
                now=_RECORD_TIME,
            )
            if value is not None:
                return ClockSetting.from_value(value)
            first = change(ClockSetting())
            if self._store.add(self._namespace, CLOCK_KEY, first.to_value(), now=_RECORD_TIME):
                return first
            # Another process wrote the first setting meanwhile: apply ours on top of it.


class Clock:
    """Real time plus an offset, or frozen at an instant."""

    def __init__(
        self, wall: Callable[[], float] = wall_epoch, backing: ClockBacking | None = None
    ) -> None:
        self._wall = wall
        self._backing: ClockBacking = backing or MemoryClockBacking()
        self._listeners: list[Callable[[], None]] = []

    def epoch(self) -> float:
        """Seconds since the epoch on the app clock."""
        return self._backing.load().epoch(self._wall())

    def now(self) -> datetime:
        """The app clock's current instant, an aware UTC datetime."""
        return datetime.fromtimestamp(self.epoch(), tz=UTC)

    @property
    def frozen(self) -> bool:
        return self._backing.load().frozen_at is not None

    def apply(
        self,
        *,
        resume: bool = False,
        freeze: bool | datetime | None = None,
        advance: float | None = None,
    ) -> datetime:
        """Resume, then freeze (now or at an instant), then advance: all at once or not at all.

        A result the clock cannot represent raises `ClockRangeError` and changes nothing.
        """
        if advance is not None and not math.isfinite(advance):
            raise ClockRangeError("'advance' must be a finite number of seconds")
        if isinstance(freeze, datetime):
            check_epoch(freeze.timestamp(), "the instant")

        def change(setting: ClockSetting) -> ClockSetting:
            wall = self._wall()
            if resume:
                setting = ClockSetting()
            if freeze is True:
                setting = ClockSetting(setting.offset, setting.epoch(wall))
            elif isinstance(freeze, datetime):
                setting = ClockSetting(freeze.timestamp() - wall, freeze.timestamp())
            if advance:
                if setting.frozen_at is not None:
                    setting = ClockSetting(setting.offset + advance, setting.frozen_at + advance)
                else:
                    setting = ClockSetting(setting.offset + advance)
            check_epoch(setting.epoch(wall))
            return setting

        self._backing.change(change)
        self._changed()
        return self.now()

    def advance(self, seconds: float) -> datetime:
        """Move the clock forward (or back, with a negative value), frozen or not."""
        return self.apply(advance=seconds)

    def freeze(self, at: datetime | None = None) -> datetime:
        """Stop the clock at `at`, or where it stands now."""
        return self.apply(freeze=True if at is None else at)

    def resume(self) -> datetime:
        """Return to real wall time: no offset, not frozen."""
        return self.apply(resume=True)

    def snapshot(self) -> dict[str, Any]:
        """The control API's view: now, epoch, frozen, offset_s."""
        setting = self._backing.load()
        wall = self._wall()
        epoch = setting.epoch(wall)
        now = datetime.fromtimestamp(epoch, tz=UTC)
        return {
            "now": now.isoformat().replace("+00:00", "Z"),
            "epoch": round(epoch, 3),
            "frozen": setting.frozen_at is not None,
            "offset_s": round(epoch - wall, 3),
        }

    def on_change(self, listener: Callable[[], None]) -> None:
        """Call `listener` whenever the clock is moved (the outbox wakes up on it)."""
        self._listeners.append(listener)

    def _changed(self) -> None:
        for listener in list(self._listeners):
            listener()
