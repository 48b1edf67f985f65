"""The REST API's admin side: its part of ``fixtures/quickstream.json`` (API keys and Trusted
Frame origins), its state view, dashboard items and credentials.

Read and validated when the app is built (and on every reset), never per request. The REST
settings live in their own top-level ``restApi`` object so the facility objects stay QuickWeb's.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, fields
from enum import StrEnum
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from mockbank.fixtures import FixtureReader
from mockbank.masking import mask_value
from mockbank.providers.quickstream.models.common import QuickStreamFixtures
from mockbank.providers.quickstream.rest.records import (
    NS_ACCOUNT,
    NS_CUSTOMER,
    NS_IDEMPOTENCY,
    NS_TOKEN,
    NS_TRANSACTION,
    IdempotencyEntry,
    Transaction,
)

if TYPE_CHECKING:
    from mockbank.state import State

# Westpac's keys look like FACILITYCODE_SEC_<random> and FACILITYCODE_PUB_<random>.
KEY_SHAPE = re.compile(r"[A-Z0-9]+_(SEC|PUB)_[A-Za-z0-9]+")
# An allowed framing origin: scheme://host[:port], the port may be "*" (any).
ORIGIN_PATTERN = re.compile(r"(https?)://(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+)(?::(\*|[0-9]{1,5}))?")
DEFAULT_FRAME_ORIGINS = ("http://127.0.0.1:*", "http://localhost:*")


class KeyType(StrEnum):
    """A secret key is for the merchant's server; a publishable key may be put in a page."""

    SECRET = "SECRET"
    PUBLISHABLE = "PUBLISHABLE"


@dataclass(frozen=True)
class ApiKey:
    """One REST API key: the facility (by username) it opens, its name and type."""

    key: str
    name: str
    key_type: KeyType
    facility: str


@dataclass(frozen=True)
class RestSettings:
    """API keys and the origins allowed to frame the Trusted Frame."""

    keys: tuple[ApiKey, ...]
    frame_origins: tuple[str, ...]

    def keys_of(self, facility: str) -> list[ApiKey]:
        """The keys of one facility (for the banner and the dashboard)."""
        return [k for k in self.keys if k.facility == facility]


@dataclass(frozen=True)
class Fixtures(QuickStreamFixtures):
    """QuickWeb's fixtures plus the REST API's settings (QuickWeb code sees its own type)."""

    rest: RestSettings = RestSettings((), DEFAULT_FRAME_ORIGINS)


def _read_keys(reader: FixtureReader, facilities: QuickStreamFixtures) -> tuple[ApiKey, ...]:
    keys: list[ApiKey] = []
    seen: set[str] = set()
    usernames = {f.username for f in facilities.facilities}
    if reader.get("restApi.keys", list, default=None) is None:
        return ()
    for where, node in reader.items("restApi.keys"):
        if not isinstance(node, dict):
            raise reader.fail(where, "expected an object")
        key = reader.get("key", str, node=node)
        match = KEY_SHAPE.fullmatch(key)
        if match is None:
            raise reader.fail(f"{where}.key", "expected FACILITY_SEC_<letters> or _PUB_<letters>")
        if key in seen:
            raise reader.fail(f"{where}.key", "duplicate key")
        seen.add(key)
        key_type = reader.get("type", str, node=node)
        if key_type not in KeyType.__members__:
            raise reader.fail(f"{where}.type", "expected SECRET or PUBLISHABLE")
        if (match.group(1) == "SEC") != (key_type == KeyType.SECRET):
            raise reader.fail(
                f"{where}.type", f"{key_type} does not match the key's _{match.group(1)}_"
            )
        facility = reader.get("facility", str, node=node)
        if facility not in usernames:
            raise reader.fail(f"{where}.facility", f"no facility with username {facility!r}")
        name = reader.get("name", str, node=node, default=key_type.title() + " key")
        keys.append(ApiKey(key, name, KeyType(key_type), facility))
    return tuple(keys)


def _read_origins(reader: FixtureReader) -> tuple[str, ...]:
    origins = reader.get("restApi.trustedFrameOrigins", list, default=None)
    if origins is None:
        return DEFAULT_FRAME_ORIGINS
    for index, origin in enumerate(origins):
        if not isinstance(origin, str) or ORIGIN_PATTERN.fullmatch(origin) is None:
            raise reader.fail(
                f"restApi.trustedFrameOrigins.{index}",
                f"expected an origin such as https://shop.example or http://127.0.0.1:*, "
                f"got {origin!r}",
            )
    return tuple(origins)


