"""Sandboxes: isolated copies of every provider on one server, reached by a URL prefix.

A sandbox is a complete `State` of its own (clock, faults, journal, outbox and records, seeded
from the fixtures or its own), created through ``POST /_mockbank/sandboxes`` and reached by
changing only the base URL: ``/s/<name>/quickstream/...``, ``/s/<name>/_mockbank/...``. The
unprefixed URLs are the default sandbox. Its records live in the app's store under a prefix of
their own, so with a shared store (SQLite, PostgreSQL) every process serves the same sandbox;
the registry itself is a store record, expiring after the sandbox's idle time on the default
sandbox's app clock and refreshed by every request to it.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from mockbank.fixtures import FixtureError
from mockbank.store import PURGE_GRACE_S, Record, Store, Updater, Value

if TYPE_CHECKING:
    from mockbank.outbox import Outbox
    from mockbank.state import State

REGISTRY = "sandbox.registry"
PREFIX = "sandbox:"
DEFAULT_IDLE_TTL_S = 3600.0
MAX_IDLE_TTL_S = 30 * 24 * 3600.0
MAX_SANDBOXES = 1000
NAME = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,38}[a-z0-9])?$")
# The environ key the dispatcher sets, and the one holding the resolved State.
ENVIRON_NAME = "mockbank.sandbox"
ENVIRON_STATE = "mockbank.state"
# Refresh the idle deadline at most this often per sandbox and process (a store write).
TOUCH_EVERY_S = 5.0


class SandboxError(ValueError):
    """A sandbox request that cannot be carried out (bad name, unknown, too many)."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


@dataclass(frozen=True)
class SandboxRecord:
    """The registry entry: what any process needs to serve the sandbox."""

    name: str
    created_at: str
    idle_ttl_s: float
    fixtures: dict[str, Any] = field(default_factory=dict)

    def to_value(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "created_at": self.created_at,
            "idle_ttl_s": self.idle_ttl_s,
            "fixtures": self.fixtures,
        }

    @classmethod
    def from_value(cls, value: dict[str, Any]) -> SandboxRecord:
        return cls(
            name=str(value["name"]),
            created_at=str(value["created_at"]),
            idle_ttl_s=float(value["idle_ttl_s"]),
            fixtures=dict(value.get("fixtures") or {}),
        )


class PrefixedStore:
    """One sandbox's view of the app's store: every namespace and sequence under a prefix."""

    def __init__(self, inner: Store, prefix: str) -> None:
        self.inner = inner
        self.prefix = prefix
        self.persistent = inner.persistent

    def _ns(self, namespace: str) -> str:
        return self.prefix + namespace

    def add(
        self,
        namespace: str,
        key: str,
        value: Value,
        *,
        now: datetime,
        expires_at: datetime | None = None,
    ) -> bool:
        return self.inner.add(self._ns(namespace), key, value, now=now, expires_at=expires_at)

    def put(
        self,
        namespace: str,
        key: str,
        value: Value,
        *,
        now: datetime,
        expires_at: datetime | None = None,
    ) -> None:
        self.inner.put(self._ns(namespace), key, value, now=now, expires_at=expires_at)

    def get(self, namespace: str, key: str, *, now: datetime) -> Value | None:
        return self.inner.get(self._ns(namespace), key, now=now)

    def record(self, namespace: str, key: str) -> Record | None:
        found = self.inner.record(self._ns(namespace), key)
        return None if found is None else replace(found, namespace=namespace)

    def take_once(self, namespace: str, key: str, *, now: datetime) -> Value | None:
        return self.inner.take_once(self._ns(namespace), key, now=now)

    def update(
        self,
        namespace: str,
        key: str,
        change: Updater,
        *,
        now: datetime,
        expires_at: datetime | None = None,
    ) -> Value | None:
        return self.inner.update(self._ns(namespace), key, change, now=now, expires_at=expires_at)

    def delete(self, namespace: str, key: str) -> bool:
        return self.inner.delete(self._ns(namespace), key)

    def records(self, namespace: str) -> list[Record]:
        return [replace(r, namespace=namespace) for r in self.inner.records(self._ns(namespace))]

    def next_sequence(self, name: str, count: int = 1) -> int:
        return self.inner.next_sequence(self._ns(name), count)

    def reset(self, prefix: str | None = None) -> None:
        self.inner.reset(self.prefix + (prefix or ""))

    def purge_expired(self, now: datetime, grace_s: float = PURGE_GRACE_S) -> int:
        return self.inner.purge_expired(now, grace_s)

    def close(self) -> None:
        """The app's store belongs to the default sandbox, which closes it."""


