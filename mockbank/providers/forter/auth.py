"""HTTP Basic checks for the tokenization API and the proxy (the seed: same credentials)."""

from __future__ import annotations

import binascii
import hmac
from base64 import b64decode
from collections.abc import Iterable

from mockbank.providers.forter.errors import ProxyAuthenticationRequired, Unauthorized


def parse_basic(header: str | None) -> tuple[str, str] | None:
    """``Basic base64(user:password)`` → (user, password); None when absent or malformed."""
    if not header:
        return None
    scheme, _, value = header.strip().partition(" ")
    if scheme.lower() != "basic" or not value.strip():
        return None
    try:
        decoded = b64decode(value.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    user, sep, password = decoded.partition(":")
    if not sep:
        return None
    return user, password


def verify_site(header: str | None, sites: Iterable[tuple[str, str]]) -> str | None:
    """The site_id whose credentials `header` carries, or None; compared in constant time."""
    sent = parse_basic(header)
    if sent is None:
        return None
    user, password = sent[0].encode(), sent[1].encode()
    matched: str | None = None
    for site_id, secret in sites:
        # Every pair is compared (no early exit), so timing does not tell which part was wrong.
        ok_user = hmac.compare_digest(user, site_id.encode())
        ok_secret = hmac.compare_digest(password, secret.encode())
        if ok_user and ok_secret and matched is None:
            matched = site_id
    return matched


def require_site(header: str | None, sites: Iterable[tuple[str, str]]) -> str:
    """The tokenization API's check: the site_id, or 401 with ``WWW-Authenticate``."""
    site = verify_site(header, sites)
    if site is None:
        raise Unauthorized()
    return site


def require_proxy_site(header: str | None, sites: Iterable[tuple[str, str]]) -> str:
    """The proxy's check (on the CONNECT for https targets): the site_id, or 407."""
    site = verify_site(header, sites)
    if site is None:
        raise ProxyAuthenticationRequired(
            "Proxy authentication failed: send 'Proxy-Authorization: Basic "
            "base64(site_id:site_secret)' (on the CONNECT for https targets)."
        )
    return site
