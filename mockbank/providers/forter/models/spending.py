"""When a single-use token is spent, and spending it atomically.

The rule: a single-use token (and a single-use CVC token sent beside it) is spent once the
request is certain to leave: for a real target, after the connection to it is open and before
the first byte is sent, so an unreachable target burns nothing; for the echo target, at once. A
request that fails after sending keeps its tokens spent (the target may have the card). The
pair is spent together or not at all, and a spent token's CVC is forgotten.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from mockbank.providers.forter.errors import ProxyTokenNotFound
from mockbank.providers.forter.models.detokenize import Resolved
from mockbank.providers.forter.records import NS_TOKEN, TokenRecord
from mockbank.store import Store


def tokens_to_spend(resolved: Resolved) -> list[str]:
    """The single-use tokens a forwarded request spends (multi-use tokens are never spent)."""
    spend: list[str] = []
    candidates = [(resolved.token, resolved.record)]
    if resolved.cvc_token and resolved.cvc_record is not None:
        candidates.append((resolved.cvc_token, resolved.cvc_record))
    for token, record in candidates:
        if record.single_use and token not in spend:
            spend.append(token)
    return spend


def consume_single_use(store: Store, resolved: Resolved, *, now: datetime) -> None:
    """Mark the single-use tokens of a forwarded request used, atomically, or raise 555."""
    taken: list[str] = []
    for token in tokens_to_spend(resolved):
        try:
            _spend(store, token, now=now)
        except ProxyTokenNotFound:
            for earlier in taken:  # the pair is used together or not at all
                _change(store, earlier, TokenRecord.unspent, now=now)
            raise
        taken.append(token)
    for token in taken:  # a used single-use secret is not kept: the CVC goes once it is spent
        _change(store, token, TokenRecord.without_cvc, now=now)


def _spend(store: Store, token: str, *, now: datetime) -> None:
    def mark(current: dict[str, Any]) -> dict[str, Any]:
        record = TokenRecord.from_value(current)
        if record.used:
            raise ProxyTokenNotFound(f"{token} is single-use and was already used.")
        return record.spent().to_value()

    stored = store.record(NS_TOKEN, token)
    if (
        stored is None
        or store.update(NS_TOKEN, token, mark, now=now, expires_at=stored.expires_at) is None
    ):
        raise ProxyTokenNotFound(f"{token} could not be found.")


def _change(
    store: Store, token: str, change: Callable[[TokenRecord], TokenRecord], *, now: datetime
) -> None:
    stored = store.record(NS_TOKEN, token)
    if stored is None:
        return
    record = TokenRecord.from_value(stored.value)
    if change(record) == record:
        return
    store.update(
        NS_TOKEN,
        token,
        lambda value: change(TokenRecord.from_value(value)).to_value(),
        now=now,
        expires_at=stored.expires_at,
    )
