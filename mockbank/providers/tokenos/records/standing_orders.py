"""Standing order submissions: one per standing order token."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from mockbank.records import Record, Stored

NS_SUBMISSION = "tokenos.so_submission"
NS_SUBMISSION_OF_TOKEN = "tokenos.so_submission_of_token"


@dataclass(frozen=True)
class Submission(Record):
    """A submitted standing order: its terms (the token's ``standingOrder``) and parties."""

    id: str
    token_id: str
    standing_order_id: str
    created_at_ms: Annotated[int, Stored(text=True)]
    payload: dict[str, Any]
    to_member_id: str
    from_member_id: str


@dataclass(frozen=True)
class SubmissionOfToken(Record):
    """The submission a standing order token made (claimed atomically: one per token)."""

    id: str
