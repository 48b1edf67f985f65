"""``Idempotency-Key``: the same key and body give the same answer, never a second transaction.

The first request with a key adds a pending entry atomically (the store's ``add``); it alone
processes the request and then records its status and body. Concurrent requests with the key
wait for that answer and return it. A key sent again with another body is a 422 naming the
header. A request refused before it was processed (a 4xx) leaves no entry, so the client can
fix the body and resend with the same key; a decline is a processed answer and is kept.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from mockbank.clock import monotonic
from mockbank.providers.quickstream.rest.errors import Conflict, invalid
from mockbank.providers.quickstream.rest.records import NS_IDEMPOTENCY, IdempotencyEntry
from mockbank.store import Store

KEY_TTL = timedelta(hours=24)
# A pending entry older than this was left by a process that died mid-request: taken over.
ABANDONED_AFTER = timedelta(seconds=60)
WAIT_SECONDS = 15.0
POLL_SECONDS = 0.005

Answer = tuple[int, dict[str, Any], str | None]  # status, body, receipt number


def check_key(key: str) -> str:
    """A key is 1-255 printable ASCII characters (our rule; Westpac documents none)."""
    if not 1 <= len(key) <= 255 or not all(0x21 <= ord(c) <= 0x7E for c in key):
        raise invalid(
            "Idempotency-Key",
            key[:100],
            "Idempotency-Key must be 1 to 255 printable ASCII characters.",
        )
    return key


def fingerprint(method: str, path: str, data: Any) -> str:
    """What makes two requests 'the same': method, path and the JSON body's content."""
    canonical = json.dumps(data, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(f"{method} {path}\n{canonical}".encode()).hexdigest()


def run_once(
    store: Store,
    facility: str,
    key: str,
    print_: str,
    run: Callable[[], Answer],
    *,
    now: Callable[[], datetime],
) -> tuple[int, dict[str, Any]]:
    """Answer a keyed request exactly once; every caller with the key gets that answer."""
    scoped = f"{facility}:{key}"
    deadline = monotonic() + WAIT_SECONDS
    while True:
        started = now()
        entry = IdempotencyEntry(key, facility, print_, started.isoformat())
        if store.add(
            NS_IDEMPOTENCY, scoped, entry.to_value(), now=started, expires_at=started + KEY_TTL
        ):
            return _process(store, scoped, run, now=now)
        answer = _existing(store, scoped, print_, now())
        if answer is not None:
            return answer
        if monotonic() > deadline:
            raise Conflict()
        time.sleep(POLL_SECONDS)


def _existing(
    store: Store, scoped: str, print_: str, now: datetime
) -> tuple[int, dict[str, Any]] | None:
    """The recorded answer, or None to wait (or to retry the add when the entry is gone)."""
    record = store.record(NS_IDEMPOTENCY, scoped)
    if record is None:
        return None
    entry = IdempotencyEntry.from_value(record.value)
    stale = not entry.done and now - datetime.fromisoformat(entry.created) > ABANDONED_AFTER
    if record.expired(now) or stale:
        store.delete(NS_IDEMPOTENCY, scoped)
        return None
    if entry.fingerprint != print_:
        raise invalid(
            "Idempotency-Key",
            entry.key[:100],
            "This Idempotency-Key was already used with a different request. Send a new "
            "Idempotency-Key for a new request.",
        )
    if entry.done and entry.response_status is not None and entry.response_body is not None:
        return entry.response_status, entry.response_body
    return None


def _process(
    store: Store, scoped: str, run: Callable[[], Answer], *, now: Callable[[], datetime]
) -> tuple[int, dict[str, Any]]:
    try:
        status, body, receipt = run()
    except BaseException:
        # Refused or failed before anything was processed: forget the key so a fixed
        # request may use it again.
        store.delete(NS_IDEMPOTENCY, scoped)
        raise

    def finish(value: dict[str, Any]) -> dict[str, Any]:
        value.update(responseStatus=status, responseBody=body, receiptNumber=receipt)
        return value

    store.update(NS_IDEMPOTENCY, scoped, finish, now=now())
    return status, body
