"""Webhooks as stored: a member's configuration, and each change notified (notified once)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from mockbank.records import Record, Stored

NS_WEBHOOK = "tokenos.webhook_config"
NS_EVENT = "tokenos.webhook_event"


@dataclass(frozen=True)
class WebhookConfig(Record):
    """Where a member's notifications go and which event types it subscribed to."""

    member_id: str
    url: str
    types: tuple[str, ...]

    def to_wire(self) -> dict[str, Any]:
        """The OpenAPI's ``Config``: ``{type: [...], url}``."""
        return {"type": list(self.types), "url": self.url}


@dataclass(frozen=True)
class WebhookEvent(Record):
    """A status change already queued for a member (its key makes it notify once)."""

    member_id: str
    event_type: str
    dedupe_key: Annotated[str, Stored(key="key")]

    @property
    def key(self) -> str:
        return f"{self.member_id}|{self.event_type}|{self.dedupe_key}"
