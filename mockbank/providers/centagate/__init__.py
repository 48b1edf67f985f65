"""Centagate (SecureMetric CENTAGATE Cloud): QR-code transaction signing with a simulated app."""

from __future__ import annotations

from mockbank.providers import Provider
from mockbank.providers.centagate import admin, cli, errors, routes, settings

HOSTS = ("centagate.example",)

provider = Provider(
    name="centagate",
    title="Centagate",
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
    dashboard=admin.dashboard,
)
