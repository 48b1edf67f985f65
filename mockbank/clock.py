"""The app clock: the only module that reads wall time.

Every expiry in every provider asks a `Clock`, so tests and demos can move time forward,
freeze it, or return to real time without touching the machine's clock.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any


def parse_instant(value: str | float | int) -> datetime:
    """Parse an ISO-8601 string (``Z`` allowed) or epoch seconds into an aware UTC datetime."""
    if isinstance(value, bool):
        raise ValueError("expected an ISO-8601 time or epoch seconds, not a boolean")
    if isinstance(value, int | float):
        return datetime.fromtimestamp(float(value), tz=UTC)
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    parsed = datetime.fromisoformat(text)
    if parsed.tzinfo is None:
        raise ValueError(f"{value!r} has no time zone; add Z or an offset such as +00:00")
    return parsed.astimezone(UTC)


def wall_epoch() -> float:
    """Real wall time, for client-side helpers (request signing) that have no app clock."""
    return time.time()


class Clock:
    """Real time plus an offset, or frozen at an instant."""

    def __init__(self, wall: Callable[[], float] = time.time) -> None:
        self._wall = wall
        self._lock = threading.Lock()
        self._offset = 0.0
        self._frozen_at: float | None = None
        self._listeners: list[Callable[[], None]] = []

    def epoch(self) -> float:
        """Seconds since the epoch on the app clock."""
        with self._lock:
            if self._frozen_at is not None:
                return self._frozen_at
            return self._wall() + self._offset

    def now(self) -> datetime:
        """The app clock's current instant, an aware UTC datetime."""
        return datetime.fromtimestamp(self.epoch(), tz=UTC)

    @property
    def frozen(self) -> bool:
        return self._frozen_at is not None

    def advance(self, seconds: float) -> datetime:
        """Move the clock forward (or back, with a negative value), frozen or not."""
        with self._lock:
            if self._frozen_at is not None:
                self._frozen_at += seconds
            else:
                self._offset += seconds
        self._changed()
        return self.now()

    def freeze(self, at: datetime | None = None) -> datetime:
        """Stop the clock at `at`, or where it stands now."""
        with self._lock:
            if at is None:
                current = (
                    self._frozen_at if self._frozen_at is not None else self._wall() + self._offset
                )
            else:
                current = at.timestamp()
            self._frozen_at = current
            self._offset = current - self._wall()
        self._changed()
        return self.now()

    def resume(self) -> datetime:
        """Return to real wall time: no offset, not frozen."""
        with self._lock:
            self._frozen_at = None
            self._offset = 0.0
        self._changed()
        return self.now()

    def snapshot(self) -> dict[str, Any]:
        """The control API's view: now, epoch, frozen, offset_s."""
        with self._lock:
            frozen = self._frozen_at is not None
            epoch = self._frozen_at if self._frozen_at is not None else self._wall() + self._offset
            offset = epoch - self._wall()
        now = datetime.fromtimestamp(epoch, tz=UTC)
        return {
            "now": now.isoformat().replace("+00:00", "Z"),
            "epoch": round(epoch, 3),
            "frozen": frozen,
            "offset_s": round(offset, 3),
        }

    def on_change(self, listener: Callable[[], None]) -> None:
        """Call `listener` whenever the clock is moved (the outbox wakes up on it)."""
        self._listeners.append(listener)

    def _changed(self) -> None:
        for listener in list(self._listeners):
            listener()
