"""Centagate (SecureMetric CENTAGATE Cloud): QR-code transaction signing with a simulated app."""

from __future__ import annotations

from mockbank.providers import Provider
from mockbank.providers.centagate import admin, errors
from mockbank.providers.centagate.cli import cli
from mockbank.providers.centagate.routes import bp
from mockbank.providers.centagate.settings import read_settings

HOSTS = ("centagate.example",)

provider = Provider(
    name="centagate",
    title="Centagate",
    blueprint=bp,
    render_error=errors.render,
    read_settings=read_settings,
    hosts=HOSTS,
    load_fixtures=admin.load_fixtures,
    seed=admin.seed,
    state_view=admin.state_view,
    magic_values=admin.magic_values,
    credentials=admin.credentials,
    cli=cli,
    dashboard=admin.dashboard,
)
