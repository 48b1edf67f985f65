"""Who is calling: the caller's IP against the allow-list, facility credentials, session checks."""

from __future__ import annotations

import functools
import hmac
import ipaddress
from collections.abc import Iterable

from mockbank.providers.quickstream.errors import BadCredentials, IpNotAllowed
from mockbank.providers.quickstream.models.common import Facility, QuickStreamFixtures


def secrets_equal(sent: str, expected: str) -> bool:
    """Constant-time comparison of two secrets (UTF-8 bytes, so any text compares)."""
    return hmac.compare_digest(sent.encode("utf-8"), expected.encode("utf-8"))


@functools.lru_cache(maxsize=1024)  # every token request parses the same few addresses
def _normalize_ip(text: str) -> str | None:
    try:
        address = ipaddress.ip_address(text.strip().strip("[]"))
    except ValueError:
        return None
    # An IPv4 client seen through a dual-stack socket arrives as ::ffff:a.b.c.d.
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return str(address)


def client_ip(
    remote_addr: str | None, forwarded_for: str | None, trusted_proxies: Iterable[str]
) -> str | None:
    """The caller's address: the socket peer, or X-Forwarded-For behind a trusted proxy only.

    The header is read right to left, skipping trusted proxies, so a client cannot prepend a
    forged address of its own.
    """
    peer = _normalize_ip(remote_addr or "")
    trusted = {ip for ip in (_normalize_ip(p) for p in trusted_proxies) if ip}
    if peer is None or peer not in trusted or not forwarded_for:
        return peer
    hops = [_normalize_ip(part) for part in forwarded_for.split(",")]
    for hop in reversed(hops):
        if hop is None:
            return peer  # a malformed header is ignored rather than trusted
        if hop not in trusted:
            return hop
    return peer


def check_ip(ip: str | None, allowed: Iterable[str]) -> None:
    """Raise `IpNotAllowed` unless `ip` is on the list (entries may be networks: 10.0.0.0/8)."""
    if ip is not None and _ip_allowed(ip, tuple(allowed)):
        return
    raise IpNotAllowed(
        f"The IP address {ip or 'unknown'} is not allowed to request tokens for this facility."
        " Add it to allowedIps in fixtures/quickstream.json."
    )


@functools.lru_cache(maxsize=1024)  # the same few addresses and lists, request after request
def _ip_allowed(ip: str, allowed: tuple[str, ...]) -> bool:
    address = ipaddress.ip_address(ip)
    for entry in allowed:
        network = _network(entry)
        if address.version == network.version and address in network:
            return True
    return False


@functools.lru_cache(maxsize=256)
def _network(entry: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
    return ipaddress.ip_network(entry, strict=False)


def authenticate(
    fixtures: QuickStreamFixtures, username: str, password: str, ip: str | None
) -> Facility:
    """The facility these credentials open, after the IP check; 403 before 401."""
    facility = fixtures.facility_by_username(username) if username else None
    if facility is None:
        # Unknown users are checked against every facility's list so an outsider learns
        # nothing about which usernames exist.
        check_ip(ip, fixtures.all_allowed_ips())
        secrets_equal(password, "unknown-user-dummy-password")
        raise BadCredentials(None if username else "username is required.")
    check_ip(ip, facility.allowed_ips)
    if not password:
        raise BadCredentials("password is required.")
    if not secrets_equal(password, facility.password):
        raise BadCredentials()
    return facility
