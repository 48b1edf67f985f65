"""QuickStream / QuickWeb (Westpac): secure token request, handoff, hosted payment page,
server-to-server notification, signed passback and QuickVault registration (seed 000), and the
QuickStream REST API with its Trusted Frame (``rest/``)."""

from __future__ import annotations

from mockbank.providers import Provider
from mockbank.providers.quickstream import admin, cli
from mockbank.providers.quickstream.errors import render
from mockbank.providers.quickstream.routes import bp
from mockbank.providers.quickstream.settings import read_settings

HOSTS = (
    "ws.qvalent.com",
    "ws.support.qvalent.com",
    "quickweb.westpac.com.au",
    "quickweb.support.qvalent.com",
    # The REST API and the Trusted Frame: /quickstream/rest/v1/...
    "api.quickstream.westpac.com.au",
    "api.quickstream.support.qvalent.com",
)

provider = Provider(
    name="quickstream",
    title="QuickStream / QuickWeb",
    blueprint=bp,
    render_error=render,
    read_settings=read_settings,
    hosts=HOSTS,
    load_fixtures=admin.load_fixtures,
    seed=admin.seed,
    state_view=admin.state_view,
    magic_values=admin.magic_values,
    credentials=admin.credentials,
    cli=cli.cli,
    outbound_endpoints=("notify",),
    dashboard=admin.dashboard,
)
