"""Out-of-band QR approval: the device approves online, the bank polls ``session/statecheck``.

CentagateDocs' "Check Authentication State API" (1.4.3.2.01) is what a bank polls after showing
a QR when the user's CENTAGATE app approves online instead of showing an OTP to type. Here the
simulated app (the device page) records the approval on the challenge; statecheck answers
"pending" until then, and on the first poll after it completes the authentication exactly as a
correct OTP would (the challenge is consumed atomically, so an OTP sent later is refused).
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime
from typing import Any

from mockbank.providers.centagate.errors import (
    AuthenticationDataNotFound,
    AuthenticationPending,
    InvalidInput,
    UserNotActive,
    UserNotFound,
)
from mockbank.providers.centagate.models import (
    App,
    CentagateFixtures,
    IdSource,
    check_user_and_device,
    complete,
    pending_challenge,
    user_state,
)
from mockbank.providers.centagate.records import NS_CHALLENGE, Challenge, Status
from mockbank.store import Record, Store

# The methods the page lists; only QRCODE is emulated (the others need their own request APIs).
AUTH_METHODS = ("MSOFTCERT", "MAUDIOPASS", "QRCODE", "CROTP", "PUSH")


def approve(store: Store, dev_acc_id: str, otp_challenge: str, *, now: datetime) -> bool:
    """The device approves a pending challenge online; False if it is not pending there."""
    if pending_challenge(store, dev_acc_id, otp_challenge, now=now) is None:
        return False

    def mark(value: dict[str, Any]) -> dict[str, Any]:
        challenge = Challenge.from_value(value)
        if challenge.approved_at is not None:
            return value
        return replace(challenge, approved_at=now.isoformat()).to_value()

    return store.update(NS_CHALLENGE, otp_challenge, mark, now=now) is not None


def _check_user(store: Store, fixtures: CentagateFixtures, username: str, *, now: datetime) -> None:
    record = user_state(store, username, now=now)
    if username not in fixtures.users or record is None:
        raise UserNotFound(f"User not found: {username}")
    if record.status != Status.ACTIVE:
        raise UserNotActive(f"User is not active: {username}")


def _latest_request(
    store: Store, app: App, username: str, auth_token: str
) -> tuple[Record, Challenge] | None:
    """The newest QR request of this user through this app (with this authToken, if given)."""
    found = None
    for record in store.records(NS_CHALLENGE):
        challenge = Challenge.from_value(record.value)
        if challenge.username != username or challenge.integration_key != app.integration_key:
            continue
        if auth_token and not hmac.compare_digest(
            auth_token.encode(), challenge.auth_token.encode()
        ):
            continue
        found = record, challenge
    return found


def state_check(
    store: Store,
    fixtures: CentagateFixtures,
    app: App,
    fields: Mapping[str, str],
    ids: IdSource,
    *,
    now: datetime,
) -> dict[str, Any]:
    """Pending (23100) until the device approves; then the authentication object, once."""
    method = fields["authMethod"].strip().upper()
    if method not in AUTH_METHODS:
        raise InvalidInput(
            f"Invalid input: authMethod must be one of {', '.join(AUTH_METHODS)}",
            field="authMethod",
        )
    if method != "QRCODE":
        raise InvalidInput(
            f"Invalid input: authMethod {method} is not emulated by mockbank (only QRCODE)",
            field="authMethod",
        )
    _check_user(store, fixtures, fields["username"], now=now)
    latest = _latest_request(store, app, fields["username"], fields["authToken"])
    if latest is None:
        raise AuthenticationDataNotFound(
            "Authentication data does not exist: no QR code was requested for this user"
            + (" with this authToken" if fields["authToken"] else "")
        )
    record, challenge = latest
    if record.used:
        raise AuthenticationDataNotFound(
            "Authentication data does not exist: the QR request was already completed"
        )
    if record.expired(now):
        raise AuthenticationDataNotFound(
            f"Authentication data does not exist: the QR request expired at {challenge.expires_at}"
        )
    check_user_and_device(store, fixtures, challenge.username, challenge.dev_acc_id, now=now)
    if challenge.approved_at is None:
        raise AuthenticationPending(
            "Authentication pending: the user has not approved the QR on the device yet"
        )
    return complete(store, fixtures, app, challenge, ids, now=now, kind="out-of-band")
