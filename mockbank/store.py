"""Keyed records per provider namespace, with expiry decided on read and atomic take-once.

Two implementations share one contract (``tests/core/test_store_contract.py``): `MemoryStore`
(the default) and `SQLiteStore` (``--state PATH``), which survives restarts and can be shared by
several processes. Values are JSON-compatible dicts so both backends hold the same data.

Besides records, a store keeps named sequences (`next_sequence`): the source of every id, so a
store that already holds records never hands out an id twice, whichever process asks.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from mockbank.private_files import private_directory, private_file

Value = dict[str, Any]
Updater = Callable[[Value], Value]

# Records that expired longer ago than this are purged, so a long soak stays flat while a
# recently expired token can still be told apart from an unknown one.
PURGE_GRACE_S = 3600.0
PURGE_EVERY_WRITES = 500
# Values as compact JSON text (no space after "," and ":"): a tenth smaller in memory and on
# disk. One encoder, built once: `json.dumps` with options would build one per call.
_dumps = json.JSONEncoder(separators=(",", ":")).encode
_COMPRESS_FROM = 1024  # characters of JSON text


class RecordExists(Exception):
    """A new record's key is already taken: ids must never be handed out twice."""

    def __init__(self, namespace: str, key: str) -> None:
        super().__init__(f"a record {namespace}/{key} already exists; it is never replaced")
        self.namespace, self.key = namespace, key


@dataclass(frozen=True)
class Record:
    """One stored record and its lifecycle timestamps."""

    namespace: str
    key: str
    value: Value
    created_at: datetime
    expires_at: datetime | None = None
    used_at: datetime | None = None

    def expired(self, now: datetime) -> bool:
        return self.expires_at is not None and now >= self.expires_at

    @property
    def used(self) -> bool:
        return self.used_at is not None

    def usable(self, now: datetime) -> bool:
        return not self.used and not self.expired(now)


class Store(Protocol):
    """What every backend provides; `now` always comes from the app clock."""

    # True when the data outlives this process or is shared with others (SQLite, PostgreSQL):
    # the clock and the fault rules then live in the store too, so every process sees them.
    persistent: bool

    def add(
        self,
        namespace: str,
        key: str,
        value: Value,
        *,
        now: datetime,
        expires_at: datetime | None = None,
    ) -> bool:
        """Insert if no record exists under `key` (expired ones count); True when inserted."""
        ...

    def put(
        self,
        namespace: str,
        key: str,
        value: Value,
        *,
        now: datetime,
        expires_at: datetime | None = None,
    ) -> None:
        """Insert or replace a record (a replaced record starts unused)."""
        ...

    def get(self, namespace: str, key: str, *, now: datetime) -> Value | None:
        """The value of a usable record: present, not expired, not used."""
        ...

    def record(self, namespace: str, key: str) -> Record | None:
        """The record whatever its state, for telling 'used' and 'expired' from 'unknown'."""
        ...

    def take_once(self, namespace: str, key: str, *, now: datetime) -> Value | None:
        """Atomically mark a usable record used and return its value; None for everyone else."""
        ...

    def update(
        self,
        namespace: str,
        key: str,
        change: Updater,
        *,
        now: datetime,
        expires_at: datetime | None = None,
    ) -> Value | None:
        """Atomically replace a usable record's value with `change(value)`.

        Returns the new value, or None when there is no usable record. An exception raised by
        `change` propagates and leaves the record as it was.
        """
        ...

    def delete(self, namespace: str, key: str) -> bool: ...

    def records(self, namespace: str) -> list[Record]:
        """Every record in a namespace (used and expired included), oldest first."""
        ...

    def next_sequence(self, name: str, count: int = 1) -> int:
        """Atomically reserve the next `count` numbers of sequence `name`; the first of them.

        A sequence starts at 1 and never hands out a number twice, across threads, processes
        sharing the store and restarts, until `reset` clears it.
        """
        ...

    def reset(self, prefix: str | None = None) -> None:
        """Delete every record and sequence, or those whose name starts with `prefix`."""
        ...

    def purge_expired(self, now: datetime, grace_s: float = PURGE_GRACE_S) -> int: ...

    def close(self) -> None: ...


def _ts(value: datetime | None) -> float | None:
    return None if value is None else value.timestamp()


def _dt(value: float | None) -> datetime | None:
    return None if value is None else datetime.fromtimestamp(value, tz=UTC)


