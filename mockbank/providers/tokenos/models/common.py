"""Shared TokenOS model pieces: record namespaces, limits, statuses, field parsing, paging."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any, TypeGuard

from mockbank.clients.tokenos import RawNumber, base58
from mockbank.providers.tokenos.errors import InvalidArgument

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
TYPE_RESOURCE = {
    "ACCOUNTS": "account",
    "BALANCES": "balance",
    "TRANSACTIONS": "transactions",
    "TRANSFER_DESTINATIONS": "transferDestinations",
    "FUNDS_CONFIRMATIONS": "fundsConfirmation",
    "STANDING_ORDERS": "standingOrders",
}
ALL_RESOURCE = {
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


def ms(now: datetime) -> int:
    """Milliseconds since the epoch, as TokenOS timestamps are."""
    return int(now.timestamp() * 1000)


def text_field(value: Any, where: str, *, required: bool = True, limit: int = 1000) -> str | None:
    """A string field (optional unless `required`), at most `limit` characters."""
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


def object_field(value: Any, where: str, *, required: bool = False) -> dict[str, Any]:
    """A JSON object field; absent means ``{}`` unless `required`."""
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


def currency_field(value: Any, where: str) -> str:
    """A 3-letter ISO 4217 currency code."""
    if not is_text(value) or not CURRENCY.match(value):
        raise InvalidArgument(f"{where} must be a 3-letter ISO 4217 code", field=where)
    return value


def ref_id_field(value: Any, where: str) -> str | None:
    """An optional refId of at most 18 characters."""
    ref = text_field(value, where, required=False, limit=10_000)
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


def positive_int(text: str, where: str, *, default: int, limit: int) -> int:
    """A whole number from 1 to `limit`; empty or ``undefined`` gives `default`."""
    if text in ("", "undefined"):
        return default
    # ASCII only ("²".isdigit() is True, yet int("²") raises), and short (int() refuses
    # 4300+ digits).
    if not re.fullmatch(r"[0-9]{1,12}", text) or not 1 <= int(text) <= limit:
        raise InvalidArgument(f"{where} must be a whole number from 1 to {limit}")
    return int(text)


def page_window(offset: str, limit: str) -> tuple[int, int]:
    # The SDK sends the literal text "undefined" for an offset it was not given.
    """(start, count) from an opaque offset and a limit."""
    start = 0 if offset in ("", "undefined", "null") else -1
    if start == -1:
        if not re.fullmatch(r"[0-9]{1,12}", offset):
            raise InvalidArgument("offset must be an offset returned by a previous page")
        start = int(offset)
    count = positive_int(limit, "limit", default=100, limit=1000)
    return start, count


def paged(name: str, items: list[Any], start: int, count: int) -> dict[str, Any]:
    """One page of `items` under `name`, with the next offset while more remain."""
    chunk = items[start : start + count]
    result: dict[str, Any] = {name: chunk}
    if start + count < len(items):
        result["offset"] = str(start + count)
    return result