def with_rest(reader: FixtureReader, base: QuickStreamFixtures) -> Fixtures:
    """QuickWeb's fixtures (`base`, already read) with the ``restApi`` object added."""
    reader.get("restApi", dict, default={})
    rest = RestSettings(_read_keys(reader, base), _read_origins(reader))
    # Every field QuickWeb's loader filled is carried over, whatever QuickWeb adds later.
    carried = {f.name: getattr(base, f.name) for f in fields(base)}
    return Fixtures(**carried, rest=rest)


def origin_allowed(origin: str, allowed: tuple[str, ...]) -> bool:
    """Whether a page at `origin` (scheme://host[:port]) may frame the Trusted Frame."""
    try:
        parts = urlsplit(origin)
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        return False
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.path:
        return False
    for pattern in allowed:
        match = ORIGIN_PATTERN.fullmatch(pattern)
        if match is None:
            continue
        scheme, host, want_port = match.groups()
        if scheme != parts.scheme or host.strip("[]").lower() != parts.hostname.lower():
            continue
        default = 443 if scheme == "https" else 80
        if want_port in ("*", str(port)) or (want_port is None and port == default):
            return True
    return False


def _transaction_view(value: dict[str, Any]) -> dict[str, Any]:
    txn = Transaction.from_value(value)
    return {
        "receiptNumber": txn.receipt_number,
        "transactionType": txn.transaction_type.value,
        "status": txn.status.value,
        "responseCode": txn.response_code,
        "amount": f"{txn.currency} {(txn.principal + txn.surcharge) / 100:.2f}",
        "account": txn.account.card.masked
        if txn.account.card
        else (txn.account.bank.masked_number if txn.account.bank else ""),
        "parentReceiptNumber": txn.parent_receipt_number,
        "refunded": f"{txn.refunded / 100:.2f}",
        "voided": txn.voided,
        "captured": f"{txn.captured / 100:.2f}",
        "facility": txn.facility,
        "createdAt": txn.created,
    }


def state_view(state: State) -> dict[str, Any]:
    """REST transactions, customers, accounts, single-use tokens and idempotency keys."""
    now = state.now()
    store = state.store
    keys = []
    for record in store.records(NS_IDEMPOTENCY):
        entry = IdempotencyEntry.from_value(record.value)
        keys.append(
            {
                "key": entry.key,
                "facility": entry.facility,
                "state": "answered" if entry.done else "processing",
                "responseStatus": entry.response_status,
                "receiptNumber": entry.receipt_number,
                "createdAt": entry.created,
                "expiresAt": record.expires_at.isoformat() if record.expires_at else None,
            }
        )
    return {
        "restTransactions": [_transaction_view(r.value) for r in store.records(NS_TRANSACTION)],
        "restCustomers": [mask_value(r.value) for r in store.records(NS_CUSTOMER)],
        "restAccounts": [mask_value(r.value) for r in store.records(NS_ACCOUNT)],
        "restSingleUseTokens": [
            {
                # A live token is a bearer secret: only its first characters are shown.
                "singleUseTokenId": r.key[:6] + "…",
                "status": "used" if r.used else "expired" if r.expired(now) else "active",
                "accountType": "CREDIT_CARD" if r.value["account"].get("card") else "DIRECT_DEBIT",
                "createdAt": r.created_at.isoformat(),
            }
            for r in store.records(NS_TOKEN)
        ],
        "idempotencyKeys": keys,
    }


def dashboard(state: State) -> list[dict[str, str]]:
    """The latest REST transactions and idempotency keys for the dashboard card."""
    items: list[dict[str, str]] = []
    for record in state.store.records(NS_TRANSACTION)[-5:]:
        view = _transaction_view(record.value)
        items.append(
            {
                "label": f"REST {view['transactionType']} {view['receiptNumber']} {view['status']}",
                "detail": f"{view['amount']} {view['responseCode']} {view['account']}",
            }
        )
    for record in state.store.records(NS_CUSTOMER)[-3:]:
        items.append(
            {"label": f"REST customer {record.key}", "detail": record.value["customerNumber"]}
        )
    for record in state.store.records(NS_IDEMPOTENCY)[-3:]:
        entry = IdempotencyEntry.from_value(record.value)
        items.append(
            {
                "label": f"Idempotency-Key {entry.key[:24]}",
                "detail": f"receipt {entry.receipt_number or '-'} "
                + ("(answered)" if entry.done else "(processing)"),
            }
        )
    return items


def credentials(fixtures: object) -> list[tuple[str, str]]:
    """The seeded REST API keys (key as the Basic username, blank password)."""
    if not isinstance(fixtures, Fixtures):
        return []
    return [
        (f"REST API {key.key_type.value.lower()} key ({key.name})", key.key)
        for key in fixtures.rest.keys
    ]
