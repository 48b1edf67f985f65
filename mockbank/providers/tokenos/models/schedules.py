"""Dates in token requests: future-dated transfers (``executionDate``) and standing orders.

A future-dated transfer is redeemed at once but executes at 00:00 UTC on its execution date by
the app clock; until then it is PROCESSING and spends nothing from the account. A standing
order body carries ``amount``, ``currency``, ``frequency`` (ISO 20022: DAIL, WEEK, TOWK, MNTH,
TOMN, QUTR, SEMI, YEAR), ``startDate`` and an optional ``endDate``.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time
from typing import Any

from mockbank.providers.tokenos.errors import InvalidArgument
from mockbank.providers.tokenos.models.common import (
    currency_field,
    is_text,
    object_field,
    parse_amount,
    text_field,
)

FREQUENCIES = ("DAIL", "WEEK", "TOWK", "MNTH", "TOMN", "QUTR", "SEMI", "YEAR")


def parse_date(value: Any, where: str) -> date:
    """An ISO 8601 calendar date ``YYYY-MM-DD``."""
    if not is_text(value) or not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        raise InvalidArgument(f"{where} must be a date as YYYY-MM-DD", field=where)
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InvalidArgument(f"{where} {value!r} is not a calendar date", field=where) from None


def check_execution_date(body: dict[str, Any], where: str, *, now: datetime) -> None:
    """``transferBody.executionDate``, when given: a date not before today (UTC, app clock)."""
    value = body.get("executionDate")
    if value in (None, ""):
        return
    if parse_date(value, f"{where}.executionDate") < now.astimezone(UTC).date():
        raise InvalidArgument(f"{where}.executionDate {value} is in the past")


def execution_ms(value: Any) -> int | None:
    """Epoch milliseconds of 00:00 UTC on an execution date (None without one)."""
    if not is_text(value) or not value:
        return None
    moment = datetime.combine(date.fromisoformat(value), time(0), tzinfo=UTC)
    return int(moment.timestamp() * 1000)


def check_standing_order_body(body: Any, where: str, *, now: datetime) -> dict[str, Any]:
    """Validate a ``standingOrderBody``; answers it unchanged."""
    checked = object_field(body, where, required=True)
    body = checked
    parse_amount(body.get("amount"), f"{where}.amount")
    currency_field(body.get("currency"), f"{where}.currency")
    frequency = text_field(body.get("frequency"), f"{where}.frequency") or ""
    if frequency not in FREQUENCIES:
        raise InvalidArgument(f"{where}.frequency must be one of {', '.join(FREQUENCIES)}")
    start = parse_date(body.get("startDate"), f"{where}.startDate")
    if start < now.astimezone(UTC).date():
        raise InvalidArgument(f"{where}.startDate {start} is in the past")
    if body.get("endDate") not in (None, ""):
        end = parse_date(body.get("endDate"), f"{where}.endDate")
        if end < start:
            raise InvalidArgument(f"{where}.endDate is before {where}.startDate")
    text_field(body.get("remittanceReference"), f"{where}.remittanceReference", required=False)
    instructions = object_field(body.get("instructions"), f"{where}.instructions")
    destinations = instructions.get("transferDestinations")
    if destinations is not None and (
        not isinstance(destinations, list) or not all(isinstance(d, dict) for d in destinations)
    ):
        raise InvalidArgument(f"{where}.instructions.transferDestinations must be a list")
    return checked


def standing_order_terms(body: dict[str, Any], payer_id: str, account_id: str) -> dict[str, Any]:
    """The token's ``standingOrder``: the body, paid from the chosen account."""
    instructions = dict(body.get("instructions") or {})
    instructions["source"] = {"account": {"token": {"memberId": payer_id, "accountId": account_id}}}
    instructions.setdefault("transferDestinations", [])
    terms = {k: v for k, v in body.items() if k != "instructions" and v not in (None, "")}
    terms["amount"] = str(body["amount"])
    terms["instructions"] = instructions
    return terms
