"""Forter: the tokenization API and the Detokenization Proxy (seed 003, DESIGN §2 and §3)."""

from __future__ import annotations

from mockbank.providers import Imported, Provider

HOSTS = ("pci-tokenization-sandbox.checkouttools.com", "pci.checkouttools.com")

provider = Provider(
    name="forter",
    title="Forter",
    hosts=HOSTS,
    services=Imported("mockbank.providers.forter.proxy:services"),
)
