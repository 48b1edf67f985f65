"""Members and the aliases they claim."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Self

NS_MEMBER = "tokenos.member"
NS_ALIAS = "tokenos.alias"


@dataclass(frozen=True)
class Member:
    """A member: its keys (``Key`` messages), verified aliases, the hash its next update chains
    on, its profile and recovery rules."""

    id: str
    type: str
    keys: tuple[dict[str, Any], ...] = ()
    aliases: tuple[dict[str, Any], ...] = ()  # {"hash", "alias"}
    last_hash: str = ""
    profile: dict[str, str] = field(default_factory=dict)
    recovery_rules: dict[str, Any] | None = None

    def to_value(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "type": self.type,
            "keys": list(self.keys),
            "aliases": list(self.aliases),
            "lastHash": self.last_hash,
            "profile": dict(self.profile),
            "recoveryRules": self.recovery_rules,
        }

    @classmethod
    def from_value(cls, value: dict[str, Any]) -> Self:
        return cls(
            id=str(value["id"]),
            type=str(value["type"]),
            keys=tuple(value.get("keys") or ()),
            aliases=tuple(value.get("aliases") or ()),
            last_hash=str(value.get("lastHash") or ""),
            profile=dict(value.get("profile") or {}),
            recovery_rules=value.get("recoveryRules"),
        )


@dataclass(frozen=True)
class Alias:
    """Who claimed an alias (stored under the alias hash)."""

    member_id: str
    alias: dict[str, str]

    def to_value(self) -> dict[str, Any]:
        return {"memberId": self.member_id, "alias": dict(self.alias)}

    @classmethod
    def from_value(cls, value: dict[str, Any]) -> Self:
        return cls(member_id=str(value["memberId"]), alias=dict(value["alias"]))
