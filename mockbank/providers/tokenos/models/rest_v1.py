"""The current API reference's v1 REST calls: token request results with a status, token lists.

``GET /token-requests/{id}/result`` and ``GET /tokens`` with ``page.*`` and ``filter.*`` as
Token.io's OpenAPI documents them (the SDK 1.0.57 spellings stay in their own modules).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from mockbank.providers.tokenos.errors import InvalidArgument, NotFound, PermissionDenied
from mockbank.providers.tokenos.models.common import (
    page_window,
    paged,
)
from mockbank.providers.tokenos.records.standing_orders import NS_SUBMISSION_OF_TOKEN
from mockbank.providers.tokenos.records.token_requests import NS_REQUEST, NS_RESULT
from mockbank.providers.tokenos.records.tokens import NS_TOKEN, StoredToken
from mockbank.store import Store

ROLES = ("ANY", "FROM", "TO", "ISSUER")


class RequestResultStatus(StrEnum):
    """The OpenAPI's ``TokenRequestResultStatus``."""

    PENDING = "PENDING"
    PROCESSED = "PROCESSED"
    REJECTED = "REJECTED"
    EXPIRED = "EXPIRED"


def request_result_with_status(
    store: Store, caller: str, request_id: str, *, now: datetime
) -> dict[str, Any]:
    """``GET /token-requests/{id}/result``: PENDING, PROCESSED (with the token), REJECTED, EXPIRED.

    A result, once the payer answered, stays; an unanswered request past its lifetime is EXPIRED.
    """
    record = store.record(NS_REQUEST, request_id)
    if record is None:
        raise NotFound(f"token request {request_id} not found")
    request = record.value
    if request["memberId"] != caller:
        raise PermissionDenied(f"token request {request_id} belongs to another member")
    bank_id = (request.get("requestOptions") or {}).get("bankId")
    result = store.get(NS_RESULT, request_id, now=now)
    answer: dict[str, Any]
    if result is None and record.expired(now):
        answer = {
            "status": RequestResultStatus.EXPIRED.value,
            "statusReasonInformation": "The token request expired before the user answered.",
        }
    elif result is None:
        answer = {
            "status": RequestResultStatus.PENDING.value,
            "statusReasonInformation": "The user has not answered the token request yet.",
        }
    elif result["status"] == "REJECTED":
        answer = {
            "status": RequestResultStatus.REJECTED.value,
            "statusReasonInformation": "The user declined the request.",
        }
    else:
        answer = _processed(store, result, now=now)
        bank_id = answer.pop("bankId", None) or bank_id
    if bank_id:
        answer["bankId"] = bank_id
    return answer


def _processed(store: Store, result: Mapping[str, Any], *, now: datetime) -> dict[str, Any]:
    token_id = str(result["tokenId"])
    answer: dict[str, Any] = {
        "status": RequestResultStatus.PROCESSED.value,
        "tokenId": token_id,
        "signature": result["signature"],
    }
    stored = store.get(NS_TOKEN, token_id, now=now)
    if stored is not None:
        token = StoredToken.from_value(stored)
        answer["bankId"] = token.token["payload"].get("issuer", {}).get("id")
        # "present if a transfer resource is created": the first transfer of the token.
        if token.transfers:
            answer["transferId"] = token.transfers[0].id
        submission = store.get(NS_SUBMISSION_OF_TOKEN, token_id, now=now)
        if submission is not None:
            answer["standingOrderSubmissionId"] = submission["id"]
    return answer


def _ms_filter(args: Mapping[str, str], name: str) -> int | None:
    text = args.get(name, "").strip()
    if not text:
        return None
    if not re.fullmatch(r"[0-9]{1,15}", text):
        raise InvalidArgument(f"{name} must be epoch milliseconds")
    return int(text)


def _page(args: Mapping[str, str]) -> tuple[int, int]:
    # The reference's page.offset/page.limit; the SDK 1.0.57 sends offset/limit.
    offset = args.get("page.offset") or args.get("offset", "")
    limit = args.get("page.limit") or args.get("limit", "")
    try:
        return page_window(offset, limit)
    except InvalidArgument as error:
        raise InvalidArgument(error.detail.replace("offset", "page.offset", 1)) from None


def _role_matches(stored: StoredToken, caller: str, role: str) -> bool:
    payee, payer = stored.to_member_id, stored.from_member_id
    if role == "TO":
        return bool(caller == payee)
    if role == "FROM":
        return bool(caller == payer)
    if role == "ISSUER":  # the issuing bank: never a TPP or payer member
        return False
    return caller in (payee, payer)


def _account_of(token: Mapping[str, Any], side: str) -> str | None:
    body = token["payload"].get("transfer") or token["payload"].get("standingOrder") or {}
    instructions = body.get("instructions") or {}
    if side == "source":
        endpoint = (instructions.get("source") or {}).get("account") or {}
        return (endpoint.get("token") or {}).get("accountId")
    for destination in instructions.get("transferDestinations") or []:
        account = (destination.get("token") or {}).get("accountId")
        if account:
            return str(account)
    return None


@dataclass(frozen=True)
class TokenFilter:
    """The ``type`` and ``filter.*`` query parameters of ``GET /tokens``."""

    token_type: str
    role: str
    start_ms: int | None
    end_ms: int | None
    source: str
    destination: str
    acting_as: str

    @classmethod
    def parse(cls, args: Mapping[str, str]) -> TokenFilter:
        token_type = args.get("type", "").strip().upper()
        if token_type not in ("", "INVALID", "TRANSFER", "ACCESS"):
            raise InvalidArgument("type must be TRANSFER or ACCESS (or left out for both)")
        role = args.get("filter.role", "").strip().upper() or "ANY"
        if role not in ROLES:
            raise InvalidArgument(f"filter.role must be one of {', '.join(ROLES)}")
        return cls(
            token_type=token_type if token_type in ("TRANSFER", "ACCESS") else "",
            role=role,
            start_ms=_ms_filter(args, "filter.startTimeMs"),
            end_ms=_ms_filter(args, "filter.endTimeMs"),
            source=args.get("filter.sourceAccountId", "").strip(),
            destination=args.get("filter.destinationAccountId", "").strip(),
            acting_as=args.get("filter.actingAsRefId", "").strip(),
        )

    def matches(self, stored: StoredToken, caller: str) -> bool:
        """Whether a stored token passes every filter given."""
        token, created = stored.token, stored.created_at_ms
        acting = (token["payload"].get("actingAs") or {}).get("refId")
        checks = (
            not self.token_type or stored.type == self.token_type,
            _role_matches(stored, caller, self.role),
            self.start_ms is None or created >= self.start_ms,
            self.end_ms is None or created <= self.end_ms,
            not self.source or _account_of(token, "source") == self.source,
            not self.destination or _account_of(token, "destination") == self.destination,
            not self.acting_as or acting == self.acting_as,
        )
        return all(checks)


def list_tokens(store: Store, caller: str, args: Mapping[str, str]) -> dict[str, Any]:
    """``GET /tokens``: optional ``type``, ``page.*`` (or ``offset``/``limit``) and ``filter.*``."""
    wanted = TokenFilter.parse(args)
    start, count = _page(args)
    stored = (StoredToken.from_value(r.value) for r in store.records(NS_TOKEN))
    tokens = [t.token for t in stored if wanted.matches(t, caller)]
    return paged("tokens", tokens, start, count)
