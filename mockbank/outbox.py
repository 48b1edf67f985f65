"""Calls the providers make outward: HTTP notifications and (recorded, never sent) emails.

Messages are delivered off the request thread by the app's one worker (`mockbank.delivery`),
with retries scheduled on the outbox's own app clock, so moving the clock forward makes a retry
due at once. Every attempt is recorded.
The outbound policy (`mockbank.outbound`) is applied here, for every provider.
"""

from __future__ import annotations

import base64
import http.client
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from mockbank.clock import Clock, monotonic
from mockbank.delivery import DEFAULT_KEY, Delivery
from mockbank.faults import Faults
from mockbank.masking import mask_body, mask_headers
from mockbank.outbound import OutboundPolicy, OutboundRefused, http_connection
from mockbank.store import MemoryStore, Store

DEFAULT_RETRY_DELAYS = (0.0, 10.0, 60.0)
ATTEMPT_TIMEOUT_S = 5.0


@dataclass
class Email:
    to: str
    subject: str
    body: str


@dataclass
class Message:
    id: int
    provider: str
    kind: str  # "http" or "email"
    created_at: datetime
    status: str  # pending, delivering, delivered, failed, undeliverable, recorded
    url: str | None = None
    method: str = "POST"
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    retry_delays: tuple[float, ...] = DEFAULT_RETRY_DELAYS
    next_attempt_at: datetime | None = None
    attempts: list[dict[str, Any]] = field(default_factory=list)
    email: Email | None = None
    fallback: Email | None = None
    label: str | None = None
    # Fault rules for this provider and endpoint name fail attempts without sending.
    fault_endpoint: str | None = None
    # When (epoch seconds on the app clock) a process claimed it for an attempt.
    claimed_at: float | None = None

    def as_dict(self) -> dict[str, Any]:
        content_type = self.headers.get("Content-Type")
        data: dict[str, Any] = {
            "id": self.id,
            "provider": self.provider,
            "kind": self.kind,
            "label": self.label,
            "status": self.status,
            "created_at": _iso(self.created_at),
            "attempts": self.attempts,
        }
        if self.kind == "http":
            data.update(
                url=self.url,
                method=self.method,
                headers=mask_headers(self.headers),
                body=mask_body(self.body, content_type),
                next_attempt_at=_iso(self.next_attempt_at) if self.next_attempt_at else None,
            )
        elif self.email is not None:
            data.update(
                to=self.email.to,
                subject=self.email.subject,
                body=mask_body(self.email.body, "text/plain"),
            )
        return data


def _iso(value: datetime) -> str:
    return value.isoformat().replace("+00:00", "Z")


NAMESPACE = "mockbank.outbox"
ID_SEQUENCE = "mockbank.outbox-ids"
# A message claimed by a process that died mid-delivery is taken up again after this long.
LEASE_S = 60.0
_RECORD_TIME = datetime(2000, 1, 1, tzinfo=UTC)


def _email_value(email: Email | None) -> dict[str, str] | None:
    return None if email is None else {"to": email.to, "subject": email.subject, "body": email.body}


def _email(value: dict[str, str] | None) -> Email | None:
    return None if value is None else Email(value["to"], value["subject"], value["body"])


def _dt(value: float | None) -> datetime | None:
    return None if value is None else datetime.fromtimestamp(value, tz=UTC)


def to_value(message: Message) -> dict[str, Any]:
    """A message as a store record (the body as Base64, times as epoch seconds)."""
    return {
        "id": message.id,
        "provider": message.provider,
        "kind": message.kind,
        "created_at": message.created_at.timestamp(),
        "status": message.status,
        "url": message.url,
        "method": message.method,
        "headers": message.headers,
        "body": base64.b64encode(message.body).decode("ascii"),
        "retry_delays": list(message.retry_delays),
        "next_attempt_at": None
        if message.next_attempt_at is None
        else message.next_attempt_at.timestamp(),
        "attempts": message.attempts,
        "email": _email_value(message.email),
        "fallback": _email_value(message.fallback),
        "label": message.label,
        "fault_endpoint": message.fault_endpoint,
        "claimed_at": message.claimed_at,
    }


def from_value(value: dict[str, Any]) -> Message:
    return Message(
        id=int(value["id"]),
        provider=value["provider"],
        kind=value["kind"],
        created_at=datetime.fromtimestamp(value["created_at"], tz=UTC),
        status=value["status"],
        url=value.get("url"),
        method=value.get("method", "POST"),
        headers=dict(value.get("headers") or {}),
        body=base64.b64decode(value.get("body") or ""),
        retry_delays=tuple(value.get("retry_delays") or DEFAULT_RETRY_DELAYS),
        next_attempt_at=_dt(value.get("next_attempt_at")),
        attempts=list(value.get("attempts") or []),
        email=_email(value.get("email")),
        fallback=_email(value.get("fallback")),
        label=value.get("label"),
        fault_endpoint=value.get("fault_endpoint"),
        claimed_at=value.get("claimed_at"),
    )