def _iso(value: datetime) -> str:
    return value.isoformat().replace("+00:00", "Z")


def check_name(name: Any) -> str:
    if not isinstance(name, str) or not NAME.match(name):
        raise SandboxError(
            400,
            "bad_sandbox_name",
            "a sandbox name is 1-40 lowercase letters, digits and inner hyphens",
        )
    return name


def _check_ttl(value: Any, default: float) -> float:
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int | float) or value != value:
        raise SandboxError(400, "bad_idle_ttl", "'idle_ttl_s' must be a number of seconds")
    if not 1 <= value <= MAX_IDLE_TTL_S:
        raise SandboxError(
            400, "bad_idle_ttl", f"'idle_ttl_s' must be between 1 and {int(MAX_IDLE_TTL_S)}"
        )
    return float(value)


def _check_fixtures(value: Any, providers: Iterable[str]) -> dict[str, Any]:
    if value is None:
        return {}
    known = set(providers)
    if not isinstance(value, dict) or not all(isinstance(v, dict) for v in value.values()):
        raise SandboxError(
            400, "bad_fixtures", "'fixtures' maps a provider name to its fixture object"
        )
    unknown = sorted(set(value) - known)
    if unknown:
        raise SandboxError(
            400, "bad_fixtures", f"'fixtures' names unknown provider(s): {', '.join(unknown)}"
        )
    return dict(value)


