"""Members and the aliases they claim."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from mockbank.records import Record

NS_MEMBER = "tokenos.member"
NS_ALIAS = "tokenos.alias"


@dataclass(frozen=True)
class Member(Record):
    """A member: its keys (``Key`` messages), verified aliases, the hash its next update chains
    on, its profile and recovery rules."""

    id: str
    type: str
    keys: tuple[dict[str, Any], ...] = ()
    aliases: tuple[dict[str, Any], ...] = ()  # {"hash", "alias"}
    last_hash: str = ""
    profile: dict[str, str] = field(default_factory=dict)
    recovery_rules: dict[str, Any] | None = None


@dataclass(frozen=True)
class Alias(Record):
    """Who claimed an alias (stored under the alias hash)."""

    member_id: str
    alias: dict[str, str]