def _copy(value: Value) -> Value:
    # A deep copy through JSON keeps both backends honest: no caller can mutate stored state.
    copied: Value = json.loads(json.dumps(value))
    return copied


def add_new(
    store: Store,
    namespace: str,
    key: str,
    value: Value,
    *,
    now: datetime,
    expires_at: datetime | None = None,
) -> None:
    """Insert a new record under a freshly made id; `RecordExists` if the id was taken.

    New records never replace old ones: with ids from `next_sequence` a clash means a bug, and
    silently overwriting would let an old token detokenize to another card.
    """
    if not store.add(namespace, key, value, now=now, expires_at=expires_at):
        raise RecordExists(namespace, key)


def check_count(count: int) -> None:
    """A sequence reservation's `count`: a whole number, at least 1."""
    if isinstance(count, bool) or not isinstance(count, int) or count < 1:
        raise ValueError("a sequence reserves at least one number")


def _pack(text: str) -> str | bytes:
    """A value's JSON text as the memory store keeps it: large ones zlib-compressed."""
    if len(text) < _COMPRESS_FROM:
        return text
    return zlib.compress(text.encode(), 1)


def _unpack(data: str | bytes) -> str:
    return data if isinstance(data, str) else zlib.decompress(data).decode()


class _Stored:
    """One record as the memory store keeps it: the value as JSON text, times as floats.

    Text rather than a dict: a few hundred bytes instead of several KiB of small objects per
    record, and every read is a fresh copy that no caller can use to change stored state.
    Text of a KiB or more (a TokenOS token with its signatures) is kept zlib-compressed, about
    half the size, for some 20 µs per write and read of such a record.
    """

    __slots__ = ("created", "data", "expires", "used")

    def __init__(self, text: str, created: float, expires: float | None) -> None:
        self.data = _pack(text)
        self.created = created
        self.expires = expires
        self.used: float | None = None

    @property
    def text(self) -> str:
        return _unpack(self.data)

    def usable(self, now: float) -> bool:
        return self.used is None and (self.expires is None or now < self.expires)

    def value(self) -> Value:
        value: Value = json.loads(self.text)
        return value

    def record(self, namespace: str, key: str) -> Record:
        return Record(
            namespace,
            key,
            self.value(),
            datetime.fromtimestamp(self.created, tz=UTC),
            _dt(self.expires),
            _dt(self.used),
        )


