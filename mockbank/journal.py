"""The request journal: a bounded, masked ring of what each provider was asked and answered."""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

DEFAULT_CAPACITY = 10_000
BODY_LIMIT = 64 * 1024


@dataclass
class Entry:
    """One request and its response, masked before it is stored."""

    id: int
    time: datetime
    provider: str | None
    endpoint: str | None
    method: str
    path: str
    query: str
    status: int
    latency_ms: float
    correlation_id: str
    remote_addr: str | None = None
    request_headers: dict[str, str] = field(default_factory=dict)
    request_body: str = ""
    response_headers: dict[str, str] = field(default_factory=dict)
    response_body: str = ""
    notes: dict[str, Any] = field(default_factory=dict)
    # The process that served it, when several share one store (``--instance``).
    instance: str | None = None

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["time"] = self.time.isoformat().replace("+00:00", "Z")
        return data


class Journal:
    """Thread-safe ring buffer of `Entry` records; callers mask before recording."""

    def __init__(self, capacity: int = DEFAULT_CAPACITY) -> None:
        self._entries: deque[Entry] = deque(maxlen=capacity)
        self._lock = threading.Lock()
        self._next_id = 1

    def record(self, **fields: Any) -> Entry:
        with self._lock:
            entry = Entry(id=self._next_id, **fields)
            self._next_id += 1
            self._entries.append(entry)
            return entry

    def entries(
        self,
        *,
        provider: str | None = None,
        path: str | None = None,
        status: int | None = None,
        since: datetime | int | None = None,
        endpoint: str | None = None,
        limit: int | None = None,
    ) -> list[Entry]:
        """Entries oldest first; `path` matches a prefix; `since` is a time or an entry id."""
        with self._lock:
            found: Iterable[Entry] = list(self._entries)
        if provider is not None:
            found = [e for e in found if e.provider == provider]
        if endpoint is not None:
            found = [e for e in found if e.endpoint == endpoint]
        if path is not None:
            found = [e for e in found if e.path.startswith(path)]
        if status is not None:
            found = [e for e in found if e.status == status]
        if isinstance(since, datetime):
            found = [e for e in found if e.time >= since]
        elif isinstance(since, int):
            found = [e for e in found if e.id > since]
        result = list(found)
        return result[-limit:] if limit else result

    def clear(self, provider: str | None = None) -> None:
        with self._lock:
            if provider is None:
                self._entries.clear()
            else:
                kept = [e for e in self._entries if e.provider != provider]
                self._entries.clear()
                self._entries.extend(kept)

    def __len__(self) -> int:
        return len(self._entries)
