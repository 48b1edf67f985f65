"""QuickStream / QuickWeb (Westpac): secure token request, handoff, hosted payment page,
server-to-server notification, signed passback and QuickVault registration (seed 000), and the
QuickStream REST API with its Trusted Frame (``rest/``)."""

from __future__ import annotations

from mockbank.providers import Provider

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
    hosts=HOSTS,
    outbound_endpoints=("notify",),
)
