"""The REST API's part of ``fixtures/quickstream.json``: API keys and Trusted Frame origins.

Read and validated when the app is built (and on every reset), never per request. The REST
settings live in their own top-level ``restApi`` object so the facility objects stay QuickWeb's.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, fields
from enum import StrEnum
from urllib.parse import urlsplit

from mockbank.fixtures import FixtureReader
from mockbank.providers.quickstream import models
from mockbank.providers.quickstream.models import QuickStreamFixtures

# Westpac's keys look like FACILITYCODE_SEC_<random> and FACILITYCODE_PUB_<random>.
KEY_SHAPE = re.compile(r"[A-Z0-9]+_(SEC|PUB)_[A-Za-z0-9]+")
# An allowed framing origin: scheme://host[:port], the port may be "*" (any).
ORIGIN_PATTERN = re.compile(r"(https?)://(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+)(?::(\*|[0-9]{1,5}))?")
DEFAULT_FRAME_ORIGINS = ("http://127.0.0.1:*", "http://localhost:*")


class KeyType(StrEnum):
    """A secret key is for the merchant's server; a publishable key may be put in a page."""

    SECRET = "SECRET"
    PUBLISHABLE = "PUBLISHABLE"


@dataclass(frozen=True)
class ApiKey:
    """One REST API key: the facility (by username) it opens, its name and type."""

    key: str
    name: str
    key_type: KeyType
    facility: str


@dataclass(frozen=True)
class RestSettings:
    """API keys and the origins allowed to frame the Trusted Frame."""

    keys: tuple[ApiKey, ...]
    frame_origins: tuple[str, ...]

    def keys_of(self, facility: str) -> list[ApiKey]:
        """The keys of one facility (for the banner and the dashboard)."""
        return [k for k in self.keys if k.facility == facility]


@dataclass(frozen=True)
class Fixtures(QuickStreamFixtures):
    """QuickWeb's fixtures plus the REST API's settings (QuickWeb code sees its own type)."""

    rest: RestSettings = RestSettings((), DEFAULT_FRAME_ORIGINS)


def _read_keys(reader: FixtureReader, facilities: QuickStreamFixtures) -> tuple[ApiKey, ...]:
    keys: list[ApiKey] = []
    seen: set[str] = set()
    usernames = {f.username for f in facilities.facilities}
    if reader.get("restApi.keys", list, default=None) is None:
        return ()
    for where, node in reader.items("restApi.keys"):
        if not isinstance(node, dict):
            raise reader.fail(where, "expected an object")
        key = reader.get("key", str, node=node)
        match = KEY_SHAPE.fullmatch(key)
        if match is None:
            raise reader.fail(f"{where}.key", "expected FACILITY_SEC_<letters> or _PUB_<letters>")
        if key in seen:
            raise reader.fail(f"{where}.key", "duplicate key")
        seen.add(key)
        key_type = reader.get("type", str, node=node)
        if key_type not in KeyType.__members__:
            raise reader.fail(f"{where}.type", "expected SECRET or PUBLISHABLE")
        if (match.group(1) == "SEC") != (key_type == KeyType.SECRET):
            raise reader.fail(
                f"{where}.type", f"{key_type} does not match the key's _{match.group(1)}_"
            )
        facility = reader.get("facility", str, node=node)
        if facility not in usernames:
            raise reader.fail(f"{where}.facility", f"no facility with username {facility!r}")
        name = reader.get("name", str, node=node, default=key_type.title() + " key")
        keys.append(ApiKey(key, name, KeyType(key_type), facility))
    return tuple(keys)


def _read_origins(reader: FixtureReader) -> tuple[str, ...]:
    origins = reader.get("restApi.trustedFrameOrigins", list, default=None)
    if origins is None:
        return DEFAULT_FRAME_ORIGINS
    for index, origin in enumerate(origins):
        if not isinstance(origin, str) or ORIGIN_PATTERN.fullmatch(origin) is None:
            raise reader.fail(
                f"restApi.trustedFrameOrigins.{index}",
                f"expected an origin such as https://shop.example or http://127.0.0.1:*, "
                f"got {origin!r}",
            )
    return tuple(origins)


def load_fixtures(reader: FixtureReader) -> Fixtures:
    """QuickWeb's facilities (validated by QuickWeb's loader) and the ``restApi`` object."""
    base = models.load_fixtures(reader)
    reader.get("restApi", dict, default={})
    rest = RestSettings(_read_keys(reader, base), _read_origins(reader))
    # Every field QuickWeb's loader filled is carried over, whatever QuickWeb adds later.
    carried = {f.name: getattr(base, f.name) for f in fields(base)}
    return Fixtures(**carried, rest=rest)


def origin_allowed(origin: str, allowed: tuple[str, ...]) -> bool:
    """Whether a page at `origin` (scheme://host[:port]) may frame the Trusted Frame."""
    try:
        parts = urlsplit(origin)
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        return False
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.path:
        return False
    for pattern in allowed:
        match = ORIGIN_PATTERN.fullmatch(pattern)
        if match is None:
            continue
        scheme, host, want_port = match.groups()
        if scheme != parts.scheme or host.strip("[]").lower() != parts.hostname.lower():
            continue
        default = 443 if scheme == "https" else 80
        if want_port in ("*", str(port)) or (want_port is None and port == default):
            return True
    return False
