"""Everything mutable for one app, reachable from a request via `current_state()`."""

from __future__ import annotations

import hashlib
import random
import re
import threading
import uuid
from base64 import urlsafe_b64encode
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from flask import current_app
from flask.globals import _cv_request

from mockbank.clock import Clock, StoreClockBacking, parse_instant
from mockbank.config import Config
from mockbank.delivery import DEFAULT_KEY, Delivery
from mockbank.faults import Fault, Faults
from mockbank.fixtures import (
    FixtureReader,
    ProviderFixtures,
    default_dir,
    load_json,
    shipped_keys,
)
from mockbank.journal import Entry, Journal
from mockbank.journal_store import StoreJournal
from mockbank.outbound import OutboundPolicy
from mockbank.outbox import Message, Outbox
from mockbank.proxy.resources import ProxyResources
from mockbank.settings import ProviderSettings
from mockbank.store import MemoryStore, SQLiteStore, Store

if TYPE_CHECKING:
    from faker import Faker

    from mockbank.providers import Provider
    from mockbank.sandboxes import SandboxRecord

# Sequences in the store that ids are made from (see `State.token_bytes`).
ID_SEQUENCE = "mockbank.ids"
REQUEST_ID_SEQUENCE = "mockbank.request-ids"
# Request ids are reserved from the store this many at a time: one store round trip per
# block, not per request. Blocks never overlap, so ids stay unique across processes.
REQUEST_ID_BLOCK = 64
# The environ key holding the request's resolved State (`mockbank.sandboxes.ENVIRON_STATE`).
_ENVIRON_STATE = "mockbank.state"
# 13 digits in a row read as a card number to the journal's masking and to leak scans.
_CARD_LIKE = re.compile(r"[0-9]{13}")


class UnknownProvider(LookupError):
    def __init__(self, name: str, known: list[str]) -> None:
        super().__init__(f"unknown provider {name!r}; known: {', '.join(known)}")


