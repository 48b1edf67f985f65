"""Token.io TokenOS: members, token requests, consent pages, smart tokens, transfers, AIS.

Wire-compatible with the JavaScript SDK ``@token-io/tpp@1.0.57`` pointed at
``customSdkUrl: "http://127.0.0.1:8787/tokenos"``; see ``docs/providers/tokenos.md``.
"""

from __future__ import annotations

from mockbank.providers import Provider

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
    hosts=HOSTS,
    outbound_endpoints=("webhook",),
)
