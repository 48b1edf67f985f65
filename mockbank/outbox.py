"""Calls the providers make outward: HTTP notifications and (recorded, never sent) emails.

Messages are delivered off the request thread by one worker, with retries scheduled on the
app clock, so moving the clock forward makes a retry due at once. Every attempt is recorded.
The outbound policy (`mockbank.outbound`) is applied here, for every provider.
"""

from __future__ import annotations

import http.client
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from mockbank.clock import Clock
from mockbank.faults import Faults
from mockbank.masking import mask_body, mask_headers
from mockbank.outbound import OutboundPolicy, OutboundRefused

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


class Outbox:
    def __init__(self, clock: Clock, policy: OutboundPolicy, faults: Faults | None = None) -> None:
        self.clock = clock
        self.policy = policy
        self.faults = faults
        self._messages: list[Message] = []
        self._cond = threading.Condition()
        self._next_id = 1
        self._worker: threading.Thread | None = None
        self._stopping = False
        self._busy = 0
        clock.on_change(self._wake)

    # -- enqueueing -------------------------------------------------------------------------
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
        with self._cond:
            message = Message(
                self._next_id,
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
            self._next_id += 1
            self._messages.append(message)
            self._ensure_worker()
            self._cond.notify_all()
        return message

    def record_email(self, provider: str, email: Email, *, label: str | None = None) -> Message:
        """Record an email the provider would have sent (mockbank never sends mail)."""
        with self._cond:
            message = Message(
                self._next_id,
                provider,
                "email",
                self.clock.now(),
                "recorded",
                email=email,
                label=label,
            )
            self._next_id += 1
            self._messages.append(message)
            self._cond.notify_all()
        return message

    def redeliver(self, message_id: int) -> Message:
        """Send an HTTP message again now, whatever its past attempts (one more attempt).

        Raises `LookupError` for an unknown id and `ValueError` for an email or a message
        that is already waiting for an attempt.
        """
        with self._cond:
            message = next((m for m in self._messages if m.id == message_id), None)
            if message is None:
                raise LookupError(f"no outbox message with id {message_id}")
            if message.kind != "http":
                raise ValueError(f"message {message_id} is an email: mockbank never sends mail")
            if message.status in ("pending", "delivering"):
                raise ValueError(f"message {message_id} is already {message.status}")
            now = self.clock.now()
            due = (now - message.created_at).total_seconds()
            message.retry_delays = (*message.retry_delays[: len(message.attempts)], due)
            message.status, message.next_attempt_at = "pending", now
            self._ensure_worker()
            self._cond.notify_all()
            return message

    # -- reading ----------------------------------------------------------------------------
    def messages(self, provider: str | None = None) -> list[Message]:
        with self._cond:
            return [m for m in self._messages if provider is None or m.provider == provider]

    def clear(self, provider: str | None = None) -> None:
        with self._cond:
            self._messages = [
                m for m in self._messages if provider is not None and m.provider != provider
            ]

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """Wait until no message is due now or being delivered; False on timeout."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while self._busy or self._due(self.clock.now()):
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._cond.wait(min(remaining, 0.05))
        return True

    # -- delivery ---------------------------------------------------------------------------
    def _due(self, now: datetime) -> list[Message]:
        return [
            m
            for m in self._messages
            if m.status == "pending" and m.next_attempt_at is not None and m.next_attempt_at <= now
        ]

    def _wake(self) -> None:
        with self._cond:
            self._cond.notify_all()

    def _ensure_worker(self) -> None:
        if self._worker is None or not self._worker.is_alive():
            self._stopping = False
            self._worker = threading.Thread(target=self._run, name="mockbank-outbox", daemon=True)
            self._worker.start()

    def close(self) -> None:
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        if self._worker is not None:
            self._worker.join(timeout=2)

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._stopping and not self._due(self.clock.now()):
                    # Real time passing also makes retries due when the clock is not frozen.
                    self._cond.wait(0.05)
                if self._stopping:
                    return
                message = self._due(self.clock.now())[0]
                message.status = "delivering"
                self._busy += 1
            try:
                self._attempt(message)
            finally:
                with self._cond:
                    self._busy -= 1
                    self._cond.notify_all()

    def _attempt(self, message: Message) -> None:
        started = self.clock.now()
        attempt: dict[str, Any] = {"at": _iso(started), "number": len(message.attempts) + 1}
        final = False
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
                attempt["error"], ok = injected, False
            else:
                status = _post(target.url, message.method, message.headers, message.body)
                attempt["status"] = status
                ok = 200 <= status < 300
                if not ok:
                    attempt["error"] = f"HTTP {status}"
        except OutboundRefused as refused:
            attempt["error"] = str(refused)
            ok, final = False, True
        except (OSError, http.client.HTTPException) as failure:
            attempt["error"] = f"{type(failure).__name__}: {failure}"
            ok = False
        with self._cond:
            message.attempts.append(attempt)
            if ok:
                message.status, message.next_attempt_at = "delivered", None
                return
            if final or len(message.attempts) >= len(message.retry_delays):
                message.status = "undeliverable" if final else "failed"
                message.next_attempt_at = None
                fallback = message.fallback
            else:
                delay = message.retry_delays[len(message.attempts)]
                message.status = "pending"
                message.next_attempt_at = message.created_at + timedelta(seconds=delay)
                fallback = None
        if fallback is not None:
            self.record_email(message.provider, fallback, label=f"after message {message.id}")


def _post(url: str, method: str, headers: dict[str, str], body: bytes) -> int:
    parts = urlsplit(url)
    connection_class = (
        http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    )
    connection = connection_class(parts.hostname or "", parts.port, timeout=ATTEMPT_TIMEOUT_S)
    try:
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        response.read()
        return response.status
    finally:
        connection.close()