class MemoryStore:
    """In-memory backend: one lock, so every operation is atomic."""

    persistent = False

    def __init__(self) -> None:
        self._lock = threading.Lock()
        # Records by namespace, so listing one namespace never scans the others.
        self._data: dict[str, dict[str, _Stored]] = {}
        self._sequences: dict[str, int] = {}
        self._writes = 0

    def _wrote(self, now: datetime) -> None:
        self._writes += 1
        if self._writes % PURGE_EVERY_WRITES == 0:
            self._purge_locked(now, PURGE_GRACE_S)

    def _find(self, namespace: str, key: str) -> _Stored | None:
        space = self._data.get(namespace)
        return None if space is None else space.get(key)

    def add(
        self,
        namespace: str,
        key: str,
        value: Value,
        *,
        now: datetime,
        expires_at: datetime | None = None,
    ) -> bool:
        text = _dumps(value)
        with self._lock:
            space = self._data.setdefault(namespace, {})
            if key in space:
                return False
            space[key] = _Stored(text, now.timestamp(), _ts(expires_at))
            self._wrote(now)
            return True

    def put(
        self,
        namespace: str,
        key: str,
        value: Value,
        *,
        now: datetime,
        expires_at: datetime | None = None,
    ) -> None:
        text = _dumps(value)
        with self._lock:
            space = self._data.setdefault(namespace, {})
            space.pop(key, None)  # a replaced record is the newest
            space[key] = _Stored(text, now.timestamp(), _ts(expires_at))
            self._wrote(now)

    def get(self, namespace: str, key: str, *, now: datetime) -> Value | None:
        with self._lock:
            stored = self._find(namespace, key)
            if stored is None or not stored.usable(now.timestamp()):
                return None
            text = stored.text
        return dict(json.loads(text))

    def record(self, namespace: str, key: str) -> Record | None:
        with self._lock:
            stored = self._find(namespace, key)
            return None if stored is None else stored.record(namespace, key)

    def take_once(self, namespace: str, key: str, *, now: datetime) -> Value | None:
        with self._lock:
            stored = self._find(namespace, key)
            if stored is None or not stored.usable(now.timestamp()):
                return None
            stored.used = now.timestamp()
            text = stored.text
        return dict(json.loads(text))

    def update(
        self,
        namespace: str,
        key: str,
        change: Updater,
        *,
        now: datetime,
        expires_at: datetime | None = None,
    ) -> Value | None:
        with self._lock:
            stored = self._find(namespace, key)
            if stored is None or not stored.usable(now.timestamp()):
                return None
            text = _dumps(change(stored.value()))
            stored.data = _pack(text)
            if expires_at is not None:
                stored.expires = expires_at.timestamp()
        return dict(json.loads(text))

    def delete(self, namespace: str, key: str) -> bool:
        with self._lock:
            space = self._data.get(namespace)
            if space is None or space.pop(key, None) is None:
                return False
            if not space:
                del self._data[namespace]
            return True

    def records(self, namespace: str) -> list[Record]:
        with self._lock:
            found = [s.record(namespace, k) for k, s in self._data.get(namespace, {}).items()]
        return sorted(found, key=lambda r: r.created_at)

    def next_sequence(self, name: str, count: int = 1) -> int:
        check_count(count)
        with self._lock:
            first = self._sequences.get(name, 0) + 1
            self._sequences[name] = first + count - 1
            return first

    def reset(self, prefix: str | None = None) -> None:
        with self._lock:
            if prefix is None:
                self._data.clear()
                self._sequences.clear()
                return
            for namespace in [ns for ns in self._data if ns.startswith(prefix)]:
                del self._data[namespace]
            for name in [n for n in self._sequences if n.startswith(prefix)]:
                del self._sequences[name]

    def purge_expired(self, now: datetime, grace_s: float = PURGE_GRACE_S) -> int:
        with self._lock:
            return self._purge_locked(now, grace_s)

    def _purge_locked(self, now: datetime, grace_s: float) -> int:
        cutoff = now.timestamp() - grace_s
        purged = 0
        for namespace, space in list(self._data.items()):
            stale = [k for k, s in space.items() if s.expires is not None and s.expires <= cutoff]
            for key in stale:
                del space[key]
            purged += len(stale)
            if not space:
                del self._data[namespace]
        return purged

    def close(self) -> None:
        pass


_SCHEMA = """
CREATE TABLE IF NOT EXISTS records (
    namespace TEXT NOT NULL,
    key TEXT NOT NULL,
    value TEXT NOT NULL,
    created REAL NOT NULL,
    expires REAL,
    used REAL,
    PRIMARY KEY (namespace, key)
);
CREATE INDEX IF NOT EXISTS records_expires ON records (expires);
CREATE TABLE IF NOT EXISTS sequences (
    name TEXT PRIMARY KEY,
    value INTEGER NOT NULL
);
"""


