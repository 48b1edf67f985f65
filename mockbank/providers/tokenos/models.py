"""TokenOS rules: members, aliases, banks, token requests, smart tokens, transfers, accounts.

Functions take the store, what they need, and ``now`` (the app clock); no Flask here.
Records live under ``tokenos.*`` namespaces so a per-provider reset clears them.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Any, TypeGuard
from urllib.parse import quote, urlsplit

from mockbank.fixtures import FixtureReader
from mockbank.providers.tokenos.errors import (
    Aborted,
    AlreadyExists,
    FailedPrecondition,
    InvalidArgument,
    NotFound,
    PermissionDenied,
    Unauthenticated,
    Unimplemented,
)
from mockbank.store import Store
from mockbank.tokenos import (
    KEY_LEVELS,
    KeyPair,
    RawNumber,
    base58,
    base64url_decode,
    canonical_json,
    encode_uri_component,
    generate_keys,
    hash_alias,
    key_id,
    verify,
    verify_json,
)

NS_MEMBER = "tokenos.member"
NS_ALIAS = "tokenos.alias"
NS_REQUEST = "tokenos.request"
NS_RESULT = "tokenos.request_result"
NS_TOKEN = "tokenos.token"
NS_TRANSFER = "tokenos.transfer"
NS_TRANSFER_REF = "tokenos.transfer_ref"
NS_ACCOUNT = "tokenos.account"
NS_HISTORY = "tokenos.history"
NS_BALANCE = "tokenos.balance_cache"
NS_NONCE = "tokenos.nonce"

REQUEST_TTL_S = 15 * 60  # seed: "A TokenRequest expires in a short period of time"
TRANSFER_SETTLE_S = 5
TRANSFER_TOKEN_TTL_S = 24 * 3600
ACCESS_TOKEN_TTL_S = 90 * 24 * 3600
BALANCE_CACHE_S = 3600
REF_ID_MAX = 18  # seed: "this value cannot exceed 18 characters in length"
MEMBER_REALM_SUFFIX = ":5zKtXEAq"  # the suffix Token.io's sandbox ids carry (seed examples)
TOKEN_SUFFIX = ":5zKxyCKM"
ALIAS_TYPES = ("EMAIL", "PHONE", "DOMAIN", "BANK", "CUSTOM", "EIDAS", "USERNAME")
MEMBER_TYPES = ("PERSONAL", "BUSINESS", "TRANSIENT")
ACCESS_TYPES = (
    "ACCOUNTS",
    "BALANCES",
    "TRANSACTIONS",
    "TRANSFER_DESTINATIONS",
    "FUNDS_CONFIRMATIONS",
    "STANDING_ORDERS",
)
ACCOUNT_RESOURCE_TYPES = {
    "ACCOUNT_INFO": "account",
    "ACCOUNT_BALANCE": "balance",
    "ACCOUNT_TRANSACTIONS": "transactions",
    "ACCOUNT_TRANSFER_DESTINATIONS": "transferDestinations",
    "ACCOUNT_FUNDS_CONFIRMATION": "fundsConfirmation",
}
_TYPE_RESOURCE = {
    "ACCOUNTS": "account",
    "BALANCES": "balance",
    "TRANSACTIONS": "transactions",
    "TRANSFER_DESTINATIONS": "transferDestinations",
    "FUNDS_CONFIRMATIONS": "fundsConfirmation",
    "STANDING_ORDERS": "standingOrders",
}
_ALL_RESOURCE = {
    "account": "allAccounts",
    "balance": "allBalances",
    "transactions": "allTransactions",
}
CURRENCY = re.compile(r"^[A-Z]{3}$")
AMOUNT = re.compile(r"^\d{1,13}(\.\d{1,4})?$")  # the SDK allows 4 decimals (decimalPrecision)
FEATURES = {
    "supports_information": "supportsInformation",
    "supports_send_payment": "supportsSendPayment",
    "supports_receive_payment": "supportsReceivePayment",
    "supports_appless": "supportsAppless",
    "requires_external_auth": "requiresExternalAuth",
    "supports_linking_uri": "supportsLinkingUri",
    "supports_standing_order": "supportsStandingOrder",
    "supports_scheduled_payment": "supportsScheduledPayment",
    "supports_bulk_transfer": "supportsBulkTransfer",
    "supports_funds_confirmation": "supportsFundsConfirmation",
}


class TransactionStatus(StrEnum):
    """Where a transfer stands (Token.io's TransactionStatus names)."""

    PROCESSING = "PROCESSING"
    SUCCESS = "SUCCESS"
    FAILURE_DECLINED = "FAILURE_DECLINED"
    FAILURE_INSUFFICIENT_FUNDS = "FAILURE_INSUFFICIENT_FUNDS"


# Token.io's model banks decide a transfer's fate by its amount (seed table, DESIGN §2).
MAGIC_AMOUNTS: dict[Decimal, TransactionStatus] = {
    Decimal("103"): TransactionStatus.FAILURE_DECLINED,
    Decimal("108"): TransactionStatus.FAILURE_INSUFFICIENT_FUNDS,
    Decimal("105"): TransactionStatus.PROCESSING,
}


# -- fixtures --------------------------------------------------------------------------------
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

    def member_by_name(self, name: str) -> SeedMember | None:
        """The seeded member with this fixture name, if any."""
        return next((m for m in self.members if m.name == name), None)


def seeded_member_id(seed: str) -> str:
    """Seeded members get stable ids from their key seed."""
    return "m:" + base58(hashlib.sha256(seed.encode()).digest()[:20]) + MEMBER_REALM_SUFFIX


def seeded_keys(seed: str) -> list[KeyPair]:
    """Deterministic PRIVILEGED, STANDARD and LOW keys for a seeded member."""
    return [
        generate_keys(level, hashlib.sha256(f"{seed}:{level}".encode()).digest())
        for level in KEY_LEVELS
    ]


def load_fixtures(reader: FixtureReader) -> Fixtures:
    """Validate ``fixtures/tokenos.json``; every error names the file and the field."""
    alias = reader.get("tokenMember.alias", dict)
    token_seed = reader.get("tokenMember.keySeed", str)
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
    members = tuple(
        SeedMember(
            name=reader.get(f"{where}.name", str),
            type=reader.get(f"{where}.type", str, default="BUSINESS"),
            alias=reader.get(f"{where}.alias", dict),
            profile=reader.get(f"{where}.profile", dict, default={}),
            key_seed=reader.get(f"{where}.keySeed", str),
        )
        for where, _ in reader.items("members")
    )
    api_keys: dict[str, str] = {}
    for where, _ in reader.items("apiKeys"):
        member = reader.get(f"{where}.member", str)
        if not any(m.name == member for m in members):
            raise reader.fail(f"{where}.member", f"no member named {member!r} in members")
        api_keys[reader.get(f"{where}.key", str)] = member
    payers = []
    account_ids: set[str] = set()
    for where, _ in reader.items("payers"):
        accounts = []
        for account_where, _ in reader.items(f"{where}.accounts"):
            account_id = reader.get(f"{account_where}.id", str)
            bank_id = reader.get(f"{account_where}.bank", str)
            if bank_id not in banks:
                raise reader.fail(f"{account_where}.bank", f"unknown bank {bank_id!r}")
            if account_id in account_ids:
                raise reader.fail(f"{account_where}.id", f"duplicate account id {account_id!r}")
            account_ids.add(account_id)
            balance = reader.get(f"{account_where}.balance", str)
            if not AMOUNT.match(balance):
                raise reader.fail(f"{account_where}.balance", "must be a decimal amount string")
            accounts.append(
                PayerAccount(
                    id=account_id,
                    bank_id=bank_id,
                    name=reader.get(f"{account_where}.name", str),
                    number=reader.get(f"{account_where}.number", str),
                    balance=Decimal(balance),
                )
            )
        payers.append(
            Payer(
                email=reader.get(f"{where}.email", str),
                name=reader.get(f"{where}.name", str),
                key_seed=reader.get(f"{where}.keySeed", str),
                accounts=tuple(accounts),
            )
        )
    count = reader.get("transactionsPerAccount", int, default=30)
    if not 0 <= count <= 1000:
        raise reader.fail("transactionsPerAccount", "must be between 0 and 1000")
    return Fixtures(
        token_alias=alias,
        token_key_seed=token_seed,
        api_keys=api_keys,
        members=members,
        banks=banks,
        payers=tuple(payers),
        transactions_per_account=count,
    )


# -- small helpers ---------------------------------------------------------------------------
def ms(now: datetime) -> int:
    """Milliseconds since the epoch, as TokenOS timestamps are."""
    return int(now.timestamp() * 1000)


def _text(value: Any, where: str, *, required: bool = True, limit: int = 1000) -> str | None:
    if value is None or value == "":
        if required:
            raise InvalidArgument(f"{where} is required", field=where)
        return None
    if not is_text(value):
        raise InvalidArgument(f"{where} must be a string", field=where)
    if len(value) > limit:
        raise InvalidArgument(f"{where} is longer than {limit} characters", field=where)
    return value


def is_text(value: Any) -> TypeGuard[str]:
    """A JSON string (numbers are parsed as `RawNumber`, a str subclass, and do not count)."""
    return isinstance(value, str) and not isinstance(value, RawNumber)


def _object(value: Any, where: str, *, required: bool = False) -> dict[str, Any]:
    if value is None:
        if required:
            raise InvalidArgument(f"{where} is required", field=where)
        return {}
    if not isinstance(value, dict):
        raise InvalidArgument(f"{where} must be an object", field=where)
    return value


def parse_amount(value: Any, where: str) -> Decimal:
    """A positive decimal amount string (numbers are accepted as their JSON text)."""
    text = str(value) if value is not None and not isinstance(value, bool) else ""
    if not AMOUNT.match(text) or Decimal(text) <= 0:
        raise InvalidArgument(
            f"{where} must be a positive amount with at most 4 decimals, got {value!r}",
            field=where,
        )
    return Decimal(text)


def _currency(value: Any, where: str) -> str:
    if not is_text(value) or not CURRENCY.match(value):
        raise InvalidArgument(f"{where} must be a 3-letter ISO 4217 code", field=where)
    return value


def _ref_id(value: Any, where: str) -> str | None:
    ref = _text(value, where, required=False, limit=10_000)
    if ref is not None and len(ref) > REF_ID_MAX:
        raise InvalidArgument(
            f"{where} is {len(ref)} characters; payment rails allow at most {REF_ID_MAX}",
            field=where,
        )
    return ref


def new_id(prefix: str, rng: Callable[[int], bytes], suffix: str) -> str:
    """A TokenOS-style id: prefix, base58 from the seeded generator, realm suffix."""
    return f"{prefix}:{base58(rng(20))}{suffix}"


def money(value: Decimal, currency: str) -> dict[str, str]:
    """A `Money` message with two decimals."""
    return {"currency": currency, "value": f"{value:.2f}"}


# -- members, keys, aliases ------------------------------------------------------------------
def create_member(store: Store, body: Any, *, now: datetime, rng: Callable[[int], bytes]) -> str:
    """``POST /members``: a new member id with no keys yet."""
    body = _object(body, "body")
    # The SDK's createMemberId defaults to PERSONAL; the TPP SDK asks for BUSINESS.
    member_type = body.get("memberType") or "PERSONAL"
    if member_type not in MEMBER_TYPES:
        raise InvalidArgument(f"memberType must be one of {', '.join(MEMBER_TYPES)}")
    member_id = new_id("m", rng, MEMBER_REALM_SUFFIX)
    store.put(NS_MEMBER, member_id, _member_value(member_id, member_type), now=now)
    return member_id


def _member_value(member_id: str, member_type: str) -> dict[str, Any]:
    return {
        "id": member_id,
        "type": member_type,
        "keys": [],
        "aliases": [],
        "lastHash": "",
        "profile": {},
        "recoveryRules": None,
    }


def seed_member(
    store: Store,
    member_id: str,
    member_type: str,
    keys: list[KeyPair],
    aliases: list[dict[str, str]],
    profile: Mapping[str, str],
    *,
    now: datetime,
) -> None:
    """Write a fixture member with its keys and verified aliases."""
    value = _member_value(member_id, member_type)
    value["keys"] = [k.to_proto() for k in keys]
    value["profile"] = dict(profile)
    value["lastHash"] = base58(hashlib.sha256(member_id.encode()).digest())
    for alias in aliases:
        alias_hash = hash_alias(alias)
        value["aliases"].append({"hash": alias_hash, "alias": alias})
        store.put(NS_ALIAS, alias_hash, {"memberId": member_id, "alias": alias}, now=now)
    store.put(NS_MEMBER, member_id, value, now=now)


def get_member(store: Store, member_id: str, *, now: datetime) -> dict[str, Any]:
    """A member record, or NOT_FOUND."""
    member = store.get(NS_MEMBER, member_id, now=now)
    if member is None:
        raise NotFound(f"member {member_id} not found")
    return member


def member_proto(member: dict[str, Any]) -> dict[str, Any]:
    """The public `Member` message: id, lastHash, aliasHashes, keys."""
    proto: dict[str, Any] = {
        "id": member["id"],
        "lastHash": member["lastHash"],
        "aliasHashes": [a["hash"] for a in member["aliases"]],
        "keys": member["keys"],
        "type": member["type"],
    }
    if member.get("recoveryRules"):
        proto["recoveryRule"] = member["recoveryRules"]
    return proto


def find_key(member: dict[str, Any], kid: str) -> dict[str, Any] | None:
    """The member's key with this id, or None."""
    return next((k for k in member["keys"] if k.get("id") == kid), None)


def _validate_key(key: Any, where: str) -> dict[str, Any]:
    key = _object(key, where, required=True)
    public = _text(key.get("publicKey"), f"{where}.publicKey")
    try:
        raw = base64url_decode(public or "")
    except ValueError:
        raise InvalidArgument(f"{where}.publicKey must be base64url") from None
    if len(raw) != 32:
        raise InvalidArgument(f"{where}.publicKey must be a 32-byte Ed25519 key")
    if key.get("algorithm") != "ED25519":
        raise InvalidArgument(f"{where}.algorithm must be ED25519 (mockbank verifies Ed25519)")
    if key.get("level") not in KEY_LEVELS:
        raise InvalidArgument(f"{where}.level must be one of {', '.join(KEY_LEVELS)}")
    if key.get("id") != key_id(raw):
        raise InvalidArgument(f"{where}.id must be base64url(SHA-256(publicKey))[:16]")
    expires = key.get("expiresAtMs")
    if expires is not None and not str(expires).isdigit():
        raise InvalidArgument(f"{where}.expiresAtMs must be milliseconds")
    clean = {k: key[k] for k in ("id", "publicKey", "level", "algorithm")}
    if expires is not None:
        clean["expiresAtMs"] = str(expires)
    return clean


def normalize_alias(alias_type: str, value: str, realm: str | None = None) -> dict[str, str]:
    """``GET /aliases/normalize``: EMAIL and DOMAIN lower-cased and trimmed."""
    if alias_type not in ALIAS_TYPES:
        raise InvalidArgument(f"alias type must be one of {', '.join(ALIAS_TYPES)}")
    value = value.strip()
    if not value:
        raise InvalidArgument("alias value is empty")
    if alias_type in ("EMAIL", "DOMAIN"):
        value = value.lower()
    if alias_type == "EMAIL" and not re.match(r"^[^@\s]+@[^@\s]+\.[^@\s]+$", value):
        raise InvalidArgument(f"{value!r} is not an email address")
    if alias_type == "DOMAIN" and not re.match(r"^[a-z0-9-]+(\.[a-z0-9-]+)+$", value):
        raise InvalidArgument(f"{value!r} is not a domain name")
    alias = {"type": alias_type, "value": value}
    if realm:
        alias["realm"] = realm
    return alias


def resolve_alias(store: Store, alias: dict[str, str], *, now: datetime) -> str | None:
    """The member id an alias belongs to, or None."""
    found = store.get(NS_ALIAS, hash_alias(alias), now=now)
    return None if found is None else str(found["memberId"])


def apply_member_update(
    store: Store, member_id: str, body: Any, *, now: datetime, lenient: bool = False
) -> dict[str, Any]:
    """``POST /members/<id>/updates``: a PRIVILEGED-signed, hash-chained list of operations."""
    body = _object(body, "body", required=True)
    update = _object(body.get("update"), "update", required=True)
    signature = _object(body.get("updateSignature"), "updateSignature", required=True)
    metadata = body.get("metadata") or []
    if not isinstance(metadata, list):
        raise InvalidArgument("metadata must be a list")
    if update.get("memberId") != member_id:
        raise InvalidArgument("update.memberId must be the member in the path")
    operations = update.get("operations")
    if not isinstance(operations, list) or not operations:
        raise InvalidArgument("update.operations must be a non-empty list")
    member = get_member(store, member_id, now=now)
    # Updates form a hash chain: each names the lastHash it builds on, so stale copies fail.
    first = not member["keys"]
    if not first and update.get("prevHash", "") != member["lastHash"]:
        raise FailedPrecondition(
            "update.prevHash does not match the member's lastHash (fetch the member again)"
        )
    added_keys = [
        _validate_key(
            op["addKey"].get("key") if isinstance(op.get("addKey"), dict) else None,
            f"operations.{i}.addKey.key",
        )
        for i, op in enumerate(operations)
        if isinstance(op, dict) and "addKey" in op
    ]
    # The first update is self-signed by a PRIVILEGED key it adds; later ones by a current one.
    candidates = added_keys if first else member["keys"]
    if signature.get("memberId") != member_id:
        raise Unauthenticated("updateSignature.memberId must be the member being updated")
    key = next((k for k in candidates if k["id"] == signature.get("keyId")), None)
    if key is None or key["level"] != "PRIVILEGED":
        raise Unauthenticated("the update must be signed by one of the member's PRIVILEGED keys")
    if not lenient and not verify_json(
        update, str(signature.get("signature", "")), key["publicKey"]
    ):
        raise Unauthenticated("updateSignature does not verify over the update")
    # The update carries only alias hashes; the aliases themselves travel in the metadata.
    aliases_by_hash = {}
    for entry in metadata:
        meta = entry.get("addAliasMetadata") if isinstance(entry, dict) else None
        if isinstance(meta, dict) and isinstance(meta.get("alias"), dict):
            aliases_by_hash[str(meta.get("aliasHash"))] = meta["alias"]
    claims: list[tuple[str, dict[str, Any]]] = []
    new = dict(member)
    new["keys"] = list(member["keys"])
    new["aliases"] = list(member["aliases"])
    for index, op in enumerate(operations):
        where = f"operations.{index}"
        if not isinstance(op, dict) or len(op) != 1:
            raise InvalidArgument(f"{where} must hold exactly one operation")
        name, arg = next(iter(op.items()))
        arg = _object(arg, f"{where}.{name}", required=True)
        if name == "addKey":
            added = _validate_key(arg.get("key"), f"{where}.addKey.key")
            new["keys"] = [k for k in new["keys"] if k["id"] != added["id"]] + [added]
        elif name == "removeKey":
            if find_key(new, str(arg.get("keyId"))) is None:
                raise NotFound(f"{where}.removeKey.keyId is not a key of this member")
            new["keys"] = [k for k in new["keys"] if k["id"] != arg.get("keyId")]
        elif name == "addAlias":
            alias_hash = str(arg.get("aliasHash", ""))
            alias = aliases_by_hash.get(alias_hash)
            if alias is None:
                raise InvalidArgument(f"{where}.addAlias needs addAliasMetadata with the alias")
            clean = normalize_alias(str(alias.get("type", "")), str(alias.get("value", "")))
            if alias.get("realmId"):
                clean["realmId"] = str(alias["realmId"])
            if hash_alias(clean) != alias_hash:
                raise InvalidArgument(f"{where}.addAlias.aliasHash is not the hash of the alias")
            claims.append((alias_hash, clean))
            if all(a["hash"] != alias_hash for a in new["aliases"]):
                new["aliases"].append({"hash": alias_hash, "alias": clean})
        elif name == "removeAlias":
            alias_hash = str(arg.get("aliasHash", ""))
            new["aliases"] = [a for a in new["aliases"] if a["hash"] != alias_hash]
        elif name == "recoveryRules":
            new["recoveryRules"] = arg.get("recoveryRule")
        else:
            raise Unimplemented(f"member operation {name!r} is not supported by mockbank")
    # Without a PRIVILEGED key no later update could ever be signed.
    if not any(k["level"] == "PRIVILEGED" for k in new["keys"]):
        raise FailedPrecondition("a member must keep at least one PRIVILEGED key")
    new["lastHash"] = base58(hashlib.sha256(canonical_json(update).encode()).digest())
    # Claim aliases first (insert-if-absent), and give them back if the member update fails.
    claimed: list[str] = []
    try:
        for alias_hash, alias in claims:
            owner = store.get(NS_ALIAS, alias_hash, now=now)
            if owner is not None and owner["memberId"] != member_id:
                raise AlreadyExists(f"alias {alias['value']} belongs to another member")
            if owner is None:
                if not store.add(
                    NS_ALIAS, alias_hash, {"memberId": member_id, "alias": alias}, now=now
                ):
                    raise AlreadyExists(f"alias {alias['value']} belongs to another member")
                claimed.append(alias_hash)

        def change(current: dict[str, Any]) -> dict[str, Any]:
            # The hash chain makes concurrent updates from stale copies fail, not interleave.
            if current["lastHash"] != member["lastHash"]:
                raise Aborted("the member changed concurrently; fetch it and retry")
            return new

        result = store.update(NS_MEMBER, member_id, change, now=now)
    except Exception:
        for alias_hash in claimed:
            store.delete(NS_ALIAS, alias_hash)
        raise
    for alias in member["aliases"]:
        if all(a["hash"] != alias["hash"] for a in new["aliases"]):
            store.delete(NS_ALIAS, alias["hash"])
    if result is None:
        raise NotFound(f"member {member_id} not found")
    return result


# -- banks -----------------------------------------------------------------------------------
def list_banks(fixtures: Fixtures, args: Mapping[str, list[str]]) -> dict[str, Any]:
    """``GET /banks`` with ids, search, country, provider, bank_features and paging."""
    # Filters combine with AND, as the SDK's getBanks options do.
    banks = list(fixtures.banks.values())
    ids = [i for i in args.get("ids", []) if i]
    if ids:
        banks = [b for b in banks if b.id in ids]
    search = (args.get("search") or [""])[0].strip().lower()
    if search:
        banks = [b for b in banks if search in b.name.lower() or search in b.id.lower()]
    for name in ("country", "provider"):
        wanted = (args.get(name) or [""])[0].strip().lower()
        if wanted:
            banks = [b for b in banks if getattr(b, name).lower() == wanted]
    destination = (args.get("destinationCountry") or [""])[0].strip().upper()
    if destination:
        banks = [b for b in banks if b.country == destination]
    for name, values in args.items():
        if not name.startswith("bank_features."):
            continue
        key = name.removeprefix("bank_features.").removesuffix(".value")
        if key not in FEATURES:
            raise InvalidArgument(
                f"unknown bank feature {key!r}; known: {', '.join(sorted(FEATURES))}"
            )
        flag = (values or [""])[0].lower()
        if flag not in ("true", "false"):
            raise InvalidArgument(f"{name} must be true or false")
        banks = [b for b in banks if b.features.get(FEATURES[key], False) == (flag == "true")]
    page = _positive((args.get("page") or ["1"])[0], "page", default=1, limit=1_000_000)
    per_page = _positive((args.get("perPage") or ["200"])[0], "perPage", default=200, limit=200)
    total = len(banks)
    chunk = banks[(page - 1) * per_page : page * per_page]
    return {
        "banks": [b.to_proto() for b in chunk],
        "paging": {
            "page": page,
            "perPage": per_page,
            "pageCount": max(1, -(-total // per_page)),
            "totalCount": total,
        },
    }


def _positive(text: str, where: str, *, default: int, limit: int) -> int:
    if text in ("", "undefined"):
        return default
    if not text.isdigit() or not 1 <= int(text) <= limit:
        raise InvalidArgument(f"{where} must be a whole number from 1 to {limit}")
    return int(text)


# -- token requests --------------------------------------------------------------------------
def store_token_request(
    store: Store,
    caller: str,
    body: Any,
    fixtures: Fixtures,
    *,
    now: datetime,
    rng: Callable[[int], bytes],
    ttl_s: int = REQUEST_TTL_S,
) -> dict[str, Any]:
    """``POST /token-requests``: validate a transfer or access request and keep it 15 min."""
    body = _object(body, "body", required=True)
    payload = _object(body.get("requestPayload"), "requestPayload", required=True)
    options = _object(body.get("requestOptions"), "requestOptions")
    # One body per request: the SDK builders each set exactly one of these.
    kinds = [
        k
        for k in ("transferBody", "accessBody", "standingOrderBody", "bulkTransferBody")
        if payload.get(k) is not None
    ]
    if len(kinds) != 1:
        raise InvalidArgument("requestPayload needs exactly one of transferBody or accessBody")
    if kinds[0] in ("standingOrderBody", "bulkTransferBody"):
        raise Unimplemented(f"{kinds[0]} token requests are not emulated by mockbank")
    redirect = _text(payload.get("redirectUrl"), "requestPayload.redirectUrl")
    parts = urlsplit(redirect or "")
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise InvalidArgument("requestPayload.redirectUrl must be an absolute http(s) URL")
    _ref_id(payload.get("refId"), "requestPayload.refId")
    for name in ("description", "userRefId", "customizationId"):
        _text(payload.get(name), f"requestPayload.{name}", required=False)
    state = payload.get("callbackState")
    if state is not None and not is_text(state):
        raise InvalidArgument("requestPayload.callbackState must be a string (URL-encoded JSON)")
    country = payload.get("destinationCountry")
    if country not in (None, "") and (not is_text(country) or not re.match(r"^[A-Z]{2}$", country)):
        raise InvalidArgument("requestPayload.destinationCountry must be an ISO 3166 code")
    acting = _object(payload.get("actingAs"), "requestPayload.actingAs")
    for name in ("displayName", "refId", "logoUrl", "secondaryName"):
        _text(acting.get(name), f"requestPayload.actingAs.{name}", required=False)
    to = _object(payload.get("to"), "requestPayload.to")
    to_id = to.get("id")
    if not to_id and isinstance(to.get("alias"), dict):
        alias = to["alias"]
        to_id = resolve_alias(
            store, normalize_alias(str(alias.get("type", "")), str(alias.get("value", ""))), now=now
        )
        if to_id is None:
            raise NotFound("requestPayload.to.alias does not name a member")
    to_id = to_id or caller
    # Only the member that stores a request may redeem its token (seed: "the member creating
    # the TokenRequest must match the member that redeems the token").
    if to_id != caller:
        raise PermissionDenied("requestPayload.to must be the member storing the request")
    if kinds[0] == "transferBody":
        transfer = _object(payload["transferBody"], "requestPayload.transferBody", required=True)
        _currency(transfer.get("currency"), "requestPayload.transferBody.currency")
        lifetime = parse_amount(
            transfer.get("lifetimeAmount"), "requestPayload.transferBody.lifetimeAmount"
        )
        if transfer.get("amount") not in (None, ""):
            charge = parse_amount(transfer["amount"], "requestPayload.transferBody.amount")
            if charge > lifetime:
                raise InvalidArgument("transferBody.amount exceeds transferBody.lifetimeAmount")
    else:
        access_resources(_object(payload["accessBody"], "requestPayload.accessBody"))
    # A preselected bank must be able to do what is asked (gold is information only).
    bank_id = options.get("bankId")
    if bank_id not in (None, ""):
        bank = fixtures.banks.get(str(bank_id))
        if bank is None:
            raise InvalidArgument(f"requestOptions.bankId {bank_id!r} is not a known bank")
        needed = "supportsSendPayment" if kinds[0] == "transferBody" else "supportsInformation"
        if not bank.features.get(needed):
            raise InvalidArgument(f"bank {bank.id} does not support {needed}")
    source = _text(options.get("sourceAccountId"), "requestOptions.sourceAccountId", required=False)
    if source is not None and store.get(NS_ACCOUNT, source, now=now) is None:
        raise InvalidArgument("requestOptions.sourceAccountId is not a known account")
    receipt = options.get("receiptRequested")
    if receipt is not None and not isinstance(receipt, bool):
        raise InvalidArgument("requestOptions.receiptRequested must be a boolean")
    from_ = _object(options.get("from"), "requestOptions.from")
    if isinstance(from_.get("alias"), dict) and from_["alias"].get("value"):
        alias = from_["alias"]
        normalize_alias(str(alias.get("type", "EMAIL")), str(alias["value"]))
    # The request expires with the store record; expiry is decided on read by the clock.
    request_id = new_id("rq", rng, MEMBER_REALM_SUFFIX)
    stored_payload = dict(payload)
    stored_payload["to"] = {**to, "id": to_id}
    record = {
        "id": request_id,
        "memberId": caller,
        "requestPayload": stored_payload,
        "requestOptions": options,
        "createdAtMs": str(ms(now)),
        "kind": "TRANSFER" if kinds[0] == "transferBody" else "ACCESS",
    }
    store.put(NS_REQUEST, request_id, record, now=now, expires_at=now + timedelta(seconds=ttl_s))
    return token_request_proto(record)


def token_request_proto(record: dict[str, Any]) -> dict[str, Any]:
    """The `TokenRequest` message of a stored record."""
    return {
        "id": record["id"],
        "requestPayload": record["requestPayload"],
        "requestOptions": record["requestOptions"],
    }


def access_resources(body: dict[str, Any]) -> list[tuple[str, str | None]]:
    """The (resource kind, account id or None for all) pairs an access body asks for."""
    wanted: list[tuple[str, str | None]] = []
    types = body.get("type")
    listed = _object(body.get("resourceTypeList"), "accessBody.resourceTypeList").get("resources")
    kinds = types or listed or []
    if not isinstance(kinds, list):
        raise InvalidArgument("accessBody.type must be a list of resource types")
    for value in kinds:
        if value not in ACCESS_TYPES:
            raise InvalidArgument(
                f"accessBody.type {value!r} is not one of {', '.join(ACCESS_TYPES)}"
            )
        wanted.append((_TYPE_RESOURCE[value], None))
    account_list = _object(body.get("accountResourceList"), "accessBody.accountResourceList")
    listed_accounts = account_list.get("resources") or []
    if not isinstance(listed_accounts, list):
        raise InvalidArgument("accessBody.accountResourceList.resources must be a list")
    for index, item in enumerate(listed_accounts):
        item = _object(item, f"accessBody.accountResourceList.resources.{index}")
        kind = ACCOUNT_RESOURCE_TYPES.get(str(item.get("type")))
        if kind is None:
            raise InvalidArgument(f"accountResourceList type {item.get('type')!r} is unknown")
        wanted.append((kind, None))
    if not wanted:
        raise InvalidArgument("accessBody needs type (ACCOUNTS, BALANCES, ...) or resources")
    return wanted


def request_record(store: Store, request_id: str, *, now: datetime) -> dict[str, Any]:
    """A stored token request, used or not; expired and unknown ones are NOT_FOUND."""
    record = store.record(NS_REQUEST, request_id)
    if record is None:
        raise NotFound(f"token request {request_id} not found")
    if record.expired(now) and not record.used:
        raise NotFound(f"token request {request_id} has expired (15 minutes unused)")
    return record.value


def pending_request(store: Store, request_id: str, *, now: datetime) -> dict[str, Any]:
    """A token request still waiting for consent."""
    record = store.record(NS_REQUEST, request_id)
    if record is None:
        raise NotFound(f"token request {request_id} not found")
    if record.used:
        raise FailedPrecondition(f"token request {request_id} has already been answered")
    if record.expired(now):
        raise FailedPrecondition(f"token request {request_id} has expired (15 minutes unused)")
    return record.value


@dataclass(frozen=True)
class Consent:
    """What the consent pages know so far about a pending request."""

    request: dict[str, Any]
    bank: Bank | None
    payer: Payer | None
    accounts: list[PayerAccount]
    banks: list[Bank]


def consent_state(
    store: Store,
    request_id: str,
    fixtures: Fixtures,
    *,
    bank_id: str | None,
    email: str | None,
    now: datetime,
) -> Consent:
    """Resolve the bank and payer from the request options, else from the form."""
    request = pending_request(store, request_id, now=now)
    options = request["requestOptions"]
    payload = request["requestPayload"]
    transfer = request["kind"] == "TRANSFER"
    needed = "supportsSendPayment" if transfer else "supportsInformation"
    banks = [b for b in fixtures.banks.values() if b.features.get(needed)]
    country = payload.get("destinationCountry")
    if country:
        banks = [b for b in banks if b.country == country] or banks
    # Options set by the TPP win over the form: the seed says bankId and from skip screens.
    chosen = options.get("bankId") or bank_id
    bank = fixtures.banks.get(str(chosen)) if chosen else None
    if chosen and (bank is None or bank not in banks):
        raise InvalidArgument(f"bank {chosen!r} cannot be used for this request")
    from_ = options.get("from") or {}
    payer = None
    if from_.get("id"):
        payer = fixtures.payer_by_id(str(from_["id"]))
    elif isinstance(from_.get("alias"), dict) and from_["alias"].get("value"):
        payer = fixtures.payer_by_email(str(from_["alias"]["value"]))
    if payer is None and email:
        payer = fixtures.payer_by_email(email)
        if payer is None:
            raise NotFound(f"no Token user with the email {email}")
    accounts: list[PayerAccount] = []
    if bank and payer:
        accounts = [a for a in payer.accounts if a.bank_id == bank.id]
        if transfer:
            currency = payload["transferBody"]["currency"]
            accounts = [a for a in accounts if bank.currency == currency]
    return Consent(request, bank, payer, accounts, banks)


def approve(
    store: Store,
    request_id: str,
    consent: Consent,
    account_ids: list[str],
    *,
    token_key: KeyPair,
    token_member_id: str,
    payer_key: KeyPair,
    now: datetime,
    rng: Callable[[int], bytes],
) -> str:
    """Mint the token for a consented request and return the callback URL."""
    if consent.bank is None or consent.payer is None:
        raise FailedPrecondition("choose a bank and enter the payer's email before approving")
    if not consent.accounts:
        raise FailedPrecondition(f"the payer has no suitable account at {consent.bank.name}")
    by_id = {a.id: a for a in consent.accounts}
    unknown = [a for a in account_ids if a not in by_id]
    if unknown:
        raise InvalidArgument(f"account {unknown[0]} is not one of the payer's accounts here")
    request = consent.request
    payload = request["requestPayload"]
    transfer = request["kind"] == "TRANSFER"
    chosen = [by_id[a] for a in dict.fromkeys(account_ids)] or (
        consent.accounts[:1] if transfer else list(consent.accounts)
    )
    # A transfer has one source account; access may span every chosen account.
    if transfer and len(chosen) != 1:
        raise InvalidArgument("a transfer token is paid from exactly one account")
    now_ms = ms(now)
    expiration = payload.get("tokenExpiration")
    ttl = TRANSFER_TOKEN_TTL_S if transfer else ACCESS_TOKEN_TTL_S
    expires_ms = now_ms + ttl * 1000
    if expiration not in (None, "") and str(expiration).isdigit() and int(expiration) > now_ms:
        expires_ms = int(expiration)
    token_payload: dict[str, Any] = {
        "version": "1.0",
        "refId": payload.get("refId") or base58(rng(9)),
        "issuer": {"id": consent.bank.id},
        "from": {"id": consent.payer.member_id},
        "to": payload["to"],
        "effectiveAtMs": str(now_ms),
        "expiresAtMs": str(expires_ms),
        "description": payload.get("description"),
        "actingAs": payload.get("actingAs"),
        "receiptRequested": (request["requestOptions"].get("receiptRequested") or None),
        "tokenRequestId": request_id,
    }
    if transfer:
        body = payload["transferBody"]
        instructions = _object(body.get("instructions"), "transferBody.instructions")
        terms: dict[str, Any] = {
            "currency": body["currency"],
            "lifetimeAmount": str(body["lifetimeAmount"]),
            "redeemer": {"id": payload["to"]["id"]},
            "instructions": {
                "source": {
                    "account": {
                        "token": {"memberId": consent.payer.member_id, "accountId": chosen[0].id}
                    }
                },
                "transferDestinations": instructions.get("transferDestinations") or [],
            },
        }
        if body.get("amount") not in (None, ""):
            terms["amount"] = str(body["amount"])
        token_payload["transfer"] = terms
    else:
        resources: list[dict[str, Any]] = []
        for kind, _ in access_resources(payload["accessBody"]):
            for account in chosen:
                resource = {kind: {"accountId": account.id}}
                if resource not in resources:
                    resources.append(resource)
        token_payload["access"] = {"resources": resources}
    token_payload = {k: v for k, v in token_payload.items() if v is not None}
    prefix = "tt" if transfer else "ta"
    digest = hashlib.sha256(canonical_json(token_payload).encode() + rng(16)).digest()
    token_id = f"{prefix}:{base58(digest)}{TOKEN_SUFFIX}"
    # Token operations sign canonical payload + "." + action (SDK tokenOperationSignature).
    endorsed = canonical_json(token_payload) + ".endorsed"
    token = {
        "id": token_id,
        "payload": token_payload,
        "payloadSignatures": [
            {
                "action": "ENDORSED",
                "signature": {
                    "memberId": consent.payer.member_id,
                    "keyId": payer_key.id,
                    "signature": payer_key.sign(endorsed),
                },
            },
            {
                "action": "ENDORSED",
                "signature": {
                    "memberId": token_member_id,
                    "keyId": token_key.id,
                    "signature": token_key.sign(endorsed),
                },
            },
        ],
        "tokenRequestId": request_id,
    }
    # Consume the request only now, after every check passed: a failed approval burns nothing.
    if store.take_once(NS_REQUEST, request_id, now=now) is None:
        raise FailedPrecondition(f"token request {request_id} has already been answered")
    store.put(
        NS_TOKEN,
        token_id,
        {
            "token": token,
            "type": "TRANSFER" if transfer else "ACCESS",
            "toMemberId": payload["to"]["id"],
            "fromMemberId": consent.payer.member_id,
            "transfers": [],
            "createdAtMs": str(now_ms),
        },
        now=now,
    )
    # Token signs the stored callbackState verbatim; the SDK decodes it once, then verifies.
    state = payload.get("callbackState") or encode_uri_component("{}")
    signature = {
        "memberId": token_member_id,
        "keyId": token_key.id,
        "signature": token_key.sign_json({"state": state, "tokenId": token_id}),
    }
    store.put(
        NS_RESULT,
        request_id,
        {"status": "PROCESSED", "tokenId": token_id, "signature": signature},
        now=now,
    )
    return _with_query(
        payload["redirectUrl"],
        [
            ("tokenId", token_id),
            ("state", encode_uri_component(state)),
            ("signature", encode_uri_component(canonical_json(signature))),
        ],
    )


def deny(store: Store, request_id: str, *, now: datetime) -> str:
    """The payer said no: the request is answered and the TPP hears ``access_denied``."""
    request = pending_request(store, request_id, now=now)
    if store.take_once(NS_REQUEST, request_id, now=now) is None:
        raise FailedPrecondition(f"token request {request_id} has already been answered")
    store.put(NS_RESULT, request_id, {"status": "REJECTED"}, now=now)
    return _with_query(
        request["requestPayload"]["redirectUrl"],
        [
            ("error", "access_denied"),
            ("message", encode_uri_component("The user declined the request.")),
        ],
    )


def _with_query(url: str, params: list[tuple[str, str]]) -> str:
    # Values arrive encoded already (the SDK decodes each exactly once per its own rules).
    joined = "&".join(f"{quote(k)}={v}" for k, v in params)
    return f"{url}{'&' if '?' in url else '?'}{joined}"


def request_result(store: Store, request_id: str, *, now: datetime) -> dict[str, Any]:
    """``GET /token-requests/<id>/token_request_result``."""
    result = store.get(NS_RESULT, request_id, now=now)
    if result is None:
        request_record(store, request_id, now=now)
        raise NotFound(f"token request {request_id} has no result yet (not consented)")
    if result["status"] == "REJECTED":
        raise FailedPrecondition(f"token request {request_id} was declined by the user")
    return {"tokenId": result["tokenId"], "signature": result["signature"]}


# -- tokens ----------------------------------------------------------------------------------
def token_record(store: Store, token_id: str, *, now: datetime) -> dict[str, Any]:
    """A token record, or NOT_FOUND."""
    record = store.get(NS_TOKEN, token_id, now=now)
    if record is None:
        raise NotFound(f"token {token_id} not found")
    return record


def visible_token(store: Store, caller: str, token_id: str, *, now: datetime) -> dict[str, Any]:
    """A token the caller is party to (payee or payer), else PERMISSION_DENIED."""
    record = token_record(store, token_id, now=now)
    if caller not in (record["toMemberId"], record["fromMemberId"]):
        raise PermissionDenied(f"token {token_id} belongs to other members")
    return record


def is_cancelled(record: dict[str, Any]) -> bool:
    """Whether the token carries a CANCELLED signature."""
    return any(s["action"] == "CANCELLED" for s in record["token"]["payloadSignatures"])


def is_expired(record: dict[str, Any], now: datetime) -> bool:
    """Whether the token's expiresAtMs has passed on the app clock."""
    return int(record["token"]["payload"]["expiresAtMs"]) <= ms(now)


def list_tokens(
    store: Store, caller: str, token_type: str, offset: str, limit: str
) -> dict[str, Any]:
    """``GET /tokens?type=&offset=&limit=``; the offset is an opaque position string."""
    if token_type not in ("TRANSFER", "ACCESS"):
        raise InvalidArgument("type must be TRANSFER or ACCESS")
    start, count = _page(offset, limit)
    tokens = [
        r.value["token"]
        for r in store.records(NS_TOKEN)
        if r.value["type"] == token_type and caller == r.value["toMemberId"]
    ]
    return _paged("tokens", tokens, start, count)


def _page(offset: str, limit: str) -> tuple[int, int]:
    # The SDK sends the literal text "undefined" for an offset it was not given.
    start = 0 if offset in ("", "undefined", "null") else -1
    if start == -1:
        if not offset.isdigit():
            raise InvalidArgument("offset must be an offset returned by a previous page")
        start = int(offset)
    count = _positive(limit, "limit", default=100, limit=1000)
    return start, count


def _paged(name: str, items: list[Any], start: int, count: int) -> dict[str, Any]:
    chunk = items[start : start + count]
    result: dict[str, Any] = {name: chunk}
    if start + count < len(items):
        result["offset"] = str(start + count)
    return result


def cancel_token(
    store: Store,
    caller: str,
    token_id: str,
    body: Any,
    member: dict[str, Any],
    *,
    now: datetime,
    lenient: bool = False,
) -> dict[str, Any]:
    """``PUT /tokens/<id>/cancel``: a STANDARD signature over payload + ``.cancelled``."""
    body = _object(body, "body", required=True)
    if body.get("tokenId") not in (None, token_id):
        raise InvalidArgument("tokenId in the body differs from the path")
    signature = _object(body.get("signature"), "signature", required=True)
    record = visible_token(store, caller, token_id, now=now)
    if signature.get("memberId") != caller:
        raise Unauthenticated("signature.memberId must be the caller")
    key = find_key(member, str(signature.get("keyId")))
    if key is None:
        raise Unauthenticated("signature.keyId is not a key of the caller")
    if key["level"] == "LOW":
        raise PermissionDenied("cancelling a token needs a STANDARD or PRIVILEGED key")
    message = canonical_json(record["token"]["payload"]) + ".cancelled"
    if not lenient and not verify(message, str(signature.get("signature", "")), key["publicKey"]):
        raise Unauthenticated("the cancel signature does not verify over the token payload")

    def change(current: dict[str, Any]) -> dict[str, Any]:
        if is_cancelled(current):
            raise FailedPrecondition(f"token {token_id} is already cancelled")
        current["token"]["payloadSignatures"].append(
            {
                "action": "CANCELLED",
                "signature": {k: signature.get(k) for k in ("memberId", "keyId", "signature")},
            }
        )
        return current

    updated = store.update(NS_TOKEN, token_id, change, now=now)
    if updated is None:
        raise NotFound(f"token {token_id} not found")
    return {"status": "SUCCESS", "token": updated["token"]}


# -- transfers -------------------------------------------------------------------------------
def transfer_outcome(amount: Decimal, available: Decimal) -> TransactionStatus:
    """Where a transfer ends up once settled: the magic amounts, else the balance decides."""
    magic = MAGIC_AMOUNTS.get(amount)
    if magic is not None:
        return magic
    if amount > available:
        return TransactionStatus.FAILURE_INSUFFICIENT_FUNDS
    return TransactionStatus.SUCCESS


def transfer_status(entry: Mapping[str, Any], now: datetime) -> TransactionStatus:
    """PROCESSING for 5 s of app clock, then the outcome decided at redemption."""
    if ms(now) - int(entry["createdAtMs"]) < TRANSFER_SETTLE_S * 1000:
        return TransactionStatus.PROCESSING
    return TransactionStatus(entry["outcome"])


def redeem_token(
    store: Store,
    caller: str,
    body: Any,
    member: dict[str, Any],
    *,
    now: datetime,
    rng: Callable[[int], bytes],
    fixtures: Fixtures,
    lenient: bool = False,
) -> dict[str, Any]:
    """``POST /transfers``: spend part of a transfer token's lifetime amount."""
    body = _object(body, "body", required=True)
    payload = _object(body.get("payload"), "payload", required=True)
    signature = _object(body.get("payloadSignature"), "payloadSignature", required=True)
    if signature.get("memberId") != caller:
        raise Unauthenticated("payloadSignature.memberId must be the caller")
    key = find_key(member, str(signature.get("keyId")))
    if key is None:
        raise Unauthenticated("payloadSignature.keyId is not a key of the caller")
    if not lenient and not verify_json(
        payload, str(signature.get("signature", "")), key["publicKey"]
    ):
        raise Unauthenticated("payloadSignature does not verify over the payload")
    ref_id = _ref_id(payload.get("refId"), "payload.refId") or base58(rng(9))
    token_id = _text(payload.get("tokenId"), "payload.tokenId") or ""
    amount_obj = _object(payload.get("amount"), "payload.amount", required=True)
    amount = parse_amount(amount_obj.get("value"), "payload.amount.value")
    currency = _currency(amount_obj.get("currency"), "payload.amount.currency")
    _text(payload.get("description"), "payload.description", required=False)
    record = token_record(store, token_id, now=now)
    if record["toMemberId"] != caller:
        raise PermissionDenied(f"token {token_id} can only be redeemed by its payee")
    if record["type"] != "TRANSFER":
        raise InvalidArgument(f"token {token_id} is an access token, not a transfer token")
    _check_redeemable(record, amount, currency, now)
    ref_key = f"{token_id}|{ref_id}"
    transfer_id = new_id("t", rng, TOKEN_SUFFIX)
    # A refId is the idempotency key (seed: "used for deduplicating requests").
    if not store.add(NS_TRANSFER_REF, ref_key, {"transferId": transfer_id}, now=now):
        existing = store.get(NS_TRANSFER_REF, ref_key, now=now) or {}
        found = store.get(NS_TRANSFER, str(existing.get("transferId")), now=now)
        if found is None:
            raise Aborted("a transfer with this refId is being created; retry")
        if Decimal(found["transfer"]["payload"]["amount"]["value"]) != amount:
            raise AlreadyExists(f"refId {ref_id} was used for a different transfer")
        return transfer_view(found, now)
    source = record["token"]["payload"]["transfer"]["instructions"]["source"]["account"]["token"]
    account_id = source["accountId"]
    now_ms = ms(now)

    def spend(current: dict[str, Any]) -> dict[str, Any]:
        _check_redeemable(current, amount, currency, now)
        current["transfers"].append(
            {
                "id": transfer_id,
                "amount": str(amount),
                "createdAtMs": str(now_ms),
                "outcome": outcome,
            }
        )
        return current

    try:
        outcome = transfer_outcome(amount, account_balance(store, fixtures, account_id, now=now))
        if store.update(NS_TOKEN, token_id, spend, now=now) is None:
            raise NotFound(f"token {token_id} not found")
    except Exception:
        store.delete(NS_TRANSFER_REF, ref_key)
        raise
    transfer_payload = {k: v for k, v in payload.items() if v is not None}
    transfer_payload["refId"] = ref_id
    entry = {
        "transfer": {
            "id": transfer_id,
            "transactionId": "tx:" + base58(rng(12)),
            "createdAtMs": str(now_ms),
            "payload": transfer_payload,
            "payloadSignatures": [{"action": "ENDORSED", "signature": signature}],
        },
        "tokenId": token_id,
        "toMemberId": caller,
        "fromMemberId": record["fromMemberId"],
        "sourceAccountId": account_id,
        "createdAtMs": str(now_ms),
        "outcome": outcome.value,
    }
    store.put(NS_TRANSFER, transfer_id, entry, now=now)
    return transfer_view(entry, now)


def _check_redeemable(
    record: dict[str, Any], amount: Decimal, currency: str, now: datetime
) -> None:
    token_id = record["token"]["id"]
    if is_cancelled(record):
        raise FailedPrecondition(f"token {token_id} has been cancelled")
    if is_expired(record, now):
        raise FailedPrecondition(f"token {token_id} has expired")
    terms = record["token"]["payload"]["transfer"]
    if currency != terms["currency"]:
        raise InvalidArgument(f"the token pays in {terms['currency']}, not {currency}")
    if terms.get("amount") and amount > Decimal(terms["amount"]):
        raise FailedPrecondition(
            f"{amount} exceeds the token's per-charge amount {terms['amount']}"
        )
    # Failed transfers give their amount back; processing ones still hold it.
    used = sum(
        (
            Decimal(t["amount"])
            for t in record["transfers"]
            if not transfer_status(t, now).value.startswith("FAILURE")
        ),
        Decimal(0),
    )
    lifetime = Decimal(terms["lifetimeAmount"])
    if used + amount > lifetime:
        raise FailedPrecondition(
            f"{amount} {currency} exceeds what is left of the lifetime amount "
            f"({lifetime - used} of {lifetime} {currency})"
        )


def transfer_view(entry: dict[str, Any], now: datetime) -> dict[str, Any]:
    """The `Transfer` message with its status as of `now`."""
    transfer = dict(entry["transfer"])
    transfer["status"] = transfer_status(entry, now).value
    return transfer


def get_transfer(store: Store, caller: str, transfer_id: str, *, now: datetime) -> dict[str, Any]:
    """A transfer the caller is party to."""
    entry = store.get(NS_TRANSFER, transfer_id, now=now)
    if entry is None:
        raise NotFound(f"transfer {transfer_id} not found")
    if caller not in (entry["toMemberId"], entry["fromMemberId"]):
        raise PermissionDenied(f"transfer {transfer_id} belongs to other members")
    return transfer_view(entry, now)


def list_transfers(
    store: Store, caller: str, token_id: str, offset: str, limit: str, *, now: datetime
) -> dict[str, Any]:
    """``GET /transfers``: the caller's transfers, optionally of one token."""
    start, count = _page(offset, limit)
    items = [
        transfer_view(r.value, now)
        for r in store.records(NS_TRANSFER)
        if caller in (r.value["toMemberId"], r.value["fromMemberId"])
        and (not token_id or r.value["tokenId"] == token_id)
    ]
    return _paged("transfers", items, start, count)


# -- accounts --------------------------------------------------------------------------------
def seed_accounts(
    store: Store, fixtures: Fixtures, faker: Any, random: Any, *, now: datetime
) -> None:
    """Payer accounts and Faker-made histories (the same seed gives the same history)."""
    for payer in fixtures.payers:
        for account in payer.accounts:
            bank = fixtures.banks[account.bank_id]
            store.put(
                NS_ACCOUNT,
                account.id,
                {
                    "id": account.id,
                    "memberId": payer.member_id,
                    "bankId": bank.id,
                    "name": account.name,
                    "number": account.number,
                    "currency": bank.currency,
                    "balance": str(account.balance),
                },
                now=now,
            )
            items = []
            moment = now
            for index in range(fixtures.transactions_per_account):
                moment -= timedelta(hours=random.randint(3, 60), minutes=random.randint(0, 59))
                credit = random.random() < 0.25
                cents = random.randint(50_000, 350_000) if credit else random.randint(150, 25_000)
                items.append(
                    {
                        "id": f"tx:{account.id.removeprefix('a:')}:{index:04d}",
                        "type": "CREDIT" if credit else "DEBIT",
                        "status": "SUCCESS",
                        "amount": money(Decimal(cents) / 100, bank.currency),
                        "description": (
                            f"Salary {faker.company()}"
                            if credit
                            else f"{faker.company()} {faker.city()}"
                        ),
                        "createdAtMs": str(ms(moment)),
                        "metadata": {"merchantCategory": faker.bothify("####")},
                    }
                )
            store.put(NS_HISTORY, account.id, {"items": items}, now=now)


def account_proto(account: dict[str, Any], fixtures: Fixtures) -> dict[str, Any]:
    """The `Account` message, with the accountFeatures the SDK reads."""
    bank = fixtures.banks[account["bankId"]]
    return {
        "id": account["id"],
        "name": account["name"],
        "bankId": account["bankId"],
        "isLocked": False,
        "accountFeatures": {
            "supportsInformation": bank.features.get("supportsInformation", False),
            "supportsSendPayment": bank.features.get("supportsSendPayment", False),
            "supportsReceivePayment": bank.features.get("supportsReceivePayment", False),
            "requiresExternalAuth": False,
        },
        "accountDetails": {
            "identifier": account["number"],
            "type": "CHECKING"
            if "checking" in account["name"].lower() or "current" in account["name"].lower()
            else "SAVINGS",
            "status": "ACTIVE",
            "accountHolderName": next(
                (p.name for p in fixtures.payers if p.member_id == account["memberId"]), ""
            ),
        },
    }


def _settled_debits(store: Store, account_id: str, now: datetime) -> list[dict[str, Any]]:
    return [
        r.value
        for r in store.records(NS_TRANSFER)
        if r.value["sourceAccountId"] == account_id
        and transfer_status(r.value, now) is TransactionStatus.SUCCESS
    ]


def account_balance(store: Store, fixtures: Fixtures, account_id: str, *, now: datetime) -> Decimal:
    """The live balance: the seeded one less every settled transfer out."""
    account = store.get(NS_ACCOUNT, account_id, now=now)
    if account is None:
        raise NotFound(f"account {account_id} not found")
    spent = sum(
        (
            Decimal(e["transfer"]["payload"]["amount"]["value"])
            for e in _settled_debits(store, account_id, now)
        ),
        Decimal(0),
    )
    return Decimal(account["balance"]) - spent


def balance_view(
    store: Store,
    fixtures: Fixtures,
    account: dict[str, Any],
    *,
    now: datetime,
    customer_initiated: bool,
    cache_s: int,
) -> dict[str, Any]:
    """A balance as the bank last reported it; customer-initiated calls read it afresh.

    Token.io caches what banks report and refreshes on a schedule (seed: "TokenOS will
    sometimes cache data ... customerInitiated bypasses the TokenOS cache").
    """
    # The cache record expires by the app clock, so moving time refreshes it too.
    cached = store.get(NS_BALANCE, account["id"], now=now)
    if cached is None or customer_initiated:
        value = account_balance(store, fixtures, account["id"], now=now)
        cached = {"value": str(value), "updatedAtMs": str(ms(now))}
        store.put(
            NS_BALANCE, account["id"], cached, now=now, expires_at=now + timedelta(seconds=cache_s)
        )
    amount = money(Decimal(cached["value"]), account["currency"])
    return {
        "accountId": account["id"],
        "current": amount,
        "available": amount,
        "updatedAtMs": cached["updatedAtMs"],
        "otherBalances": [],
    }


def transactions(store: Store, account: dict[str, Any], *, now: datetime) -> list[dict[str, Any]]:
    """Seeded history plus settled transfers out, newest first."""
    history = (store.get(NS_HISTORY, account["id"], now=now) or {"items": []})["items"]
    made = [
        {
            "id": e["transfer"]["transactionId"],
            "type": "DEBIT",
            "status": "SUCCESS",
            "amount": money(
                Decimal(e["transfer"]["payload"]["amount"]["value"]),
                e["transfer"]["payload"]["amount"]["currency"],
            ),
            "description": e["transfer"]["payload"].get("description", ""),
            "tokenId": e["tokenId"],
            "tokenTransferId": e["transfer"]["id"],
            "createdAtMs": str(int(e["createdAtMs"]) + TRANSFER_SETTLE_S * 1000),
            "metadata": {},
        }
        for e in _settled_debits(store, account["id"], now)
    ]
    return sorted(made + history, key=lambda t: -int(t["createdAtMs"]))


def transactions_page(
    store: Store,
    account: dict[str, Any],
    offset: str,
    limit: str,
    start_date: str,
    end_date: str,
    *,
    now: datetime,
) -> dict[str, Any]:
    """``GET /accounts/<id>/transactions`` with paging and an optional date range."""
    start, count = _page(offset, limit)
    items = transactions(store, account, now=now)
    low, high = _date(start_date, "startDate"), _date(end_date, "endDate")
    if low or high:
        items = [t for t in items if (not low or _day(t) >= low) and (not high or _day(t) <= high)]
    page = _paged("transactions", items, start, count)
    page["status"] = "SUCCESSFUL_REQUEST"
    return page


def _day(transaction: dict[str, Any]) -> date:
    from datetime import UTC

    return datetime.fromtimestamp(int(transaction["createdAtMs"]) / 1000, tz=UTC).date()


def _date(text: str, where: str) -> date | None:
    if text in ("", "undefined"):
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InvalidArgument(f"{where} must be a date like 2019-01-31") from None


# -- access tokens ---------------------------------------------------------------------------
def access_grant(store: Store, caller: str, token_id: str, *, now: datetime) -> dict[str, Any]:
    """The access token named by ``on-behalf-of``, checked for the caller, state and expiry."""
    record = store.get(NS_TOKEN, token_id, now=now)
    if record is None or record["type"] != "ACCESS":
        raise PermissionDenied(f"{token_id} is not an access token")
    if record["toMemberId"] != caller:
        raise PermissionDenied(f"access token {token_id} was granted to another member")
    if is_cancelled(record):
        raise PermissionDenied(f"access token {token_id} has been cancelled")
    if is_expired(record, now):
        raise PermissionDenied(f"access token {token_id} has expired")
    return record


def allows(grant: dict[str, Any] | None, kind: str, account: dict[str, Any]) -> bool:
    """Whether an access token covers `kind` (account, balance, ...) for this account."""
    if grant is None:
        return False
    everything = _ALL_RESOURCE.get(kind)
    for resource in grant["token"]["payload"]["access"]["resources"]:
        if everything and everything in resource:
            return True
        at_bank = resource.get(f"{everything}AtBank") if everything else None
        if isinstance(at_bank, dict) and at_bank.get("bankId") == account["bankId"]:
            return True
        if kind in resource and resource[kind].get("accountId") == account["id"]:
            return True
    return False


def visible_accounts(
    store: Store, caller: str, grant: dict[str, Any] | None, *, now: datetime
) -> list[dict[str, Any]]:
    """The caller's own accounts, or those an access token shows."""
    # Only seeded payer accounts exist; a TPP member owns none.
    accounts = [r.value for r in store.records(NS_ACCOUNT)]
    if grant is None:
        return [a for a in accounts if a["memberId"] == caller]
    return [a for a in accounts if allows(grant, "account", a)]


def checked_account(
    store: Store,
    caller: str,
    grant: dict[str, Any] | None,
    account_id: str,
    kind: str,
    *,
    now: datetime,
) -> dict[str, Any]:
    """An account the caller may read `kind` of; 403 PERMISSION_DENIED otherwise."""
    account = store.get(NS_ACCOUNT, account_id, now=now)
    if account is None:
        raise NotFound(f"account {account_id} not found")
    if grant is None:
        if account["memberId"] != caller:
            raise PermissionDenied(
                f"account {account_id} is not the caller's; use an access token (on-behalf-of)"
            )
        return account
    if not allows(grant, kind, account):
        raise PermissionDenied(
            f"access token {grant['token']['id']} does not grant {kind} of {account_id}"
        )
    return account


def confirm_funds(
    store: Store, fixtures: Fixtures, account: dict[str, Any], body: Any, *, now: datetime
) -> bool:
    """Whether the account's live balance covers the amount."""
    body = _object(body, "body", required=True)
    amount_obj = _object(body.get("amount"), "amount", required=True)
    amount = parse_amount(amount_obj.get("value"), "amount.value")
    currency = _currency(amount_obj.get("currency"), "amount.currency")
    if currency != account["currency"]:
        raise InvalidArgument(f"account {account['id']} holds {account['currency']}")
    return account_balance(store, fixtures, account["id"], now=now) >= amount


def magic_values() -> dict[str, Any]:
    """The model bank's amount table (``/_mockbank/magic-values``)."""
    return {
        "transfer_amounts": {str(k): v.value for k, v in MAGIC_AMOUNTS.items()},
        "transfer_settles_after_s": TRANSFER_SETTLE_S,
        "other_amounts": "SUCCESS, or FAILURE_INSUFFICIENT_FUNDS above the account balance",
        "token_request_ttl_s": REQUEST_TTL_S,
        "ref_id_max_length": REF_ID_MAX,
    }
