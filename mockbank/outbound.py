"""The outbound policy: mockbank calls out only where a user said it may.

Loopback addresses, hosts mapped with ``--upstream HOST=URL`` and hosts named with
``--allow-outbound HOST``. Anything else is refused before any DNS lookup or connection.
``localhost`` and every ``*.localhost`` name are loopback by rule (RFC 6761 §6.3), not by
resolution: `create_connection` connects them to 127.0.0.1 (or ::1) without asking DNS.
"""

from __future__ import annotations

import http.client
import ipaddress
import socket
from dataclasses import dataclass, field
from urllib.parse import urlsplit, urlunsplit

ECHO = "echo"


@dataclass(frozen=True)
class Target:
    """Where a call will really go: a URL, or the built-in echo target."""

    url: str

    @property
    def echo(self) -> bool:
        return self.url == ECHO


class OutboundRefused(Exception):
    """The host is neither loopback, mapped nor allowed; nothing was attempted."""


def is_localhost_name(host: str) -> bool:
    """``localhost`` or a name under it (``shop.localhost``): loopback by RFC 6761."""
    host = host.strip("[]").lower().rstrip(".")
    return host == "localhost" or host.endswith(".localhost")


def is_loopback(host: str) -> bool:
    """True for localhost names and loopback IP literals, decided without DNS."""
    host = host.strip("[]").lower()
    if is_localhost_name(host):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@dataclass
class OutboundPolicy:
    upstreams: dict[str, str] = field(default_factory=dict)
    allowed: frozenset[str] = frozenset()

    def resolve(self, url: str, *, loopback: bool = True) -> Target:
        """Map `url` per the policy, or raise `OutboundRefused` saying how to allow it.

        With ``loopback=False`` (the Forter proxy listening beyond loopback) an unmapped
        loopback target is refused too: the network must not reach this machine's services.
        """
        parts = urlsplit(url)
        host = (parts.hostname or "").lower()
        if not host:
            raise OutboundRefused(f"{url!r} has no host")
        authority = f"{host}:{parts.port}" if parts.port else host
        mapped = self.upstreams.get(authority) or self.upstreams.get(host)
        if mapped is not None:
            if mapped == ECHO:
                return Target(ECHO)
            base = urlsplit(mapped if "://" in mapped else f"http://{mapped}")
            path = base.path.rstrip("/") + (parts.path or "/")
            return Target(urlunsplit((base.scheme, base.netloc, path, parts.query, "")))
        if host in self.allowed or (loopback and is_loopback(host)):
            return Target(url)
        if is_loopback(host):
            raise OutboundRefused(
                f"mockbank does not relay to {host} from a proxy open to the network; map it "
                f"with --upstream {host}=URL (or =echo) to let it through."
            )
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


def create_connection(
    address: tuple[str, int], timeout: float | None = None, *_: object
) -> socket.socket:
    """`socket.create_connection`, except that localhost names never reach DNS."""
    host, port = address
    if not is_localhost_name(host):
        return socket.create_connection((host, port), timeout)
    failure: OSError | None = None
    for loopback in ("127.0.0.1", "::1"):
        try:
            return socket.create_connection((loopback, port), timeout)
        except OSError as error:
            failure = error
    assert failure is not None
    raise failure


def http_connection(url: str, timeout: float) -> http.client.HTTPConnection:
    """An HTTP(S) connection to `url`'s origin that connects through `create_connection`."""
    parts = urlsplit(url)
    kind = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    connection = kind(parts.hostname or "", parts.port, timeout=timeout)
    connection._create_connection = create_connection  # type: ignore[attr-defined]
    return connection
