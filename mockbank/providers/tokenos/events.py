"""TokenOS webhooks: the per-member configuration and signed event delivery through the outbox.

Token.io POSTs a JSON notification to the URL a member configured with ``PUT /webhook/config``
whenever a payment, transfer, refund or VRP changes status, with the event type in a
``token-event`` header and an Ed25519 signature of the raw body in ``token-signature``. Token.io
does not publish the signing key or algorithm; mockbank signs with the Token member's
PRIVILEGED key (the key ``/resolve-alias`` + ``/members/<id>`` publish), base64url without
padding, so `mockbank.clients.tokenos.verify_webhook` checks a delivery with public data only.

Every status change goes through `publish_event`; callers pass the member to notify, the event
type, the object (``{"payment": {...}}``) and, for a change the app clock will make later, the
moment it happens. A ``dedupe_key`` makes a change notify once however often it is published
(across threads and processes: the store's atomic ``add`` decides).
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from mockbank.clients.tokenos import KeyPair, base64url, generate_keys
from mockbank.outbox import Message
from mockbank.providers.tokenos.errors import InvalidArgument, NotFound
from mockbank.providers.tokenos.models.common import is_text, object_field
from mockbank.providers.tokenos.models.lifecycle import StatusChange
from mockbank.providers.tokenos.records.tokens import Transfer
from mockbank.providers.tokenos.records.webhooks import (
    NS_EVENT,
    NS_WEBHOOK,
    WebhookConfig,
    WebhookEvent,
)
from mockbank.store import Store

if TYPE_CHECKING:
    from mockbank.state import State

# The OpenAPI's EventType enum (INVALID is the proto default, never configurable).
EVENT_TYPES = (
    "TRANSFER_STATUS_CHANGED",
    "STANDING_ORDER_STATUS_CHANGED",
    "REFUND_STATUS_CHANGED",
    "PAYMENT_STATUS_CHANGED",
    "VRP_STATUS_CHANGED",
    "VRP_CONSENT_STATUS_CHANGED",
    "VIRTUAL_ACCOUNT_CREDIT_RECEIVED",
    "PAYOUT_STATUS_CHANGED",
    "SETTLEMENT_RULE_PAYOUT_EXECUTION_FAILED",
    "BANK_AIS_OUTAGE_STATUS_CHANGED",
    "BANK_SIP_OUTAGE_STATUS_CHANGED",
)
# Our choice (Token.io retries but does not publish its schedule): at once, then after 10 s,
# 1 min, 5 min and 30 min of app clock; five attempts in all.
RETRY_DELAYS = (0.0, 10.0, 60.0, 300.0, 1800.0)
URL_MAX = 2000
# The event type each kind of v2 status change is notified as.
CHANGE_EVENTS = {
    "payment": "PAYMENT_STATUS_CHANGED",
    "vrp": "VRP_STATUS_CHANGED",
    "vrp-consent": "VRP_CONSENT_STATUS_CHANGED",
    "refund": "REFUND_STATUS_CHANGED",
}
FAULT_ENDPOINT = "webhook"


def _webhook_url(value: Any) -> str:
    if not is_text(value) or not value.strip():
        raise InvalidArgument("config.url is required", field="config.url")
    url = value.strip()
    if len(url) > URL_MAX:
        raise InvalidArgument(f"config.url is longer than {URL_MAX} characters")
    # Token.io's own example is a bare host ("your-webhook-url.com"): HTTPS is implied.
    if "://" not in url:
        url = "https://" + url
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname or any(c in url for c in " \n"):
        raise InvalidArgument(f"config.url {value!r} is not an http or https URL")
    try:
        parts.port  # noqa: B018 - raises on a malformed port
    except ValueError:
        raise InvalidArgument(f"config.url {value!r} has a malformed port") from None
    return url


def _event_types(value: Any) -> tuple[str, ...]:
    if not isinstance(value, list) or not value:
        raise InvalidArgument("config.type must be a non-empty list of event types")
    types: list[str] = []
    for item in value:
        if not is_text(item) or item not in EVENT_TYPES:
            raise InvalidArgument(
                f"config.type {item!r} is not an event type; use {', '.join(EVENT_TYPES)}"
            )
        if item not in types:
            types.append(item)
    return tuple(types)


def set_config(store: Store, member_id: str, body: Any, *, now: datetime) -> WebhookConfig:
    """``PUT /webhook/config``: replace the member's configuration."""
    body = object_field(body, "body", required=True)
    config = object_field(body.get("config"), "config", required=True)
    parsed = WebhookConfig(
        member_id, _webhook_url(config.get("url")), _event_types(config.get("type"))
    )
    store.put(NS_WEBHOOK, member_id, parsed.to_value(), now=now)
    return parsed


def find_config(store: Store, member_id: str, *, now: datetime) -> WebhookConfig | None:
    """The member's configuration, if any."""
    value = store.get(NS_WEBHOOK, member_id, now=now)
    return WebhookConfig.from_value(value) if value is not None else None


def get_config(store: Store, member_id: str, *, now: datetime) -> WebhookConfig:
    """``GET /webhook/config``: NOT_FOUND when none is set."""
    found = find_config(store, member_id, now=now)
    if found is None:
        raise NotFound(f"no webhook config is set for member {member_id}")
    return found


