"""Pieces shared by payments v2, VRP and refunds: fields, money, times and paging.

How the resources move on the app clock is in `lifecycle`; their stored shape in `records`.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import urlsplit

from mockbank.clients.tokenos import RawNumber, base58
from mockbank.providers.tokenos.errors_v2 import FieldExpected, FieldInvalid, FieldInvalidFormat

REF_ID_MAX = 18  # the OpenAPI's refId: "should not exceed 18 characters"
TEXT_MAX = 1000
PAGE_MAX = 200
AMOUNT = re.compile(r"^\d{1,13}(\.\d{1,4})?$")  # "up to four digits after the decimal point"
CURRENCY = re.compile(r"^[A-Z]{3}$")


def iso(epoch: float) -> str:
    """An ISO 8601 instant with milliseconds, as the OpenAPI's examples write them."""
    moment = datetime.fromtimestamp(epoch, tz=UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def parse_iso(value: Any, path: str) -> float:
    """An ISO 8601 date-time (or date) as epoch seconds; naive times are UTC."""
    if not isinstance(value, str) or isinstance(value, RawNumber) or not value.strip():
        raise FieldInvalidFormat(f"{path} must be an ISO 8601 date-time", paths=[path])
    text = value.strip().replace("Z", "+00:00").replace("z", "+00:00")
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise FieldInvalidFormat(
            f"{path} must be an ISO 8601 date-time, got {value!r}", paths=[path]
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


def obj(value: Any, path: str, *, required: bool = True) -> dict[str, Any]:
    """A JSON object field."""
    if value is None:
        if required:
            raise FieldExpected(f"{path} is required", paths=[path])
        return {}
    if not isinstance(value, dict):
        raise FieldInvalidFormat(f"{path} must be an object", paths=[path])
    return value


def text(value: Any, path: str, *, required: bool = True, limit: int = TEXT_MAX) -> str | None:
    """A string field of at most `limit` characters."""
    if value is None or value == "":
        if required:
            raise FieldExpected(f"{path} is required", paths=[path])
        return None
    if not isinstance(value, str) or isinstance(value, RawNumber):
        raise FieldInvalidFormat(f"{path} must be a string", paths=[path])
    if len(value) > limit:
        raise FieldInvalidFormat(f"{path} is longer than {limit} characters", paths=[path])
    return value


def required_text(value: Any, path: str, *, limit: int = TEXT_MAX) -> str:
    """A string field that must be present."""
    found = text(value, path, limit=limit)
    assert found is not None  # text() raised otherwise
    return found


def flag(value: Any, path: str) -> bool:
    """An optional JSON boolean (absent is false)."""
    if value is None:
        return False
    if not isinstance(value, bool):
        raise FieldInvalidFormat(f"{path} must be true or false", paths=[path])
    return value


def enum(value: Any, path: str, allowed: tuple[str, ...], *, required: bool = True) -> str | None:
    """One of `allowed`."""
    found = text(value, path, required=required, limit=100)
    if found is not None and found not in allowed:
        raise FieldInvalid(f"{path} must be one of {', '.join(allowed)}", paths=[path])
    return found


def ref_id(value: Any, path: str) -> str:
    """A refId: required, at most 18 characters."""
    found = required_text(value, path, limit=10_000)
    if len(found) > REF_ID_MAX:
        raise FieldInvalidFormat(
            f"{path} is {len(found)} characters; it must not exceed {REF_ID_MAX}", paths=[path]
        )
    return found


def decimal(value: Any, path: str, *, positive: bool = True) -> Decimal:
    """An amount string with up to 4 decimals (JSON numbers accepted as their text)."""
    if value is None or value == "":
        raise FieldExpected(f"{path} is required", paths=[path])
    raw = str(value) if isinstance(value, str) else ""
    if not AMOUNT.match(raw):
        raise FieldInvalidFormat(
            f"{path} must be a decimal string with up to 4 decimals, got {value!r}", paths=[path]
        )
    try:
        amount = Decimal(raw)
    except InvalidOperation:  # pragma: no cover - the pattern already excludes this
        raise FieldInvalidFormat(f"{path} is not a number", paths=[path]) from None
    if positive and amount <= 0:
        raise FieldInvalid(f"{path} must be more than zero", paths=[path])
    return amount


def currency(value: Any, path: str) -> str:
    """An ISO 4217 code."""
    found = required_text(value, path, limit=3)
    if not CURRENCY.match(found):
        raise FieldInvalidFormat(f"{path} must be a 3-letter ISO 4217 code", paths=[path])
    return found


def money(value: Any, path: str) -> tuple[Decimal, str]:
    """An ``Amount {value, currency}``."""
    amount = obj(value, path)
    return decimal(amount.get("value"), f"{path}.value"), currency(
        amount.get("currency"), f"{path}.currency"
    )


def amount_view(value: Decimal, code: str) -> dict[str, str]:
    """An ``Amount`` with the value normalised to two or more decimals."""
    shown = value.quantize(Decimal("0.01")) if value == value.quantize(Decimal("0.01")) else value
    return {"value": str(shown), "currency": code}


def callback_url(value: Any, path: str) -> str:
    """An absolute http(s) URL (the OpenAPI asks for https; http is accepted for local TPPs)."""
    found = required_text(value, path, limit=2000)
    parts = urlsplit(found)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise FieldInvalidFormat(f"{path} must be an absolute https URL", paths=[path])
    return found


def limit_arg(args: dict[str, list[str]]) -> int:
    """``limit``: required by the OpenAPI, 1 to 200."""
    raw = (args.get("limit") or [""])[0]
    if raw == "":
        raise FieldExpected("limit is required (1 to 200)", paths=["limit"])
    if not re.fullmatch(r"[0-9]{1,6}", raw) or not 1 <= int(raw) <= PAGE_MAX:
        raise FieldInvalidFormat(
            f"limit must be a whole number from 1 to {PAGE_MAX}", paths=["limit"]
        )
    return int(raw)


def encode_offset(position: int) -> str:
    """An opaque page offset."""
    return "o" + base58(position.to_bytes(8, "big"))


def decode_offset(value: str) -> int:
    """The position an offset from `encode_offset` stands for."""
    if value in ("",):
        return 0
    alphabet = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
    body = value[1:]
    if not value.startswith("o") or not body or len(body) > 12 or set(body) - set(alphabet):
        raise FieldInvalidFormat("offset must be an offset from a previous page", paths=["offset"])
    number = 0
    for char in body:
        number = number * 58 + alphabet.index(char)
    return number


def page(items: list[Any], offset: str, limit: int) -> tuple[list[Any], dict[str, Any]]:
    """One page and its ``PageInfo {limit, offset, nextOffset, haveMore}``."""
    start = decode_offset(offset)
    chunk = items[start : start + limit]
    more = start + limit < len(items)
    info: dict[str, Any] = {"limit": limit, "haveMore": more}
    if offset or chunk:
        info["offset"] = offset or encode_offset(start)
    if more:
        info["nextOffset"] = encode_offset(start + limit)
    elif not chunk:
        info["nextOffset"] = info.get("offset", "")
    return chunk, info


def bool_arg(args: dict[str, list[str]], name: str) -> bool:
    """A ``true``/``false`` query parameter (absent is false)."""
    raw = (args.get(name) or ["false"])[0].strip().lower()
    if raw not in ("true", "false", ""):
        raise FieldInvalidFormat(f"{name} must be true or false", paths=[name])
    return raw == "true"


def list_arg(args: dict[str, list[str]], name: str) -> list[str]:
    """A repeatable query parameter; comma-separated values are split too."""
    return [part for value in args.get(name, []) for part in value.split(",") if part]


def time_arg(args: dict[str, list[str]], name: str) -> float | None:
    """An optional ISO 8601 query parameter."""
    raw = (args.get(name) or [""])[0]
    return parse_iso(raw, name) if raw else None


def pick(items: list[Any], wanted: list[str], invert: bool, key: Any) -> list[Any]:
    """Keep the items whose `key(item)` is in `wanted` (or not, with `invert`)."""
    if not wanted:
        return items
    chosen = set(wanted)
    return [i for i in items if (key(i) in chosen) != invert]
