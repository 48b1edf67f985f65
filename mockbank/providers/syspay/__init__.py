"""SysPay: X-Wsse authentication, merchant card tokens, partner detokenization (seed 001)."""

from __future__ import annotations

from mockbank.providers import Provider
from mockbank.providers.syspay import admin, errors
from mockbank.providers.syspay.cli import cli
from mockbank.providers.syspay.routes import bp
from mockbank.providers.syspay.settings import read_settings

# SysPay's real hosts, routed here by the in-process mode.
HOSTS = ("app.syspay.com", "app-sandbox.syspay.com")

provider = Provider(
    name="syspay",
    title="SysPay",
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
