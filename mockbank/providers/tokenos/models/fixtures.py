"""``fixtures/tokenos.json``: model banks, payers and their accounts, seeded members."""

from __future__ import annotations

import functools
import hashlib
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from mockbank.clients.tokenos import KEY_LEVELS, KeyPair, base58, generate_keys
from mockbank.fixtures import FixtureReader
from mockbank.providers.tokenos.models.common import AMOUNT, CURRENCY, FEATURES, MEMBER_REALM_SUFFIX


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


def _load_banks(reader: FixtureReader) -> dict[str, Bank]:
    banks: dict[str, Bank] = {}
    for where, _ in reader.items("banks"):
        bank_id = reader.get(f"{where}.id", str)
        if bank_id in banks:
            raise reader.fail(f"{where}.id", f"duplicate bank id {bank_id!r}")
        currency = reader.get(f"{where}.currency", str)
        if not CURRENCY.match(currency):
            raise reader.fail(f"{where}.currency", "must be a 3-letter ISO 4217 code")
        features = {
            camel: reader.get(f"{where}.{camel}", bool, default=False)
            for camel in FEATURES.values()
        }
        banks[bank_id] = Bank(
            id=bank_id,
            name=reader.get(f"{where}.name", str),
            country=reader.get(f"{where}.country", str),
            currency=currency,
            provider=reader.get(f"{where}.provider", str, default="Token"),
            identifier=reader.get(f"{where}.identifier", str, default=bank_id.upper()),
            features=features,
        )
    return banks


def _load_members(reader: FixtureReader) -> tuple[SeedMember, ...]:
    return tuple(
        SeedMember(
            name=reader.get(f"{where}.name", str),
            type=reader.get(f"{where}.type", str, default="BUSINESS"),
            alias=reader.get(f"{where}.alias", dict),
            profile=reader.get(f"{where}.profile", dict, default={}),
            key_seed=reader.get(f"{where}.keySeed", str),
        )
        for where, _ in reader.items("members")
    )


def _load_api_keys(reader: FixtureReader, members: tuple[SeedMember, ...]) -> dict[str, str]:
    api_keys: dict[str, str] = {}
    for where, _ in reader.items("apiKeys"):
        member = reader.get(f"{where}.member", str)
        if not any(m.name == member for m in members):
            raise reader.fail(f"{where}.member", f"no member named {member!r} in members")
        api_keys[reader.get(f"{where}.key", str)] = member
    return api_keys


def _load_account(
    reader: FixtureReader, where: str, banks: dict[str, Bank], account_ids: set[str]
) -> PayerAccount:
    account_id = reader.get(f"{where}.id", str)
    bank_id = reader.get(f"{where}.bank", str)
    if bank_id not in banks:
        raise reader.fail(f"{where}.bank", f"unknown bank {bank_id!r}")
    if account_id in account_ids:
        raise reader.fail(f"{where}.id", f"duplicate account id {account_id!r}")
    account_ids.add(account_id)
    balance = reader.get(f"{where}.balance", str)
    if not AMOUNT.match(balance):
        raise reader.fail(f"{where}.balance", "must be a decimal amount string")
    return PayerAccount(
        id=account_id,
        bank_id=bank_id,
        name=reader.get(f"{where}.name", str),
        number=reader.get(f"{where}.number", str),
        balance=Decimal(balance),
    )


def _load_payers(reader: FixtureReader, banks: dict[str, Bank]) -> tuple[Payer, ...]:
    payers = []
    account_ids: set[str] = set()  # unique across payers
    for where, _ in reader.items("payers"):
        accounts = tuple(
            _load_account(reader, account_where, banks, account_ids)
            for account_where, _ in reader.items(f"{where}.accounts")
        )
        payers.append(
            Payer(
                email=reader.get(f"{where}.email", str),
                name=reader.get(f"{where}.name", str),
                key_seed=reader.get(f"{where}.keySeed", str),
                accounts=accounts,
            )
        )
    return tuple(payers)


def load_fixtures(reader: FixtureReader) -> Fixtures:
    """Validate ``fixtures/tokenos.json``; every error names the file and the field."""
    alias = reader.get("tokenMember.alias", dict)
    token_seed = reader.get("tokenMember.keySeed", str)
    banks = _load_banks(reader)
    members = _load_members(reader)
    api_keys = _load_api_keys(reader, members)
    payers = _load_payers(reader, banks)
    count = reader.get("transactionsPerAccount", int, default=30)
    if not 0 <= count <= 1000:
        raise reader.fail("transactionsPerAccount", "must be between 0 and 1000")
    return Fixtures(
        token_alias=alias,
        token_key_seed=token_seed,
        api_keys=api_keys,
        members=members,
        banks=banks,
        payers=payers,
        transactions_per_account=count,
    )