class State:
    """Clock, store, journal, faults and outbox of one app; nothing here is module-global."""

    def __init__(
        self,
        config: Config | None = None,
        providers: dict[str, Provider] | None = None,
        *,
        store: Store | None = None,
        sandbox: str | None = None,
        fixture_overrides: dict[str, Any] | None = None,
        endpoints: dict[str, set[str]] | None = None,
        outbound: OutboundPolicy | None = None,
        settings: ProviderSettings | None = None,
        proxy: ProxyResources | None = None,
        on_ready: list[Callable[[str], None]] | None = None,
        delivery: Delivery | None = None,
    ) -> None:
        from mockbank.providers import load_providers
        from mockbank.sandboxes import Sandboxes

        self.config = config or Config()
        self.providers = providers if providers is not None else load_providers()
        # Each provider's checked options (its settings.py): a bad one stops the app here.
        self.settings = settings or ProviderSettings(self.config.options, self.providers)
        # None for the default (unprefixed) sandbox; a named sandbox's state shares the app's
        # store under a prefix of its own (`mockbank.sandboxes`).
        self.sandbox = sandbox
        self.fixture_overrides = dict(fixture_overrides or {})
        self.store: Store = store if store is not None else self._open_store()
        # With a persistent store, processes sharing it share the clock and the fault rules.
        self.clock = Clock(backing=StoreClockBacking(self.store) if self.store.persistent else None)
        self.journal = self._open_journal()
        self.random = random.Random(self.config.seed)
        self._faker: Faker | None = None
        self._faker_lock = threading.Lock()
        self.faults = Faults(self.random, set(self.providers), store=self.store)
        # Where outbound calls may go is the server's setting, shared by every sandbox.
        self.outbound = outbound or OutboundPolicy(
            dict(self.config.upstreams), self.config.allow_outbound
        )
        # The proxy's CA and upstream pool (made on first use), shared by every sandbox and
        # closed by the state that made them.
        self._owns_proxy = proxy is None
        self.proxy = proxy or ProxyResources(lambda: self.config.state_dir / "ca")
        self.outbox = self._open_outbox(delivery)
        # Fault names: views add theirs when the app is built; outbound calls are named here.
        self.endpoints: dict[str, set[str]] = (
            endpoints
            if endpoints is not None
            else {name: set(p.outbound_endpoints) for name, p in self.providers.items()}
        )
        self.server_errors: list[BaseException] = []
        self._errors_lock = threading.Lock()
        self._request_ids = (0, 0)  # the next request number and the end of its block
        self._request_ids_lock = threading.Lock()
        self.fixtures = ProviderFixtures(self.provider)
        # The apps serving this state add a provider's views when it is first made ready
        # (shared with sandboxes: the same apps serve them).
        self.on_ready: list[Callable[[str], None]] = on_ready if on_ready is not None else []
        self.sandboxes = Sandboxes(self, self._build_sandbox)
        self._start_providers()
        self._start_delivery()

    def _open_outbox(self, delivery: Delivery | None) -> Outbox:
        """This state's outbox, served by the app's one delivery worker: made here for the
        default sandbox, shared by every named one, closed by the state that made it."""
        self._owns_delivery = delivery is None
        self.delivery = delivery or Delivery(self.store)
        return Outbox(
            self.clock,
            self.outbound,
            self.faults,
            store=self.store,
            instance=self.config.instance,
            delivery=self.delivery,
            key=self.sandbox or DEFAULT_KEY,
        )

    def _start_delivery(self) -> None:
        """The worker finds named sandboxes' outboxes through this state's registry."""
        if self._owns_delivery:
            self.delivery.sandboxes = self.sandboxes.outboxes
            self.delivery.start()

    def _start_providers(self) -> None:
        """Providers are made ready on first use (`provider`), those `_needed_at_start` now."""
        self._ready: set[str] = set()
        self._readying: set[str] = set()
        self._ready_lock = threading.RLock()
        for name in self._needed_at_start():
            self._make_ready(name, reload=True)

    def _needed_at_start(self) -> list[str]:
        """Providers whose fixtures are the user's: checked at start, so a mistake stops it."""
        if self.config.fixtures_dir is not None:
            return list(self.providers)
        return [name for name in self.providers if name in self.fixture_overrides]

    def _open_journal(self) -> Journal:
        """In the store when the store is shared by processes, else in memory."""
        if self.store.persistent:
            return StoreJournal(self.store, self.config.journal_capacity, self.config.instance)
        return Journal(self.config.journal_capacity, self.config.journal_max_bytes)

    def _open_store(self) -> Store:
        if self.config.store_url:
            from mockbank.store_postgresql import PostgreSQLStore

            return PostgreSQLStore(self.config.store_url)
        if self.config.state_path:
            return SQLiteStore(self.config.state_path / "mockbank.sqlite3")
        return MemoryStore()

    def _build_sandbox(self, record: SandboxRecord) -> State:
        from mockbank.sandboxes import PrefixedStore, sandbox_prefix

        return State(
            self.config,
            self.providers,
            store=PrefixedStore(self.store, sandbox_prefix(record.name)),
            sandbox=record.name,
            fixture_overrides=record.fixtures,
            endpoints=self.endpoints,
            outbound=self.outbound,
            settings=self.settings,
            proxy=self.proxy,
            on_ready=self.on_ready,
            delivery=self.delivery,
        )

    # -- providers, fixtures and reset ------------------------------------------------------
    def provider(self, name: str) -> Provider:
        """Provider `name`, ready in this state: imported, its views added to the apps serving
        this state, its fixtures read and checked, its records seeded (on its first use)."""
        provider = self.providers.get(name)
        if provider is None:
            raise UnknownProvider(name, list(self.providers))
        if name not in self._ready:
            self._make_ready(name)
        return provider

    def is_ready(self, name: str) -> bool:
        return name in self._ready

    def ready_providers(self) -> list[Provider]:
        """Every provider, each made ready (the dashboard, the banner, a whole reset)."""
        return [self.provider(name) for name in self.providers]

    def _make_ready(self, name: str, *, reload: bool = False) -> None:
        """Read `name`'s fixtures and seed it (again, with `reload`); other threads wait for
        it, and the thread doing it may read its fixtures meanwhile (the seed does)."""
        with self._ready_lock:  # an RLock: the seed's own reads come back here
            if name in self._readying or (name in self._ready and not reload):
                return
            self._readying.add(name)
            try:
                provider = self.providers[name]
                for add_views in self.on_ready:
                    add_views(name)
                self._load_fixtures(name, provider)
                if provider.emulation.seed is not None:
                    provider.emulation.seed(self)
                self._ready.add(name)
            finally:
                self._readying.discard(name)

    def _load_fixtures(self, name: str, provider: Provider) -> None:
        """Read and validate a provider's fixture file (errors name file and field)."""
        if name in self.fixture_overrides:
            path = Path(f"sandbox {self.sandbox} fixtures/{name}.json")
            data = self.fixture_overrides[name]
        else:
            path, data = load_json(self.config.fixtures_dir or default_dir(), name)
        reader = FixtureReader(path, data)
        self.fixtures.put(name, provider.emulation.load_fixtures(reader))
        reader.check_unknown_keys(shipped_keys(name))

    def reset(self, provider: str | None = None) -> None:
        """Forget everything (or one provider's records, faults, journal and outbox) and reseed.

        A whole reset seeds every provider again, used here or not: another process sharing
        the store may use any of them and finds its seeded records where they were.
        """
        if provider is not None:
            self.provider(provider)
            self.store.reset(f"{provider}.")
            self.faults.clear(provider)
            self.journal.clear(provider)
            self.outbox.clear(provider)
        else:
            # Everything of this sandbox's own; other sandboxes' records stay (they live under
            # the `sandbox:` prefix in the default sandbox's store).
            self.store.reset("mockbank.")
            with self._request_ids_lock:
                self._request_ids = (0, 0)
            for name in self.providers:
                self.store.reset(f"{name}.")
            self.faults.clear()
            self.journal.clear()
            self.outbox.clear()
            self.clock.resume()
            self.random.seed(self.config.seed)
            self._faker = None
            with self._errors_lock:
                self.server_errors.clear()
        for name in self.providers if provider is None else (provider,):
            self._make_ready(name, reload=True)

    def close(self) -> None:
        if self._owns_delivery:  # first, so no sandbox is built or served while they close
            self.delivery.close()
        self.sandboxes.close()
        self.outbox.close()
        if self._owns_proxy:
            self.proxy.close()
        self.store.close()

    @property
    def faker(self) -> Faker:
        """A Faker seeded with ``--seed``, created on first use (importing it is slow)."""
        if self._faker is None:
            from faker import Faker

            faker = Faker()
            faker.seed_instance(self.config.seed)
            self._faker = faker
        return self._faker

    @contextmanager
    def seeded_faker(self, seed: str) -> Iterator[Faker]:
        """The Faker, seeded with ``--seed`` and `seed`, for one caller at a time.

        Data made this way depends only on the seeds, not on the order requests arrive in.
        """
        with self._faker_lock:
            faker = self.faker
            faker.seed_instance(f"{self.config.seed}:{seed}")
            yield faker

    # -- time and ids ----------------------------------------------------------------------
    def now(self) -> datetime:
        return self.clock.now()

    def _sequence_bytes(self, sequence: str, size: int, number: int | None = None) -> bytes:
        # The next number of a store sequence, hashed with the seed: a fresh store gives the
        # same ids for the same seed and requests, and a store that already holds records
        # (after a restart, or shared by several processes) continues where it stood.
        if number is None:
            number = self.store.next_sequence(sequence)
        material = f"mockbank-id\0{self.config.seed}\0{sequence}\0{number}".encode()
        return hashlib.shake_256(material).digest(size)

    def token_bytes(self, size: int) -> bytes:
        """Id bytes: deterministic per seed in a fresh store, never repeated within a store."""
        return self._sequence_bytes(ID_SEQUENCE, size)

    def request_id(self) -> str:
        """A correlation id for one request (its own sequence, so record ids do not shift)."""
        return self._hex(REQUEST_ID_SEQUENCE, 8, self._request_number)

    def _request_number(self) -> int:
        """The next request number, from a block reserved in the store (same numbers, in
        order, as one reservation per request would give a single process)."""
        with self._request_ids_lock:
            if self._request_ids[0] >= self._request_ids[1]:
                first = self.store.next_sequence(REQUEST_ID_SEQUENCE, REQUEST_ID_BLOCK)
                self._request_ids = (first, first + REQUEST_ID_BLOCK)
            number, end = self._request_ids
            self._request_ids = (number + 1, end)
            return number

    def token_hex(self, size: int = 16) -> str:
        return self._hex(ID_SEQUENCE, size)

    def _hex(self, sequence: str, size: int, numbers: Callable[[], int] | None = None) -> str:
        # An id that looks like a card number would be masked in the journal: skip it.
        while True:
            number = numbers() if numbers is not None else None
            text = self._sequence_bytes(sequence, size, number).hex()
            if not _CARD_LIKE.search(text):
                return text

    def token_urlsafe(self, size: int = 32) -> str:
        return urlsafe_b64encode(self.token_bytes(size)).rstrip(b"=").decode()

    def new_uuid(self) -> str:
        return str(uuid.UUID(bytes=self.token_bytes(16), version=4))

    # -- what the control API mirrors ------------------------------------------------------
    def clock_snapshot(self) -> dict[str, Any]:
        return self.clock.snapshot()

    def set_clock(self, change: dict[str, Any]) -> dict[str, Any]:
        """Apply a control API clock change: advance, freeze (true or an instant), resume.

        Everything is checked before the clock moves, so a refused change changes nothing.
        """
        if not isinstance(change, dict) or not change:
            raise ValueError(
                'send one of {"advance": seconds}, {"freeze": true|ISO-8601}, {"resume": true}'
            )
        unknown = set(change) - {"advance", "freeze", "resume"}
        if unknown:
            raise ValueError(f"unknown clock field(s): {', '.join(sorted(unknown))}")
        advance, freeze, resume = change.get("advance"), change.get("freeze"), change.get("resume")
        if advance is not None and (
            isinstance(advance, bool) or not isinstance(advance, int | float)
        ):
            raise ValueError("'advance' must be a number of seconds")
        if freeze is not None and not isinstance(freeze, bool | str | int | float):
            raise ValueError("'freeze' must be true or an ISO-8601 time")
        if resume not in (None, True):
            raise ValueError("'resume' must be true")
        if resume and (freeze or advance):
            raise ValueError("'resume' cannot be combined with 'freeze' or 'advance'")
        try:
            seconds = float(advance) if advance else None
        except OverflowError:
            raise ValueError("'advance' is too large") from None
        target: bool | datetime | None = freeze if isinstance(freeze, bool) else None
        if freeze is not None and not isinstance(freeze, bool):
            try:
                target = parse_instant(freeze)
            except (ValueError, OverflowError) as error:
                raise ValueError(f"'freeze' must be true or an ISO-8601 time: {error}") from None
        self.clock.apply(
            resume=bool(resume) or target is False,
            freeze=target or None,
            advance=seconds,
        )
        return self.clock.snapshot()

    def requests(self, **filters: Any) -> list[Entry]:
        return self.journal.entries(**filters)

    def clear_requests(self, provider: str | None = None) -> None:
        self.journal.clear(provider)

    def provider_state(self, name: str) -> dict[str, Any]:
        view = self.provider(name).emulation.state_view
        return view(self) if view else {}

    def add_fault(self, spec: dict[str, Any]) -> Fault:
        named = spec.get("provider") if isinstance(spec, dict) else None
        if isinstance(named, str) and named in self.providers:
            self.provider(named)  # its endpoint names are known once its views are added
        return self.faults.add(spec, self.endpoints)

    def outbox_messages(self, provider: str | None = None) -> list[Message]:
        return self.outbox.messages(provider)

    def magic_values(self) -> dict[str, Any]:
        tables = {p.name: p.emulation.magic_values for p in self.ready_providers()}
        return {name: table() for name, table in tables.items() if table}

    # -- server errors, re-raised in tests by the pytest plugin ----------------------------
    def record_server_error(self, error: BaseException) -> None:
        with self._errors_lock:
            self.server_errors.append(error)

    def take_server_errors(self) -> list[BaseException]:
        with self._errors_lock:
            errors, self.server_errors = self.server_errors, []
        return errors


def current_state() -> State:
    """The `State` serving the current request: its sandbox's, or the app's default one.

    Raises `SandboxError` (404) for a request under ``/s/<name>/`` whose sandbox does not exist.
    """
    # Flask's context variable itself, not the `request` proxy: this runs several times in
    # every request.
    ctx = _cv_request.get(None)
    if ctx is None:
        root: State = current_app.extensions["mockbank"]
        return root
    environ = ctx.request.environ
    state: State | None = environ.get(_ENVIRON_STATE)
    if state is None:
        from mockbank.sandboxes import ENVIRON_NAME

        root = ctx.app.extensions["mockbank"]
        name = environ.get(ENVIRON_NAME)
        state = root if name is None else root.sandboxes.resolve(name)
        environ[_ENVIRON_STATE] = state
    return state
