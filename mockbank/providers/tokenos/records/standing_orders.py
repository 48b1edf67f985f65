"""Standing order submissions: one per standing order token."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Self

NS_SUBMISSION = "tokenos.so_submission"
NS_SUBMISSION_OF_TOKEN = "tokenos.so_submission_of_token"


@dataclass(frozen=True)
class Submission:
    """A submitted standing order: its terms (the token's ``standingOrder``) and parties."""

    id: str
    token_id: str
    standing_order_id: str
    created_at_ms: int
    payload: dict[str, Any]
    to_member_id: str
    from_member_id: str

    def to_value(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "tokenId": self.token_id,
            "standingOrderId": self.standing_order_id,
            "createdAtMs": str(self.created_at_ms),
            "payload": self.payload,
            "toMemberId": self.to_member_id,
            "fromMemberId": self.from_member_id,
        }

    @classmethod
    def from_value(cls, value: dict[str, Any]) -> Self:
        return cls(
            id=str(value["id"]),
            token_id=str(value["tokenId"]),
            standing_order_id=str(value["standingOrderId"]),
            created_at_ms=int(value["createdAtMs"]),
            payload=dict(value["payload"]),
            to_member_id=str(value["toMemberId"]),
            from_member_id=str(value["fromMemberId"]),
        )


@dataclass(frozen=True)
class SubmissionOfToken:
    """The submission a standing order token made (claimed atomically: one per token)."""

    id: str

    def to_value(self) -> dict[str, Any]:
        return {"id": self.id}

    @classmethod
    def from_value(cls, value: dict[str, Any]) -> Self:
        return cls(id=str(value["id"]))