class SQLiteStore:
    """SQLite backend: one connection behind a lock per process, WAL, take-once in one UPDATE.

    A used record is written as used before the value is returned, in the same statement, so
    no crash can revive it and no other process sharing the file can take it twice.
    """

    persistent = True

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        private_directory(self.path.parent)
        private_file(self.path)
        for suffix in ("-wal", "-shm"):  # left by an older version or another process
            companion = self.path.with_name(self.path.name + suffix)
            if companion.exists():
                private_file(companion)
        self._lock = threading.RLock()
        self._writes = 0
        self._db = sqlite3.connect(
            self.path, timeout=30, isolation_level=None, check_same_thread=False
        )
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute("PRAGMA busy_timeout=30000")
        self._db.executescript(_SCHEMA)

    def _execute(self, sql: str, args: tuple[Any, ...] = ()) -> int:
        """Run one statement; the number of rows it changed."""
        with self._lock:
            return self._db.execute(sql, args).rowcount

    def _fetch(self, sql: str, args: tuple[Any, ...] = ()) -> list[Any]:
        """Run one statement and read all its rows while holding the lock."""
        with self._lock:
            return self._db.execute(sql, args).fetchall()

    def _fetchone(self, sql: str, args: tuple[Any, ...] = ()) -> Any:
        rows = self._fetch(sql, args)
        return rows[0] if rows else None

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            # IMMEDIATE takes the write lock up front, so other processes wait their turn.
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def _wrote(self, now: datetime) -> None:
        self._writes += 1
        if self._writes % PURGE_EVERY_WRITES == 0:
            self.purge_expired(now)

    @staticmethod
    def _row(row: tuple[Any, ...]) -> Record:
        namespace, key, value, created, expires, used = row
        return Record(
            namespace,
            key,
            json.loads(value),
            datetime.fromtimestamp(created, tz=UTC),
            _dt(expires),
            _dt(used),
        )

    def add(
        self,
        namespace: str,
        key: str,
        value: Value,
        *,
        now: datetime,
        expires_at: datetime | None = None,
    ) -> bool:
        changed = self._execute(
            "INSERT OR IGNORE INTO records VALUES (?, ?, ?, ?, ?, NULL)",
            (namespace, key, _dumps(value), now.timestamp(), _ts(expires_at)),
        )
        self._wrote(now)
        return changed == 1

    def put(
        self,
        namespace: str,
        key: str,
        value: Value,
        *,
        now: datetime,
        expires_at: datetime | None = None,
    ) -> None:
        self._execute(
            "INSERT OR REPLACE INTO records VALUES (?, ?, ?, ?, ?, NULL)",
            (namespace, key, _dumps(value), now.timestamp(), _ts(expires_at)),
        )
        self._wrote(now)

    def get(self, namespace: str, key: str, *, now: datetime) -> Value | None:
        row = self._fetchone(
            "SELECT value FROM records WHERE namespace = ? AND key = ? AND used IS NULL"
            " AND (expires IS NULL OR expires > ?)",
            (namespace, key, now.timestamp()),
        )
        return None if row is None else dict(json.loads(row[0]))

    def record(self, namespace: str, key: str) -> Record | None:
        row = self._fetchone(
            "SELECT * FROM records WHERE namespace = ? AND key = ?", (namespace, key)
        )
        return None if row is None else self._row(row)

    def take_once(self, namespace: str, key: str, *, now: datetime) -> Value | None:
        row = self._fetchone(
            "UPDATE records SET used = ? WHERE namespace = ? AND key = ? AND used IS NULL"
            " AND (expires IS NULL OR expires > ?) RETURNING value",
            (now.timestamp(), namespace, key, now.timestamp()),
        )
        return None if row is None else dict(json.loads(row[0]))

    def update(
        self,
        namespace: str,
        key: str,
        change: Updater,
        *,
        now: datetime,
        expires_at: datetime | None = None,
    ) -> Value | None:
        with self._transaction() as db:
            row = db.execute(
                "SELECT value, expires FROM records WHERE namespace = ? AND key = ?"
                " AND used IS NULL AND (expires IS NULL OR expires > ?)",
                (namespace, key, now.timestamp()),
            ).fetchone()
            if row is None:
                return None
            new_value = change(json.loads(row[0]))
            db.execute(
                "UPDATE records SET value = ?, expires = ? WHERE namespace = ? AND key = ?",
                (_dumps(new_value), _ts(expires_at) if expires_at else row[1], namespace, key),
            )
        return _copy(new_value)

    def delete(self, namespace: str, key: str) -> bool:
        return (
            self._execute("DELETE FROM records WHERE namespace = ? AND key = ?", (namespace, key))
            == 1
        )

    def records(self, namespace: str) -> list[Record]:
        rows = self._fetch(
            "SELECT * FROM records WHERE namespace = ? ORDER BY created, rowid", (namespace,)
        )
        return [self._row(row) for row in rows]

    def next_sequence(self, name: str, count: int = 1) -> int:
        check_count(count)
        # One statement: the increment and the read are atomic across processes.
        row = self._fetchone(
            "INSERT INTO sequences (name, value) VALUES (?, ?)"
            " ON CONFLICT (name) DO UPDATE SET value = value + excluded.value RETURNING value",
            (name, count),
        )
        return int(row[0]) - count + 1

    def reset(self, prefix: str | None = None) -> None:
        with self._transaction() as db:
            if prefix is None:
                db.execute("DELETE FROM records")
                db.execute("DELETE FROM sequences")
                return
            escaped = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            db.execute("DELETE FROM records WHERE namespace LIKE ? ESCAPE '\\'", (escaped + "%",))
            db.execute("DELETE FROM sequences WHERE name LIKE ? ESCAPE '\\'", (escaped + "%",))

    def purge_expired(self, now: datetime, grace_s: float = PURGE_GRACE_S) -> int:
        return self._execute(
            "DELETE FROM records WHERE expires IS NOT NULL AND expires <= ?",
            (now.timestamp() - grace_s,),
        )

    def close(self) -> None:
        with self._lock:
            self._db.close()
