"""The journal kept in a shared store, so every process sharing it lists every request.

With ``--store postgresql://...`` (or ``--state``) several processes serve one sandbox; each
entry is written to the store under a store-wide sequence number and names the instance that
served it. The journal stays bounded: past `capacity` entries the oldest are deleted.
"""

from __future__ import annotations

import threading
from dataclasses import asdict, fields
from datetime import UTC, datetime
from typing import Any

from mockbank.journal import DEFAULT_CAPACITY, Capture, Entry, Journal, clip
from mockbank.store import Store

NAMESPACE = "mockbank.journal"
ID_SEQUENCE = "mockbank.journal-ids"
# Trim in batches: one scan per this many entries written, not one per request.
TRIM_EVERY = 200
_RECORD_TIME = datetime(2000, 1, 1, tzinfo=UTC)
_FIELDS = {f.name for f in fields(Entry)}


def _key(entry_id: int) -> str:
    return f"{entry_id:015d}"


def _to_value(entry: Entry) -> dict[str, Any]:
    value = asdict(entry)
    value["time"] = entry.time.timestamp()
    value.pop("size", None)
    return value


def _from_value(value: dict[str, Any]) -> Entry:
    known = {k: v for k, v in value.items() if k in _FIELDS}
    known["time"] = datetime.fromtimestamp(value["time"], tz=UTC)
    return Entry(**known)


class StoreJournal(Journal):
    """A `Journal` whose entries live in the store shared by every process."""

    def __init__(self, store: Store, capacity: int = DEFAULT_CAPACITY, instance: str = "") -> None:
        super().__init__(capacity)
        self.store = store
        self.capacity = capacity
        self.instance = instance or None
        self._written = 0
        self._trim_lock = threading.Lock()

    def record(self, **values: Any) -> Entry:
        entry_id = self.store.next_sequence(ID_SEQUENCE)
        clipped, size = clip(values)
        entry = Entry(**{**clipped, "id": entry_id, "size": size, "instance": self.instance})
        self.store.add(NAMESPACE, _key(entry_id), _to_value(entry), now=_RECORD_TIME)
        self._written += 1
        if self._written % TRIM_EVERY == 0:
            self._trim(entry_id)
        return entry

    def record_capture(self, capture: Capture) -> None:
        """Masked at once: the store may be a file or a database other processes read."""
        self.record(**capture.fields())

    def _trim(self, newest: int) -> None:
        with self._trim_lock:
            for found in self.store.records(NAMESPACE):
                if int(found.key) <= newest - self.capacity:
                    self.store.delete(NAMESPACE, found.key)

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
        found = [_from_value(r.value) for r in self.store.records(NAMESPACE)]
        found.sort(key=lambda e: e.id)
        found = [e for e in found if provider is None or e.provider == provider]
        found = [e for e in found if endpoint is None or e.endpoint == endpoint]
        found = [e for e in found if path is None or e.path.startswith(path)]
        found = [e for e in found if status is None or e.status == status]
        if isinstance(since, datetime):
            found = [e for e in found if e.time >= since]
        elif isinstance(since, int):
            found = [e for e in found if e.id > since]
        return found[-limit:] if limit else found

    def clear(self, provider: str | None = None) -> None:
        for found in self.store.records(NAMESPACE):
            if provider is None or found.value.get("provider") == provider:
                self.store.delete(NAMESPACE, found.key)

    def __len__(self) -> int:
        return len(self.store.records(NAMESPACE))
