"""The outbound policy: mockbank calls out only where a user said it may (DESIGN §1).

Loopback addresses, hosts mapped with ``--upstream HOST=URL`` and hosts named with
``--allow-outbound HOST``. Anything else is refused before any DNS lookup or connection.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from urllib.parse import urlsplit, urlunsplit

ECHO = "echo"


@dataclass(frozen=True)
class Target:
    """Where a call will really go: a URL, or the built-in echo target."""

    url: str
    mapped_from: str | None = None

    @property
    def echo(self) -> bool:
        return self.url == ECHO


class OutboundRefused(Exception):
    """The host is neither loopback, mapped nor allowed; nothing was attempted."""


def is_loopback(host: str) -> bool:
    """True for localhost and loopback IP literals, decided without DNS."""
    host = host.strip("[]").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@dataclass
class OutboundPolicy:
    upstreams: dict[str, str] = field(default_factory=dict)
    allowed: frozenset[str] = frozenset()

    def resolve(self, url: str) -> Target:
        """Map `url` per the policy, or raise `OutboundRefused` saying how to allow it."""
        parts = urlsplit(url)
        host = (parts.hostname or "").lower()
        if not host:
            raise OutboundRefused(f"{url!r} has no host")
        authority = f"{host}:{parts.port}" if parts.port else host
        mapped = self.upstreams.get(authority) or self.upstreams.get(host)
        if mapped is not None:
            if mapped == ECHO:
                return Target(ECHO, mapped_from=host)
            base = urlsplit(mapped if "://" in mapped else f"http://{mapped}")
            path = base.path.rstrip("/") + (parts.path or "/")
            return Target(
                urlunsplit((base.scheme, base.netloc, path, parts.query, "")), mapped_from=host
            )
        if is_loopback(host) or host in self.allowed:
            return Target(url)
        raise OutboundRefused(
            f"mockbank does not call {host}: it is an offline sandbox. Map the host with "
            f"--upstream {host}=URL (or =echo), or allow it with --allow-outbound {host}."
        )


def parse_upstreams(values: list[str] | tuple[str, ...]) -> dict[str, str]:
    """Parse ``HOST=URL`` pairs (``HOST=echo`` for the echo target)."""
    result: dict[str, str] = {}
    for value in values:
        host, sep, target = value.partition("=")
        if not sep or not host.strip() or not target.strip():
            raise ValueError(f"--upstream expects HOST=URL or HOST=echo, got {value!r}")
        result[host.strip().lower()] = target.strip()
    return result