class Sandboxes:
    """The registry of one app's sandboxes and the `State` each process builds for them."""

    def __init__(self, root: State, build: Callable[[SandboxRecord], State]) -> None:
        self.root = root
        self._build = build
        self._lock = threading.Lock()
        self._states: dict[str, State] = {}
        self._touched: dict[str, float] = {}
        self.default_idle_ttl_s = float(
            root.config.option("sandbox_idle_ttl_s", DEFAULT_IDLE_TTL_S)
        )

    @property
    def _store(self) -> Store:
        return self.root.store

    def _deadline(self, ttl: float) -> datetime:
        return self.root.now() + timedelta(seconds=ttl)

    def create(self, spec: dict[str, Any]) -> tuple[SandboxRecord, State]:
        """Register a sandbox (named, or a generated name) and build its state."""
        unknown = sorted(set(spec) - {"name", "idle_ttl_s", "fixtures"})
        if unknown:
            raise SandboxError(400, "bad_sandbox", f"unknown field(s): {', '.join(unknown)}")
        ttl = _check_ttl(spec.get("idle_ttl_s"), self.default_idle_ttl_s)
        fixtures = _check_fixtures(spec.get("fixtures"), self.root.providers)
        name = check_name(spec["name"]) if spec.get("name") is not None else self._new_name()
        if name == "default":
            raise SandboxError(409, "sandbox_exists", "'default' is the unprefixed sandbox")
        now = self.root.now()
        if len(self._store.records(REGISTRY)) >= MAX_SANDBOXES:
            self.sweep()
            if len(self._live_records()) >= MAX_SANDBOXES:
                raise SandboxError(429, "too_many_sandboxes", f"at most {MAX_SANDBOXES} sandboxes")
        record = SandboxRecord(name, _iso(now), ttl, fixtures)
        # A name whose sandbox expired may be taken again: its old records go first.
        self._forget_expired(name)
        if not self._store.add(
            REGISTRY, name, record.to_value(), now=now, expires_at=self._deadline(ttl)
        ):
            raise SandboxError(409, "sandbox_exists", f"a sandbox named {name!r} exists")
        try:
            state = self._state_for(record)
        except FixtureError as error:
            self._drop(name)
            raise SandboxError(400, "bad_fixtures", str(error)) from None
        except Exception:
            self._drop(name)
            raise
        return record, state

    def _new_name(self) -> str:
        return f"sb-{self.root.token_hex(6)}"

    def _forget_expired(self, name: str) -> None:
        found = self._store.record(REGISTRY, name)
        if found is not None and found.expired(self.root.now()):
            self._drop(name)

    def _state_for(self, record: SandboxRecord) -> State:
        with self._lock:
            state = self._states.get(record.name)
            if state is None:
                state = self._build(record)
                self._states[record.name] = state
            return state

    def resolve(self, name: str) -> State:
        """The state of a live sandbox; refreshes its idle deadline. Unknown or expired: 404."""
        value = self._store.get(REGISTRY, name, now=self.root.now())
        if value is None:
            self._forget_expired(name)
            with self._lock:
                stale = self._states.pop(name, None)
            if stale is not None:
                stale.close()
            raise SandboxError(
                404,
                "unknown_sandbox",
                f"no sandbox named {name!r} (expired or never created); "
                "create it with POST /_mockbank/sandboxes",
            )
        record = SandboxRecord.from_value(value)
        self._touch(record)
        return self._state_for(record)

    def outboxes(self, names: list[str]) -> dict[str, Outbox]:
        """The outboxes of the live sandboxes among `names`, for the app's delivery worker.

        One registry read for them all; a sandbox is built here if this process has not served
        it yet, and never touched (delivering keeps no sandbox alive). An expired one is
        removed, so its deliveries stop.
        """
        now = self.root.now()
        registry = {r.key: r for r in self._store.records(REGISTRY)}
        answer: dict[str, Outbox] = {}
        for name in names:
            found = registry.get(name)
            if found is not None and found.expired(now):
                self._drop(name)
            elif found is not None:
                answer[name] = self._state_for(SandboxRecord.from_value(found.value)).outbox
        return answer

    def _touch(self, record: SandboxRecord) -> None:
        from mockbank.clock import monotonic

        # Throttled on the process's own clock: this only limits store writes, it decides no
        # expiry.
        now = monotonic()
        last = self._touched.get(record.name)
        if last is not None and now - last < TOUCH_EVERY_S:
            return
        self._touched[record.name] = now
        self._store.update(
            REGISTRY,
            record.name,
            lambda value: value,
            now=self.root.now(),
            expires_at=self._deadline(record.idle_ttl_s),
        )

    def _live_records(self) -> list[Record]:
        now = self.root.now()
        return [r for r in self._store.records(REGISTRY) if not r.expired(now)]

    def list(self) -> list[dict[str, Any]]:
        """Every live sandbox with its idle deadline."""
        self.sweep()
        answer = []
        for found in self._live_records():
            record = SandboxRecord.from_value(found.value)
            answer.append(
                {
                    **record.to_value(),
                    "expires_at": _iso(found.expires_at) if found.expires_at else None,
                }
            )
        return answer

    def delete(self, name: str) -> bool:
        check_name(name)
        if self._store.get(REGISTRY, name, now=self.root.now()) is None:
            return False
        self._drop(name)
        return True

    def _drop(self, name: str) -> None:
        self._store.delete(REGISTRY, name)
        self._store.reset(f"{PREFIX}{name}/")
        self.root.delivery.forget(name)
        with self._lock:
            state = self._states.pop(name, None)
        if state is not None:
            state.close()

    def sweep(self) -> int:
        """Remove expired sandboxes and their records; how many went."""
        now = self.root.now()
        expired = [r.key for r in self._store.records(REGISTRY) if r.expired(now)]
        for name in expired:
            self._drop(name)
        return len(expired)

    def close(self) -> None:
        with self._lock:
            states, self._states = list(self._states.values()), {}
        for state in states:
            state.close()


class SandboxDispatch:
    """WSGI middleware: ``/s/<name>/rest`` is ``/rest`` in sandbox `name`.

    The prefix moves into SCRIPT_NAME, so every URL Flask builds (``url_for``, redirects,
    form actions) stays inside the sandbox.
    """

    def __init__(self, app: Callable[..., Iterable[bytes]]) -> None:
        self.app = app

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        path: str = environ.get("PATH_INFO", "")
        if path.startswith("/s/"):
            name, slash, rest = path[3:].partition("/")
            if name:
                environ[ENVIRON_NAME] = name
                environ["SCRIPT_NAME"] = f"{environ.get('SCRIPT_NAME', '')}/s/{name}"
                environ["PATH_INFO"] = "/" + rest if slash else "/"
        return self.app(environ, start_response)


def sandbox_prefix(name: str) -> str:
    """The store prefix of a sandbox's records."""
    return f"{PREFIX}{name}/"
