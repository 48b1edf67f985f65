"""Views of Centagate's state for the control API and the dashboard (secrets left out)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from mockbank.providers.centagate.models import (
    NS_CHALLENGE,
    NS_DEVICE,
    NS_TRANSACTION,
    NS_USER,
    CentagateFixtures,
    ChallengeState,
)
from mockbank.store import Store


def challenge_state(store: Store, otp_challenge: str, *, now: datetime) -> ChallengeState | None:
    """Pending, used or expired; None for a challenge that never existed."""
    record = store.record(NS_CHALLENGE, otp_challenge)
    if record is None:
        return None
    if record.used:
        return ChallengeState.USED
    return ChallengeState.EXPIRED if record.expired(now) else ChallengeState.PENDING


def _user_view(value: dict[str, Any]) -> dict[str, Any]:
    # The wire keeps Centagate's epoch milliseconds; here it is ISO-8601, because a 13-digit
    # number passes the Luhn check one time in ten and reads as a card number to leak scanners.
    millis = int(value.get("lastSuccessLogin", 0))
    when = datetime.fromtimestamp(millis / 1000, tz=UTC).isoformat() if millis else None
    return {**value, "lastSuccessLogin": when}


def state_view(store: Store, fixtures: CentagateFixtures, *, now: datetime) -> dict[str, Any]:
    """Apps, users, devices, challenges and signed transactions; secrets left out."""
    challenges = []
    for record in store.records(NS_CHALLENGE):
        state = challenge_state(store, record.key, now=now)
        challenges.append(
            {
                "otpChallenge": record.key,
                "username": record.value["username"],
                "devAccId": record.value["devAccId"],
                "plainText": record.value["plainText"],
                "state": state.value if state else None,
                "approvedAt": record.value.get("approvedAt"),
                "expiresAt": record.value["expiresAt"],
            }
        )
    return {
        "apps": [
            {
                "appId": a.app_id,
                "name": a.name,
                "integrationKey": a.integration_key,
                "secretKey": "***",
                "hmacOrder": a.hmac_order,
            }
            for a in fixtures.apps.values()
        ],
        "users": [_user_view(r.value) for r in store.records(NS_USER)],
        "devices": [r.value for r in store.records(NS_DEVICE)],
        "challenges": challenges,
        "transactions": [r.value for r in store.records(NS_TRANSACTION)],
    }
