"""Smart tokens, the transfers redeemed from them, and the refIds that deduplicate those."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Self

NS_TOKEN = "tokenos.token"
NS_TRANSFER = "tokenos.transfer"
NS_TRANSFER_REF = "tokenos.transfer_ref"


@dataclass(frozen=True)
class StoredToken:
    """A token: the endorsed ``Token`` message as issued (signatures appended on cancel), its
    type, the parties, and the transfers spent from it so far."""

    token: dict[str, Any]
    type: str
    to_member_id: str
    from_member_id: str
    created_at_ms: int
    transfers: tuple[dict[str, Any], ...] = ()  # {"id", "amount", "createdAtMs", "outcome"}

    def to_value(self) -> dict[str, Any]:
        return {
            "token": self.token,
            "type": self.type,
            "toMemberId": self.to_member_id,
            "fromMemberId": self.from_member_id,
            "transfers": list(self.transfers),
            "createdAtMs": str(self.created_at_ms),
        }

    @classmethod
    def from_value(cls, value: dict[str, Any]) -> Self:
        return cls(
            token=dict(value["token"]),
            type=str(value["type"]),
            to_member_id=str(value["toMemberId"]),
            from_member_id=str(value["fromMemberId"]),
            created_at_ms=int(value["createdAtMs"]),
            transfers=tuple(value.get("transfers") or ()),
        )


@dataclass(frozen=True)
class Transfer:
    """A transfer: the ``Transfer`` message, who and what it pays, and its settled outcome
    (read as PROCESSING until the clock passes its settle time)."""

    transfer: dict[str, Any]
    token_id: str
    to_member_id: str
    from_member_id: str
    source_account_id: str
    created_at_ms: int
    outcome: str
    executes_at_ms: int | None = None  # future-dated: settles on this day

    def to_value(self) -> dict[str, Any]:
        value: dict[str, Any] = {
            "transfer": self.transfer,
            "tokenId": self.token_id,
            "toMemberId": self.to_member_id,
            "fromMemberId": self.from_member_id,
            "sourceAccountId": self.source_account_id,
            "createdAtMs": str(self.created_at_ms),
            "outcome": self.outcome,
        }
        if self.executes_at_ms is not None:
            value["executesAtMs"] = str(self.executes_at_ms)
        return value

    @classmethod
    def from_value(cls, value: dict[str, Any]) -> Self:
        executes = value.get("executesAtMs")
        return cls(
            transfer=dict(value["transfer"]),
            token_id=str(value["tokenId"]),
            to_member_id=str(value["toMemberId"]),
            from_member_id=str(value["fromMemberId"]),
            source_account_id=str(value["sourceAccountId"]),
            created_at_ms=int(value["createdAtMs"]),
            outcome=str(value["outcome"]),
            executes_at_ms=int(executes) if executes else None,
        )


@dataclass(frozen=True)
class TransferRef:
    """The transfer a (token, refId) pair made: a retry with the same refId gets it back."""

    transfer_id: str

    def to_value(self) -> dict[str, Any]:
        return {"transferId": self.transfer_id}

    @classmethod
    def from_value(cls, value: dict[str, Any]) -> Self:
        return cls(transfer_id=str(value["transferId"]))
