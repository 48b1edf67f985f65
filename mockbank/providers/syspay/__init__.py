"""SysPay: X-Wsse authentication, merchant card tokens, partner detokenization (seed 001)."""

from __future__ import annotations

from mockbank.providers import Provider

# SysPay's real hosts, routed here by the in-process mode.
HOSTS = ("app.syspay.com", "app-sandbox.syspay.com")

provider = Provider(
    name="syspay",
    title="SysPay",
    hosts=HOSTS,
)
