"""Token requests and the answers to them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Self

NS_REQUEST = "tokenos.request"
NS_RESULT = "tokenos.request_result"


@dataclass(frozen=True)
class TokenRequest:
    """A stored token request: the ``requestPayload`` and ``requestOptions`` as sent (the payee
    filled in), and its kind (TRANSFER, ACCESS or STANDING_ORDER)."""

    id: str
    member_id: str
    payload: dict[str, Any]
    options: dict[str, Any]
    created_at_ms: int
    kind: str

    def to_value(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "memberId": self.member_id,
            "requestPayload": self.payload,
            "requestOptions": self.options,
            "createdAtMs": str(self.created_at_ms),
            "kind": self.kind,
        }

    @classmethod
    def from_value(cls, value: dict[str, Any]) -> Self:
        return cls(
            id=str(value["id"]),
            member_id=str(value["memberId"]),
            payload=dict(value["requestPayload"]),
            options=dict(value["requestOptions"]),
            created_at_ms=int(value["createdAtMs"]),
            kind=str(value["kind"]),
        )


@dataclass(frozen=True)
class RequestResult:
    """How the payer answered: PROCESSED (with the token and Token's signature) or REJECTED."""

    status: str
    token_id: str | None = None
    signature: dict[str, str] | None = None

    def to_value(self) -> dict[str, Any]:
        value: dict[str, Any] = {"status": self.status}
        if self.token_id is not None:
            value["tokenId"] = self.token_id
        if self.signature is not None:
            value["signature"] = self.signature
        return value

    @classmethod
    def from_value(cls, value: dict[str, Any]) -> Self:
        return cls(
            status=str(value["status"]),
            token_id=value.get("tokenId"),
            signature=value.get("signature"),
        )
