"""Forter: the tokenization API and the Detokenization Proxy (seed 003, DESIGN §2 and §3)."""

from __future__ import annotations

from mockbank.providers import Provider
from mockbank.providers.forter import admin, cli, errors, proxy, routes, settings

HOSTS = ("pci-tokenization-sandbox.checkouttools.com", "pci.checkouttools.com")

provider = Provider(
    name="forter",
    title="Forter",
    blueprint=routes.bp,
    render_error=errors.render,
    read_settings=settings.read_settings,
    hosts=HOSTS,
    load_fixtures=admin.load_fixtures,
    seed=admin.seed,
    state_view=admin.state_view,
    magic_values=admin.magic_values,
    credentials=admin.credentials,
    cli=cli.cli,
    services=proxy.services,
    dashboard=admin.dashboard,
)