def delete_config(store: Store, member_id: str) -> None:
    """``DELETE /webhook/config``: NOT_FOUND when none is set."""
    if not store.delete(NS_WEBHOOK, member_id):
        raise NotFound(f"no webhook config is set for member {member_id}")


@functools.lru_cache(maxsize=8)
def signing_key(token_key_seed: str) -> KeyPair:
    """The Token member's PRIVILEGED key (the same derivation as the seeded member's keys)."""
    seed = hashlib.sha256(f"{token_key_seed}:PRIVILEGED".encode()).digest()
    return generate_keys("PRIVILEGED", seed)


def event_body(event_type: str, payload: dict[str, Any]) -> bytes:
    """The notification body: ``{"eventType": …, …payload}`` as compact JSON."""
    return json.dumps({"eventType": event_type, **payload}, separators=(",", ":")).encode()


def sign_body(key: KeyPair, body: bytes) -> str:
    """``token-signature``: base64url (no padding) Ed25519 over the raw body bytes."""
    return base64url(key.private_key.sign(body))


def publish_event(
    state: State,
    member_id: str,
    event_type: str,
    payload: dict[str, Any],
    *,
    now: datetime,
    at: datetime | None = None,
    dedupe_key: str | None = None,
    label: str | None = None,
) -> Message | None:
    """Queue a signed notification if `member_id` subscribed to `event_type`.

    `at` is when the change happens on the app clock (default `now`); a later moment makes the
    first attempt due then. `dedupe_key` (e.g. ``"payment:<id>:<status>"``) makes the change
    notify at most once. Returns the outbox message, or None when nothing was sent.
    """
    if event_type not in EVENT_TYPES:
        raise ValueError(f"unknown TokenOS event type {event_type!r}")
    config = find_config(state.store, member_id, now=now)
    if config is None or event_type not in config.types:
        return None
    if dedupe_key is not None:
        event = WebhookEvent(member_id, event_type, dedupe_key)
        if not state.store.add(NS_EVENT, event.key, event.to_value(), now=now):
            return None
    body = event_body(event_type, payload)
    fixtures = state.fixtures["tokenos"]
    headers = {
        "Content-Type": "application/json",
        "token-event": event_type,
        "token-signature": sign_body(signing_key(fixtures.token_key_seed), body),
    }
    delay = max(0.0, (at - now).total_seconds()) if at is not None else 0.0
    return state.outbox.send_http(
        "tokenos",
        config.url,
        headers=headers,
        body=body,
        retry_delays=tuple(delay + d for d in RETRY_DELAYS),
        label=label or f"{event_type} for {member_id}",
        fault_endpoint=FAULT_ENDPOINT,
    )


def transfer_notification(entry: Transfer, status: str) -> dict[str, Any]:
    """A v1 ``TRANSFER_STATUS_CHANGED`` body: transfer and transaction ids, refId, status."""
    transfer = entry.transfer
    return {
        "transferId": transfer["id"],
        "transactionId": transfer.get("transactionId"),
        "refId": transfer["payload"].get("refId"),
        "tokenId": entry.token_id,
        "memberId": entry.to_member_id,
        "status": status,
    }


def publish_transfer_events(
    state: State, entry: Transfer, *, now: datetime, settles_at: datetime
) -> None:
    """A v1 transfer's PROCESSING now and its outcome when the clock settles it (each once)."""
    transfer_id = entry.transfer["id"]
    member_id = entry.to_member_id
    publish_event(
        state,
        member_id,
        "TRANSFER_STATUS_CHANGED",
        transfer_notification(entry, "PROCESSING"),
        now=now,
        dedupe_key=f"transfer:{transfer_id}:PROCESSING",
        label=f"transfer {transfer_id} PROCESSING",
    )
    outcome = entry.outcome
    if outcome == "PROCESSING":  # the magic amount that never settles
        return
    publish_event(
        state,
        member_id,
        "TRANSFER_STATUS_CHANGED",
        transfer_notification(entry, outcome),
        now=now,
        at=settles_at,
        dedupe_key=f"transfer:{transfer_id}:{outcome}",
        label=f"transfer {transfer_id} {outcome}",
    )


def publish_changes(
    state: State,
    changes: list[StatusChange],
    payload: Callable[[StatusChange], dict[str, Any]],
    *,
    now: datetime,
) -> list[str]:
    """Queue one signed webhook per status change of a payment, VRP, VRP consent or refund.

    Each is sent once per resource and status however often it is seen (a dedupe key), and
    becomes due at the moment it happens on the app clock (a firm step ahead is queued now for
    then). `payload` renders the resource as its GET endpoint shows it. Returns one line per
    change for the journal.
    """
    for change in changes:
        at = datetime.fromtimestamp(change.at, tz=UTC)
        publish_event(
            state,
            change.member_id,
            CHANGE_EVENTS[change.kind],
            payload(change),
            now=now,
            at=at if at > now else None,
            dedupe_key=f"{change.kind}:{change.id}:{change.status}",
            label=f"{change.kind} {change.id} {change.status}",
        )
    return [f"{c.kind} {c.id} {c.status}" for c in changes]
