"""The forward-proxy front door (DESIGN §3): `ForterProxy` and its local CA (`LocalCA`)."""

from __future__ import annotations

from mockbank.proxy.ca import LocalCA, ca_for_app
from mockbank.proxy.server import ForterProxy, ProxyContext

__all__ = ["ForterProxy", "LocalCA", "ProxyContext", "ca_for_app"]
