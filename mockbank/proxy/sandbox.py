"""Which sandbox a proxied request belongs to: named in the proxy credentials.

A client selects a sandbox with the proxy URL alone, by writing the sandbox name after the site
id and a ``+``: ``http://SITE_ID+team-a:SITE_SECRET@127.0.0.1:8788``. The suffix is removed
before the tenant's view checks the credentials, and the request is served under
``/s/<sandbox>/`` as if it had come to the main port with that prefix. A CONNECT's choice holds
for every request inside its tunnel.
"""

from __future__ import annotations

import base64
import binascii
from functools import lru_cache
from typing import Any

from mockbank.sandboxes import NAME

# Where a tunnel remembers the sandbox its CONNECT chose (not a real header name).
TUNNEL_KEY = ":mockbank-sandbox"


@lru_cache(maxsize=256)  # every request in a tunnel carries its CONNECT's credentials again
def split_credentials(value: str | None) -> tuple[str | None, str | None]:
    """``Basic base64(site+sandbox:secret)`` → (``Basic base64(site:secret)``, sandbox)."""
    if not value:
        return value, None
    scheme, _, encoded = value.strip().partition(" ")
    if scheme.lower() != "basic":
        return value, None
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return value, None
    user, colon, secret = decoded.partition(":")
    site, plus, sandbox = user.rpartition("+")
    if not colon or not plus or not site or not NAME.match(sandbox):
        return value, None
    rebuilt = base64.b64encode(f"{site}:{secret}".encode()).decode("ascii")
    return f"Basic {rebuilt}", sandbox


def route_to_sandbox(environ: dict[str, Any], connect_headers: dict[str, str]) -> None:
    """Move a proxied request into the sandbox its credentials (or its tunnel) name."""
    header, sandbox = split_credentials(connect_headers.get("proxy-authorization"))
    if sandbox is not None:
        connect_headers["proxy-authorization"] = header or ""
        connect_headers[TUNNEL_KEY] = sandbox
    header, own = split_credentials(environ.get("HTTP_PROXY_AUTHORIZATION"))
    if own is not None:
        environ["HTTP_PROXY_AUTHORIZATION"] = header
    chosen = own or connect_headers.get(TUNNEL_KEY)
    if chosen:
        environ["PATH_INFO"] = f"/s/{chosen}{environ['PATH_INFO']}"
