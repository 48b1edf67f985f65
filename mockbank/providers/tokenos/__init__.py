"""Token.io TokenOS: members, token requests, consent pages, smart tokens, transfers, AIS.

Wire-compatible with the JavaScript SDK ``@token-io/tpp@1.0.57`` pointed at
``customSdkUrl: "http://127.0.0.1:8787/tokenos"``; see ``docs/providers/tokenos.md``.
"""

from __future__ import annotations

from mockbank.providers import Provider
from mockbank.providers.tokenos import admin, cli, events
from mockbank.providers.tokenos.errors import render
from mockbank.providers.tokenos.routes import bp
from mockbank.providers.tokenos.settings import read_settings

HOSTS = (
    "api.token.io",
    "api.sandbox.token.io",
    "web-app.token.io",
    "web-app.sandbox.token.io",
    "app.token.io",  # Hosted Pages v2: https://app.token.io/session/<paymentId>
    "app.sandbox.token.io",
)

provider = Provider(
    name="tokenos",
    title="Token.io TokenOS",
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
    dashboard=admin.dashboard,
    outbound_endpoints=(events.FAULT_ENDPOINT,),
)
