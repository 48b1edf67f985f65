"""Standing orders: redeeming a standing order token into a submission, and the standing order
the bank then holds.

``POST /standing-order-submissions {tokenId}`` (SDK ``redeemStandingOrderToken``) makes one
submission per token (a repeat answers the same submission): PROCESSING for 5 s of app clock,
then SUCCESS, when the payer's account lists the standing order as ACTIVE (until its end date,
then INACTIVE). A cancelled or expired token, or a token of another member, makes none.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from datetime import UTC, datetime, time, timedelta
from typing import Any

from mockbank.clients.tokenos import base58
from mockbank.providers.tokenos.errors import (
    FailedPrecondition,
    InvalidArgument,
    NotFound,
    PermissionDenied,
)
from mockbank.providers.tokenos.models.common import (
    TOKEN_SUFFIX,
    TRANSFER_SETTLE_S,
    ms,
    object_field,
    page_window,
    paged,
    text_field,
)
from mockbank.providers.tokenos.models.schedules import parse_date
from mockbank.providers.tokenos.models.tokens import is_cancelled, is_expired, token_record
from mockbank.providers.tokenos.records.standing_orders import (
    NS_SUBMISSION,
    NS_SUBMISSION_OF_TOKEN,
    Submission,
    SubmissionOfToken,
)
from mockbank.store import Store


def submission_status(entry: Mapping[str, Any], now: datetime) -> str:
    """PROCESSING for 5 s of app clock, then SUCCESS."""
    settled = int(entry["createdAtMs"]) + TRANSFER_SETTLE_S * 1000
    return "PROCESSING" if ms(now) < settled else "SUCCESS"


def settles_at(entry: Mapping[str, Any]) -> datetime:
    """When a submission leaves PROCESSING."""
    created = datetime.fromtimestamp(int(entry["createdAtMs"]) / 1000, tz=UTC)
    return created + timedelta(seconds=TRANSFER_SETTLE_S)


def submission_view(entry: Mapping[str, Any], now: datetime) -> dict[str, Any]:
    """The ``StandingOrderSubmission`` message as of `now`."""
    view = {k: v for k, v in entry.items() if k not in ("toMemberId", "fromMemberId")}
    view["status"] = submission_status(entry, now)
    return view


def redeem_standing_order(
    store: Store, caller: str, body: Any, *, now: datetime
) -> tuple[dict[str, Any], bool]:
    """``POST /standing-order-submissions``: (the submission, whether it is new)."""
    body = object_field(body, "body", required=True)
    token_id = text_field(body.get("tokenId"), "tokenId") or ""
    record = token_record(store, token_id, now=now)
    if record.to_member_id != caller:
        raise PermissionDenied(f"token {token_id} can only be redeemed by its payee")
    if record.type != "STANDING_ORDER":
        raise InvalidArgument(f"token {token_id} is not a standing order token")
    if is_cancelled(record):
        raise FailedPrecondition(f"token {token_id} has been cancelled")
    if is_expired(record, now):
        raise FailedPrecondition(f"token {token_id} has expired")
    digest = hashlib.sha256(f"{token_id}:standing-order".encode()).digest()
    submission_id = f"so:{base58(digest)}{TOKEN_SUFFIX}"
    terms = record.token["payload"]["standingOrder"]
    entry = Submission(
        id=submission_id,
        token_id=token_id,
        standing_order_id=submission_id.replace("so:", "sto:", 1),
        created_at_ms=ms(now),
        payload=terms,
        to_member_id=caller,
        from_member_id=record.from_member_id,
    ).to_value()
    # One submission per token, decided atomically (concurrent redemptions make one).
    claim = SubmissionOfToken(submission_id).to_value()
    if not store.add(NS_SUBMISSION_OF_TOKEN, token_id, claim, now=now):
        existing = store.get(NS_SUBMISSION, submission_id, now=now)
        if existing is None:
            raise FailedPrecondition("the standing order is being submitted; retry")
        return submission_view(existing, now), False
    store.put(NS_SUBMISSION, submission_id, entry, now=now)
    return submission_view(entry, now), True


def get_submission(
    store: Store, caller: str, submission_id: str, *, now: datetime
) -> dict[str, Any]:
    """``GET /standing-order-submissions/<id>``."""
    entry = store.get(NS_SUBMISSION, submission_id, now=now)
    if entry is None:
        raise NotFound(f"standing order submission {submission_id} not found")
    if caller not in (entry["toMemberId"], entry["fromMemberId"]):
        raise PermissionDenied(f"standing order submission {submission_id} is another member's")
    return submission_view(entry, now)


def list_submissions(
    store: Store, caller: str, offset: str, limit: str, *, now: datetime
) -> dict[str, Any]:
    """``GET /standing-order-submissions``: the caller's submissions, oldest first."""
    start, count = page_window(offset, limit)
    items = [
        submission_view(r.value, now)
        for r in store.records(NS_SUBMISSION)
        if caller in (r.value["toMemberId"], r.value["fromMemberId"])
    ]
    return paged("submissions", items, start, count)


def _standing_order(entry: Mapping[str, Any], now: datetime) -> dict[str, Any] | None:
    """The ``StandingOrder`` an account holds once the submission succeeded."""
    if submission_status(entry, now) != "SUCCESS":
        return None
    terms = entry["payload"]
    status = "ACTIVE"
    if terms.get("endDate"):
        end = datetime.combine(parse_date(terms["endDate"], "endDate"), time.max, tzinfo=UTC)
        status = "ACTIVE" if now <= end else "INACTIVE"
    destinations = (terms.get("instructions") or {}).get("transferDestinations") or []
    order: dict[str, Any] = {
        "id": entry["standingOrderId"],
        "tokenId": entry["tokenId"],
        "tokenSubmissionId": entry["id"],
        "createdAtMs": entry["createdAtMs"],
        "status": status,
        "frequency": terms["frequency"],
        "amount": {"value": terms["amount"], "currency": terms["currency"]},
        "startDate": terms["startDate"],
    }
    if terms.get("endDate"):
        order["endDate"] = terms["endDate"]
    if destinations:
        order["creditorEndpoint"] = {"account": destinations[0]}
    return order


def account_standing_orders(
    store: Store, account_id: str, *, now: datetime
) -> list[dict[str, Any]]:
    """The standing orders paid from an account."""
    orders = []
    for record in store.records(NS_SUBMISSION):
        source = record.value["payload"]["instructions"]["source"]["account"]["token"]
        if source["accountId"] == account_id:
            order = _standing_order(record.value, now)
            if order is not None:
                orders.append(order)
    return orders
