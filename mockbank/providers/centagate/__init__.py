"""Centagate (SecureMetric CENTAGATE Cloud): QR-code transaction signing with a simulated app."""

from __future__ import annotations

from mockbank.providers import Provider

HOSTS = ("centagate.example",)

provider = Provider(
    name="centagate",
    title="Centagate",
    hosts=HOSTS,
)
