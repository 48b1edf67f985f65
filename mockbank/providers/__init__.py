"""The provider registry: each provider package exports one `Provider` named ``provider``.

A provider is known at start by what its package's ``__init__`` names (name, title, hosts,
fault names of its outbound calls) and nothing else is imported: its settings, views, models
and admin functions (its `Emulation`) are imported on its first use (a request under its prefix,
a control call naming it, a reset, options given for it). Integrators mostly test against one
provider; a start that imported all five paid for four they never call.
"""

from __future__ import annotations

import argparse
import importlib
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from mockbank.errors import ProviderError
from mockbank.fixtures import FixtureReader

if TYPE_CHECKING:
    from flask import Blueprint, Flask, Response

    from mockbank.config import Config
    from mockbank.state import State

NAMES = ("quickstream", "syspay", "centagate", "forter", "tokenos")
# One lock for every provider's first import: two threads first using providers whose
# modules import each other would otherwise each hold one module lock and wait for the other.
_LOADING = threading.RLock()


class Service(Protocol):
    """Something `mockbank serve` runs beside the app (the Forter proxy listener)."""

    url: str

    def start(self) -> None: ...

    def stop(self) -> None: ...


class Imported:
    """``module:function``, imported on the first call and called with the call's arguments."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._target: Callable[..., Any] | None = None

    @property
    def target(self) -> Callable[..., Any]:
        if self._target is None:
            module, _, name = self.path.partition(":")
            with _LOADING:
                found: Callable[..., Any] = getattr(importlib.import_module(module), name)
            self._target = found
        return self._target

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.target(*args, **kwargs)

    def __repr__(self) -> str:
        return f"Imported({self.path!r})"


@dataclass(frozen=True)
class Emulation:
    """What a provider does, imported on its first use: its views and what the control API,
    the dashboard and the banner ask of it (each provider's ``routes.emulation()``)."""

    blueprint: Blueprint
    render_error: Callable[[ProviderError], Response]
    # Validate fixtures/<name>.json and return what the provider keeps in State.fixtures.
    load_fixtures: Callable[[FixtureReader], Any] = lambda reader: reader.data
    # Write seeded records into the store; runs on first use and after every reset.
    seed: Callable[[State], None] | None = None
    # /_mockbank/state/<name>: tokens, accounts... masked.
    state_view: Callable[[State], dict[str, Any]] | None = None
    # /_mockbank/magic-values: the provider's test-value table as data.
    magic_values: Callable[[], Any] | None = None
    # Lines for the CLI banner, the README and the dashboard: (label, value).
    credentials: Callable[[Any], list[tuple[str, str]]] = lambda fixtures: []
    # Live items for the dashboard card: dicts with "label", and optionally "detail",
    # "image" (a data: URI, e.g. a QR code) and "href".
    dashboard: Callable[[State], list[dict[str, str]]] | None = None


@dataclass(frozen=True)
class Provider:
    """How one emulated vendor plugs into the app, the CLI, the dashboard and the plugin.

    A provider package names only this; the rest is found in its package by the provider
    shape (docs/architecture.md) and imported when first needed: `emulation` from its
    ``routes.bp``, ``errors.render`` and ``admin``'s functions; `settings` from
    ``settings.read_settings``; `add_cli` from ``cli.cli``. The last three fields replace those
    for a provider that is not a package of its own (a test's).
    """

    name: str
    title: str
    # Real hostnames that the in-process mode routes into this blueprint.
    hosts: tuple[str, ...] = ()
    # Listeners started by `mockbank serve` beside the app.
    services: Callable[[Flask, Config], list[Service]] | None = None
    # Fault names for calls the provider makes outward (the outbox's `fault_endpoint`).
    outbound_endpoints: tuple[str, ...] = ()
    load: Callable[[], Emulation] | None = None
    read_settings: Callable[[Mapping[str, Any]], object] | None = None
    cli: Callable[[Any], None] | None = None
    _loaded: list[Emulation] = field(default_factory=list, init=False, repr=False, compare=False)

    @property
    def prefix(self) -> str:
        return f"/{self.name}"

    @property
    def package(self) -> str:
        return f"mockbank.providers.{self.name}"

    @property
    def loaded(self) -> bool:
        """Whether its `Emulation` is imported in this process."""
        return bool(self._loaded)

    @property
    def emulation(self) -> Emulation:
        """Its views and admin functions, imported the first time they are asked for."""
        if not self._loaded:
            with _LOADING:
                if not self._loaded:
                    self._loaded.append(self.load() if self.load else _emulation_of(self))
        return self._loaded[0]

    def settings(self, options: Mapping[str, Any]) -> object:
        """Its checked ``<name>.*`` options; `SettingError` names a bad or unknown one."""
        read = self.read_settings or Imported(f"{self.package}.settings:read_settings")
        return read(options)

    def add_cli(self, subparsers: argparse._SubParsersAction[Any]) -> None:
        """Its ``mockbank <name> ...`` subcommands."""
        (self.cli or Imported(f"{self.package}.cli:cli"))(subparsers)


def _emulation_of(provider: Provider) -> Emulation:
    """A provider package's `Emulation`, by the provider shape."""
    package = provider.package
    admin = importlib.import_module(f"{package}.admin")
    return Emulation(
        blueprint=importlib.import_module(f"{package}.routes").bp,
        render_error=importlib.import_module(f"{package}.errors").render,
        load_fixtures=admin.load_fixtures,
        seed=admin.seed,
        state_view=admin.state_view,
        magic_values=admin.magic_values,
        credentials=admin.credentials,
        dashboard=admin.dashboard,
    )


_REGISTRY: dict[str, Provider] = {}


def load_providers() -> dict[str, Provider]:
    """Every provider's `Provider` (its package's ``__init__`` only), in the documented order."""
    if len(_REGISTRY) < len(NAMES):
        with _LOADING:
            for name in NAMES:
                if name not in _REGISTRY:
                    module = importlib.import_module(f"mockbank.providers.{name}")
                    _REGISTRY[name] = module.provider
    return dict(_REGISTRY)


def add_cli_commands(subparsers: argparse._SubParsersAction[Any]) -> None:
    """Let every provider add its own subcommands."""
    for provider in load_providers().values():
        provider.add_cli(subparsers)
