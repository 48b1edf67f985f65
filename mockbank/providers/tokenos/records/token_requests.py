"""Token requests and the answers to them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from mockbank.records import Record, Stored

NS_REQUEST = "tokenos.request"
NS_RESULT = "tokenos.request_result"


@dataclass(frozen=True)
class TokenRequest(Record):
    """A stored token request: the ``requestPayload`` and ``requestOptions`` as sent (the payee
    filled in), and its kind (TRANSFER, ACCESS or STANDING_ORDER)."""

    id: str
    member_id: str
    payload: Annotated[dict[str, Any], Stored(key="requestPayload")]
    options: Annotated[dict[str, Any], Stored(key="requestOptions")]
    created_at_ms: Annotated[int, Stored(text=True)]
    kind: str


@dataclass(frozen=True)
class RequestResult(Record):
    """How the payer answered: PROCESSED (with the token and Token's signature) or REJECTED."""

    status: str
    token_id: Annotated[str | None, Stored(omit=True)] = None
    signature: Annotated[dict[str, str] | None, Stored(omit=True)] = None
