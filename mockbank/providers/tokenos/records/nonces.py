"""Signatures already used by state-changing calls (kept for the freshness window)."""

from __future__ import annotations

from dataclasses import dataclass

from mockbank.records import Record

NS_NONCE = "tokenos.nonce"


@dataclass(frozen=True)
class Nonce(Record):
    """A used ``member-id:signature`` (the key); its presence is all that is stored."""
