"""Webhooks as stored: a member's configuration, and each change notified (notified once)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

NS_WEBHOOK = "tokenos.webhook_config"
NS_EVENT = "tokenos.webhook_event"


@dataclass(frozen=True)
class WebhookConfig:
    """Where a member's notifications go and which event types it subscribed to."""

    member_id: str
    url: str
    types: tuple[str, ...]

    def to_value(self) -> dict[str, Any]:
        return {"memberId": self.member_id, "url": self.url, "types": list(self.types)}

    @classmethod
    def from_value(cls, value: dict[str, Any]) -> WebhookConfig:
        return cls(
            member_id=str(value["memberId"]),
            url=str(value["url"]),
            types=tuple(str(t) for t in value["types"]),
        )

    def to_wire(self) -> dict[str, Any]:
        """The OpenAPI's ``Config``: ``{type: [...], url}``."""
        return {"type": list(self.types), "url": self.url}


@dataclass(frozen=True)
class WebhookEvent:
    """A status change already queued for a member (its key makes it notify once)."""

    member_id: str
    event_type: str
    dedupe_key: str

    @property
    def key(self) -> str:
        return f"{self.member_id}|{self.event_type}|{self.dedupe_key}"

    def to_value(self) -> dict[str, Any]:
        return {"memberId": self.member_id, "eventType": self.event_type, "key": self.dedupe_key}

    @classmethod
    def from_value(cls, value: dict[str, Any]) -> WebhookEvent:
        return cls(value["memberId"], value["eventType"], value["key"])