class _Refused(Exception):
    """A claim or change that no longer applies (another process got there first)."""


class Outbox:
    """Messages kept in the app's store, delivered by the app's worker thread in any process.

    With a shared store (SQLite, PostgreSQL) every process sees every message, and a message is
    claimed atomically before each attempt, so it is delivered once across the cluster. The
    worker (`mockbank.delivery.Delivery`) is one per app, shared by every sandbox's outbox; an
    outbox made without one has a worker of its own.
    """

    def __init__(
        self,
        clock: Clock,
        policy: OutboundPolicy,
        faults: Faults | None = None,
        *,
        store: Store | None = None,
        instance: str = "",
        delivery: Delivery | None = None,
        key: str = DEFAULT_KEY,
    ) -> None:
        self.clock = clock
        self.policy = policy
        self.faults = faults
        self.store: Store = store if store is not None else MemoryStore()
        self.instance = instance
        # This outbox's name among the worker's (its sandbox's name, or "default").
        self.key = key
        self._owns_delivery = delivery is None
        self.delivery = delivery if delivery is not None else Delivery(self.store)
        self._cond = self.delivery.cond
        self._busy = 0
        self.delivery.register(self)
        clock.on_change(self.delivery.wake)
        if self._owns_delivery:
            # Messages other processes queued (or left half-done) are this worker's too.
            self.delivery.start()

    # -- enqueueing -------------------------------------------------------------------------
    def _add(self, message: Message) -> Message:
        self.store.add(NAMESPACE, _key(message.id), to_value(message), now=_RECORD_TIME)
        if message.status == "pending":
            self.delivery.mark(self.key)
        return message

    def send_http(
        self,
        provider: str,
        url: str,
        *,
        method: str = "POST",
        headers: dict[str, str] | None = None,
        body: bytes = b"",
        retry_delays: tuple[float, ...] = DEFAULT_RETRY_DELAYS,
        fallback: Email | None = None,
        label: str | None = None,
        fault_endpoint: str | None = None,
    ) -> Message:
        """Queue an HTTP call; the first attempt is due at once."""
        now = self.clock.now()
        return self._add(
            Message(
                self.store.next_sequence(ID_SEQUENCE),
                provider,
                "http",
                now,
                "pending",
                url=url,
                method=method,
                headers=dict(headers or {}),
                body=body,
                retry_delays=retry_delays,
                next_attempt_at=now + timedelta(seconds=retry_delays[0]),
                fallback=fallback,
                label=label,
                fault_endpoint=fault_endpoint,
            )
        )

    def record_email(self, provider: str, email: Email, *, label: str | None = None) -> Message:
        """Record an email the provider would have sent (mockbank never sends mail)."""
        return self._add(
            Message(
                self.store.next_sequence(ID_SEQUENCE),
                provider,
                "email",
                self.clock.now(),
                "recorded",
                email=email,
                label=label,
            )
        )

    def redeliver(self, message_id: int) -> Message:
        """Send an HTTP message again now, whatever its past attempts (one more attempt).

        Raises `LookupError` for an unknown id and `ValueError` for an email or a message
        that is already waiting for an attempt.
        """
        found = self.store.record(NAMESPACE, _key(message_id))
        if found is None:
            raise LookupError(f"no outbox message with id {message_id}")
        now = self.clock.now()

        def again(value: dict[str, Any]) -> dict[str, Any]:
            message = from_value(value)
            if message.kind != "http":
                raise ValueError(f"message {message_id} is an email: mockbank never sends mail")
            if message.status in ("pending", "delivering"):
                raise ValueError(f"message {message_id} is already {message.status}")
            due = (now - message.created_at).total_seconds()
            message.retry_delays = (*message.retry_delays[: len(message.attempts)], due)
            message.status, message.next_attempt_at = "pending", now
            return to_value(message)

        changed = self.store.update(NAMESPACE, _key(message_id), again, now=_RECORD_TIME)
        if changed is None:
            raise LookupError(f"no outbox message with id {message_id}")
        self.delivery.mark(self.key)
        return from_value(changed)

    # -- reading ----------------------------------------------------------------------------
    def messages(self, provider: str | None = None) -> list[Message]:
        found = [from_value(r.value) for r in self.store.records(NAMESPACE)]
        found.sort(key=lambda m: m.id)
        return [m for m in found if provider is None or m.provider == provider]

    def message(self, message_id: int) -> Message:
        """One message as it stands now (a `Message` is a snapshot, not a live view)."""
        found = self.store.record(NAMESPACE, _key(message_id))
        if found is None:
            raise LookupError(f"no outbox message with id {message_id}")
        return from_value(found.value)

    def clear(self, provider: str | None = None) -> None:
        for message in self.messages(provider):
            self.store.delete(NAMESPACE, _key(message.id))

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """Wait until no message is due now or being delivered here; False on timeout."""
        deadline = monotonic() + timeout
        with self._cond:
            while self._busy or self._due(self.clock.now()):
                remaining = deadline - monotonic()
                if remaining <= 0:
                    return False
                self._cond.wait(min(remaining, 0.05))
        return True

    # -- delivery (called by the worker) ---------------------------------------------------
    def _due(self, now: datetime) -> list[Message]:
        return [m for m in self.messages() if _is_due(m, now)]

    def work(self) -> tuple[bool, list[Message], datetime]:
        """Whether a message is outstanding, those due now on this outbox's clock, and now."""
        now = self.clock.now()
        messages = self.messages()
        outstanding = any(m.status in ("pending", "delivering") for m in messages)
        return outstanding, [m for m in messages if _is_due(m, now)], now

    def deliver(self, message: Message, now: datetime) -> bool:
        """Claim a due message and make one attempt; False when another process claimed it."""
        with self._cond:  # busy from the claim on, so `wait_idle` never sees a gap
            claimed = self._claim(message, now)
            if claimed is None:
                return False
            self._busy += 1
        try:
            self._attempt(claimed)
        finally:
            with self._cond:
                self._busy -= 1
                self._cond.notify_all()
        return True

    def close(self) -> None:
        """Stop delivering this outbox's messages here (and the worker, if it is its own)."""
        self.delivery.unregister(self)
        if self._owns_delivery:
            self.delivery.close(timeout=ATTEMPT_TIMEOUT_S + 1)

    def _claim(self, message: Message, now: datetime) -> Message | None:
        """Mark a due message as being delivered by this process; None if another was first."""

        def claim(value: dict[str, Any]) -> dict[str, Any]:
            current = from_value(value)
            if not _is_due(current, now):
                raise _Refused
            current.status, current.claimed_at = "delivering", now.timestamp()
            return to_value(current)

        try:
            changed = self.store.update(NAMESPACE, _key(message.id), claim, now=_RECORD_TIME)
        except _Refused:
            return None
        return None if changed is None else from_value(changed)

    def _try(self, message: Message, attempt: dict[str, Any]) -> tuple[bool, bool]:
        """Make one attempt; (delivered, final). Fills `attempt` with what happened."""
        try:
            target = self.policy.resolve(message.url or "")
            if target.echo:
                raise OutboundRefused("the echo target takes proxied requests only")
            injected = (
                self.faults.outbound_failure(message.provider, message.fault_endpoint)
                if self.faults is not None and message.fault_endpoint
                else None
            )
            if injected:
                attempt["error"] = injected
                return False, False
            status = _post(target.url, message.method, message.headers, message.body)
            attempt["status"] = status
            if not 200 <= status < 300:
                attempt["error"] = f"HTTP {status}"
                return False, False
            return True, False
        except OutboundRefused as refused:
            attempt["error"] = str(refused)
            return False, True
        except (OSError, http.client.HTTPException) as failure:
            attempt["error"] = f"{type(failure).__name__}: {failure}"
            return False, False

    def _attempt(self, message: Message) -> None:
        started = self.clock.now()
        attempt: dict[str, Any] = {"at": _iso(started), "number": len(message.attempts) + 1}
        if self.instance:
            attempt["instance"] = self.instance
        ok, final = self._try(message, attempt)
        fallback: list[Email] = []

        def settle(value: dict[str, Any]) -> dict[str, Any]:
            current = from_value(value)
            current.attempts.append(attempt)
            current.claimed_at = None
            fallback.clear()
            if ok:
                current.status, current.next_attempt_at = "delivered", None
            elif final or len(current.attempts) >= len(current.retry_delays):
                current.status = "undeliverable" if final else "failed"
                current.next_attempt_at = None
                if current.fallback is not None:
                    fallback.append(current.fallback)
            else:
                delay = current.retry_delays[len(current.attempts)]
                current.status = "pending"
                current.next_attempt_at = current.created_at + timedelta(seconds=delay)
            return to_value(current)

        self.store.update(NAMESPACE, _key(message.id), settle, now=_RECORD_TIME)
        for email in fallback:
            self.record_email(message.provider, email, label=f"after message {message.id}")


def _key(message_id: int) -> str:
    return f"{message_id:012d}"


def _is_due(message: Message, now: datetime) -> bool:
    if message.status == "pending":
        return message.next_attempt_at is not None and message.next_attempt_at <= now
    # A claim whose process died (or stalled) past the lease is taken up again.
    return (
        message.status == "delivering"
        and message.claimed_at is not None
        and now.timestamp() - message.claimed_at > LEASE_S
    )


def _post(url: str, method: str, headers: dict[str, str], body: bytes) -> int:
    parts = urlsplit(url)
    connection = http_connection(url, ATTEMPT_TIMEOUT_S)  # localhost names: no DNS
    try:
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        response.read()
        return response.status
    finally:
        connection.close()
