"""``fixtures/tokenos.json``: model banks, payers and their accounts, seeded members."""

from __future__ import annotations

import functools
import hashlib
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from mockbank.clients.tokenos import KEY_LEVELS, KeyPair, base58, generate_keys
from mockbank.providers.tokenos.models.common import FEATURES, MEMBER_REALM_SUFFIX


@dataclass(frozen=True)
class Bank:
    """A model bank from the fixtures."""

    id: str
    name: str
    country: str
    currency: str
    provider: str
    identifier: str
    features: dict[str, bool]

    def to_proto(self) -> dict[str, Any]:
        """The `Bank` message of ``GET /banks``."""
        rail = "FASTER_PAYMENTS" if self.country == "GB" else "SEPA"
        bank: dict[str, Any] = {
            "id": self.id,
            "name": self.name,
            "logoUri": f"https://mockbank.invalid/tokenos/banks/{self.id}.png",
            "fullLogoUri": f"https://mockbank.invalid/tokenos/banks/{self.id}-full.png",
            "provider": self.provider,
            "country": self.country,
            "identifier": self.identifier,
            "supportedTransferDestinationTypes": [rail],
        }
        for camel in FEATURES.values():
            bank[camel] = self.features.get(camel, False)
        return bank


@dataclass(frozen=True)
class PayerAccount:
    """One of a seeded payer's bank accounts."""

    id: str
    bank_id: str
    name: str
    number: str
    balance: Decimal


@dataclass(frozen=True)
class Payer:
    """A seeded end user who consents on the web app."""

    email: str
    name: str
    key_seed: str
    accounts: tuple[PayerAccount, ...]

    @property
    def member_id(self) -> str:
        """The seeded member id derived from the key seed."""
        return seeded_member_id(self.key_seed)


@dataclass(frozen=True)
class SeedMember:
    """A seeded business member (the API key's member)."""

    name: str
    type: str
    alias: dict[str, str]
    profile: dict[str, str]
    key_seed: str

    @property
    def member_id(self) -> str:
        """The seeded member id derived from the key seed."""
        return seeded_member_id(self.key_seed)


@dataclass(frozen=True)
class Fixtures:
    """Everything ``fixtures/tokenos.json`` defines, validated."""

    token_alias: dict[str, str]
    token_key_seed: str
    api_keys: dict[str, str]
    members: tuple[SeedMember, ...]
    banks: dict[str, Bank]
    payers: tuple[Payer, ...]
    transactions_per_account: int
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def token_member_id(self) -> str:
        """The id of the member whose key signs callbacks."""
        return seeded_member_id(self.token_key_seed)

    def payer_by_email(self, email: str) -> Payer | None:
        """The seeded payer with this email (case-insensitive), if any."""
        wanted = email.strip().lower()
        return next((p for p in self.payers if p.email.lower() == wanted), None)

    def payer_by_id(self, member_id: str) -> Payer | None:
        """The seeded payer with this member id, if any."""
        return next((p for p in self.payers if p.member_id == member_id), None)

    def payer_account(self, account_id: str) -> PayerAccount | None:
        """The seeded payer account with this id, if any."""
        return next((a for p in self.payers for a in p.accounts if a.id == account_id), None)

    def member_by_name(self, name: str) -> SeedMember | None:
        """The seeded member with this fixture name, if any."""
        return next((m for m in self.members if m.name == name), None)


# Derived, not random: seeded members keep their ids across restarts and resets.
def seeded_member_id(seed: str) -> str:
    """Seeded members get stable ids from their key seed."""
    return "m:" + base58(hashlib.sha256(seed.encode()).digest()[:20]) + MEMBER_REALM_SUFFIX


# Sandbox keys, deterministic so the fixture file is all a reader needs; never secrets.
def seeded_keys(seed: str) -> list[KeyPair]:
    """Deterministic PRIVILEGED, STANDARD and LOW keys for a seeded member."""
    return [
        generate_keys(level, hashlib.sha256(f"{seed}:{level}".encode()).digest())
        for level in KEY_LEVELS
    ]


@functools.lru_cache(maxsize=32)
def privileged_key(seed: str) -> KeyPair:
    """The PRIVILEGED key of a seeded member (the Token member, payers)."""
    return generate_keys("PRIVILEGED", hashlib.sha256(f"{seed}:PRIVILEGED".encode()).digest())
