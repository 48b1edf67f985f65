"""Pieces shared by payments v2, VRP and refunds: fields, money, times, paging, schedules.

A resource's future is a schedule of timed status steps on the app clock (the bank answering,
the payer approving on a phone, settlement). Steps are applied when due, on read or by a sweep,
through one function per resource that also reports each change as a `StatusChange`, so webhook
delivery hangs off a single place.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, Protocol
from urllib.parse import urlsplit

from mockbank.clients.tokenos import RawNumber, base58
from mockbank.providers.tokenos.errors_v2 import FieldExpected, FieldInvalid, FieldInvalidFormat
from mockbank.store import Store

NS_PAYMENT = "tokenos.v2_payment"
NS_PAYMENT_REF = "tokenos.v2_payment_ref"
NS_VRP_CONSENT = "tokenos.vrp_consent"
NS_REFUND = "tokenos.refund"
NS_REFUND_REF = "tokenos.refund_ref"
NS_DUE = "tokenos.v2_due"  # "<namespace>|<id>" → the earliest step ahead, for the sweeps
NEXT_KEY = "next"  # in NS_DUE: the earliest of them all

REF_ID_MAX = 18  # the OpenAPI's refId: "should not exceed 18 characters"
TEXT_MAX = 1000
PAGE_MAX = 200
AMOUNT = re.compile(r"^\d{1,13}(\.\d{1,4})?$")  # "up to four digits after the decimal point"
CURRENCY = re.compile(r"^[A-Z]{3}$")


@dataclass(frozen=True)
class Step:
    """A status a resource takes at `at` (epoch seconds on the app clock).

    A firm step happens whatever anyone does next, so its webhook can be queued for its moment
    at once; a timeout is not firm (the payer may act first).
    """

    at: float
    status: str
    reason: str
    firm: bool = True

    def to_value(self) -> dict[str, Any]:
        return {"at": self.at, "status": self.status, "reason": self.reason, "firm": self.firm}

    @classmethod
    def from_value(cls, value: dict[str, Any]) -> Step:
        return cls(
            float(value["at"]), str(value["status"]), str(value["reason"]), value.get("firm", True)
        )


@dataclass(frozen=True)
class StatusChange:
    """One status change of a payment, VRP consent or refund (what a webhook reports)."""

    kind: str  # "payment", "vrp-consent", "vrp" or "refund"
    id: str
    member_id: str
    status: str
    reason: str
    at: float
    resource: Any = field(default=None, compare=False)  # the resource as of this change


class Scheduled(Protocol):
    """A resource with timed steps (payment, VRP consent, refund)."""

    @property
    def schedule(self) -> tuple[Step, ...]: ...

    def advance(self, now: float) -> tuple[Any, list[StatusChange]]: ...


def upcoming(resource: Scheduled) -> list[StatusChange]:
    """The firm steps ahead, each with the resource as it will be then."""
    found: list[StatusChange] = []
    for step in resource.schedule:
        if step.firm:
            _, changes = resource.advance(step.at)
            found.extend(c for c in changes if c.at == step.at and c.status == step.status)
    return found


def due_steps(schedule: tuple[Step, ...], now: float) -> tuple[tuple[Step, ...], tuple[Step, ...]]:
    """(steps due at `now`, steps still ahead), both in order."""
    ordered = sorted(schedule, key=lambda s: s.at)
    return tuple(s for s in ordered if s.at <= now), tuple(s for s in ordered if s.at > now)


def index_due(
    store: Store, namespace: str, key: str, schedule: tuple[Step, ...], *, now: datetime
) -> None:
    """Note when a resource's next step falls due, so sweeps read only what is due."""
    if not schedule:
        store.delete(NS_DUE, f"{namespace}|{key}")
        return
    at = min(step.at for step in schedule)
    store.put(NS_DUE, f"{namespace}|{key}", {"at": at}, now=now)
    # One record holds the earliest moment anything falls due: most requests read only it.
    if not store.add(NS_DUE, NEXT_KEY, {"at": at}, now=now):
        store.update(NS_DUE, NEXT_KEY, lambda v: {"at": min(float(v["at"]), at)}, now=now)


def due_keys(store: Store, namespace: str, *, now: datetime) -> list[str]:
    """The ids in `namespace` with a step due at `now` (cheap when nothing is due)."""
    at = now.timestamp()
    earliest = store.get(NS_DUE, NEXT_KEY, now=now)
    if earliest is None or float(earliest["at"]) > at:
        return []
    prefix = f"{namespace}|"
    entries = [(r.key, float(r.value["at"])) for r in store.records(NS_DUE) if r.key != NEXT_KEY]
    keys = [k.removeprefix(prefix) for k, t in entries if k.startswith(prefix) and t <= at]
    # What stays due elsewhere or later; the resources swept now index their next step again.
    rest = [t for k, t in entries if not (k.startswith(prefix) and t <= at)]
    if rest:
        store.put(NS_DUE, NEXT_KEY, {"at": min(rest)}, now=now)
    else:
        store.delete(NS_DUE, NEXT_KEY)
    return keys


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
