"""The provider registry: each provider package exports one `Provider` named ``provider``."""

from __future__ import annotations

import argparse
import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from flask import Blueprint, Response

from mockbank.errors import ProviderError
from mockbank.fixtures import FixtureReader

if TYPE_CHECKING:
    from flask import Flask

    from mockbank.config import Config
    from mockbank.state import State

NAMES = ("quickstream", "syspay", "centagate", "forter", "tokenos")


class Service(Protocol):
    """Something `mockbank serve` runs beside the app (the Forter proxy listener)."""

    url: str

    def start(self) -> None: ...

    def stop(self) -> None: ...


@dataclass(frozen=True)
class Provider:
    """How one emulated vendor plugs into the app, the CLI, the dashboard and the plugin."""

    name: str
    title: str
    blueprint: Blueprint
    render_error: Callable[[ProviderError], Response]
    # Read and check the ``<name>.*`` options once, at start (its ``settings.py``); the result
    # is ``State.settings[name]``. A bad or unknown option raises `SettingError` naming it.
    read_settings: Callable[[Mapping[str, Any]], object]
    # Real hostnames that the in-process mode routes into this blueprint.
    hosts: tuple[str, ...] = ()
    # Validate fixtures/<name>.json and return what the provider keeps in State.fixtures.
    load_fixtures: Callable[[FixtureReader], Any] = lambda reader: reader.data
    # Write seeded records into the store; runs at start and after every reset.
    seed: Callable[[State], None] | None = None
    # /_mockbank/state/<name>: tokens, accounts... masked.
    state_view: Callable[[State], dict[str, Any]] | None = None
    # /_mockbank/magic-values: the provider's test-value table as data.
    magic_values: Callable[[], Any] | None = None
    # Lines for the CLI banner, the README and the dashboard: (label, value).
    credentials: Callable[[Any], list[tuple[str, str]]] = lambda fixtures: []
    # Extra `mockbank` subcommands.
    cli: Callable[[Any], None] | None = None
    # Listeners started by `mockbank serve` beside the app.
    services: Callable[[Flask, Config], list[Service]] | None = None
    # Fault names for calls the provider makes outward (the outbox's `fault_endpoint`).
    outbound_endpoints: tuple[str, ...] = ()
    # Live items for the dashboard card: dicts with "label", and optionally "detail",
    # "image" (a data: URI, e.g. a QR code) and "href".
    dashboard: Callable[[State], list[dict[str, str]]] | None = None

    @property
    def prefix(self) -> str:
        return f"/{self.name}"


def load_providers() -> dict[str, Provider]:
    """Import every provider package, in the documented order."""
    found: dict[str, Provider] = {}
    for name in NAMES:
        module = importlib.import_module(f"mockbank.providers.{name}")
        provider: Provider = module.provider
        found[provider.name] = provider
    return found


def add_cli_commands(subparsers: argparse._SubParsersAction[Any]) -> None:
    """Let every provider add its own subcommands."""
    for provider in load_providers().values():
        if provider.cli is not None:
            provider.cli(subparsers)
