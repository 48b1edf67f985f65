"""Smart tokens, the transfers redeemed from them, and the refIds that deduplicate those."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from mockbank.records import Record, Stored

NS_TOKEN = "tokenos.token"
NS_TRANSFER = "tokenos.transfer"
NS_TRANSFER_REF = "tokenos.transfer_ref"


@dataclass(frozen=True, kw_only=True)
class Settling(Record):
    """When a transfer was made, the outcome decided then and, future-dated, the day it settles
    on: what its status on the app clock is read from, kept on the transfer and on its token."""

    created_at_ms: Annotated[int, Stored(text=True)]
    outcome: str
    executes_at_ms: Annotated[int | None, Stored(text=True, omit=True)] = None


@dataclass(frozen=True, kw_only=True)
class TokenTransfer(Settling):
    """A transfer as its token counts it against the lifetime amount (see `Transfer`)."""

    id: str
    amount: str


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


@dataclass(frozen=True, kw_only=True)
class Transfer(Settling):
    """A transfer: the ``Transfer`` message, who and what it pays, and its settled outcome
    (read as PROCESSING until the clock passes its settle time)."""

    transfer: dict[str, Any]
    token_id: str
    to_member_id: str
    from_member_id: str
    source_account_id: str


@dataclass(frozen=True)
class TransferRef(Record):
    """The transfer a (token, refId) pair made: a retry with the same refId gets it back."""

    transfer_id: str
