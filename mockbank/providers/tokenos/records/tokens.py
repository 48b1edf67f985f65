"""Smart tokens, the transfers redeemed from them, and the refIds that deduplicate those."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from mockbank.records import Record, Stored

NS_TOKEN = "tokenos.token"
NS_TRANSFER = "tokenos.transfer"
NS_TRANSFER_REF = "tokenos.transfer_ref"


@dataclass(frozen=True)
class TokenTransfer(Record):
    """A transfer as its token counts it against the lifetime amount (see `Transfer`)."""

    id: str
    amount: str
    created_at_ms: Annotated[int, Stored(text=True)]
    outcome: str
    # future-dated: settles on this day
    executes_at_ms: Annotated[int | None, Stored(text=True, omit=True)] = None


@dataclass(frozen=True)
class StoredToken(Record):
    """A token: the endorsed ``Token`` message as issued (signatures appended on cancel), its
    type, the parties, and the transfers spent from it so far."""

    token: dict[str, Any]
    type: str
    to_member_id: str
    from_member_id: str
    created_at_ms: Annotated[int, Stored(text=True)]
    transfers: tuple[TokenTransfer, ...] = ()


@dataclass(frozen=True)
class Transfer(Record):
    """A transfer: the ``Transfer`` message, who and what it pays, and its settled outcome
    (read as PROCESSING until the clock passes its settle time)."""

    transfer: dict[str, Any]
    token_id: str
    to_member_id: str
    from_member_id: str
    source_account_id: str
    created_at_ms: Annotated[int, Stored(text=True)]
    outcome: str
    # future-dated: settles on this day
    executes_at_ms: Annotated[int | None, Stored(text=True, omit=True)] = None


@dataclass(frozen=True)
class TransferRef(Record):
    """The transfer a (token, refId) pair made: a retry with the same refId gets it back."""

    transfer_id: str
