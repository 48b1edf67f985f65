"""TokenOS JWT bearer authentication: EdDSA, detached payload, the claims in the JOSE header.

Token.io's API reference shows ``Authorization: Bearer <header>..<signature>``: a compact JWS
whose middle (payload) part is empty and whose protected header carries the claims ``alg``
(EdDSA), ``kid`` (a key of the member), ``mid`` (the member id), ``host``, ``method``, ``path``
and ``exp`` (epoch milliseconds). The detached payload is the request body (RFC 7515 appendix F):
the signature covers ``base64url(header) + "." + base64url(raw body)``, so a changed body, method,
path, host or expiry fails verification. Works on values passed in; no Flask.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from mockbank.clients.tokenos import base64url, base64url_decode
from mockbank.providers.tokenos.auth import member_key
from mockbank.providers.tokenos.errors import Unauthenticated
from mockbank.store import Store

CLAIMS = ("kid", "mid", "host", "method", "path", "exp")
TOKEN_MAX = 8192


@dataclass(frozen=True)
class JwtClaims:
    """The protected header of a Token.io JWT."""

    kid: str
    mid: str
    host: str
    method: str
    path: str
    exp_ms: int


@dataclass(frozen=True)
class BearerToken:
    """A parsed bearer JWT: its claims, the encoded header and the signature bytes."""

    claims: JwtClaims
    encoded_header: str
    signature: bytes


def _decode(part: str, what: str) -> bytes:
    try:
        return base64url_decode(part)
    except ValueError:
        raise Unauthenticated(f"the JWT {what} is not base64url") from None


def _claims(header: Any) -> JwtClaims:
    if not isinstance(header, dict):
        raise Unauthenticated("the JWT header is not a JSON object")
    if header.get("alg") != "EdDSA":
        raise Unauthenticated(f"JWT alg must be EdDSA, not {header.get('alg')!r}")
    missing = [c for c in CLAIMS if c not in header]
    if missing:
        raise Unauthenticated(f"the JWT header lacks {', '.join(missing)}")
    if not all(isinstance(header[c], str) and header[c] for c in CLAIMS if c != "exp"):
        raise Unauthenticated("JWT kid, mid, host, method and path must be non-empty strings")
    exp = header["exp"]
    # bool is an int in Python; "exp": true is not a time.
    if isinstance(exp, bool) or not isinstance(exp, int) or not 0 < exp < 10**15:
        raise Unauthenticated("JWT exp must be epoch milliseconds (a number)")
    return JwtClaims(
        header["kid"], header["mid"], header["host"], header["method"], header["path"], exp
    )


def parse_bearer(value: str) -> BearerToken:
    """Split ``Bearer <jwt>``; every failure is UNAUTHENTICATED naming what is wrong."""
    scheme, _, token = value.strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise Unauthenticated("expected Authorization: Bearer <JWT>")
    if len(token) > TOKEN_MAX:
        raise Unauthenticated("the JWT is too long")
    parts = token.split(".")
    if len(parts) != 3:
        raise Unauthenticated("a JWT has three dot-separated parts (header..signature)")
    encoded_header, payload, signature = parts
    if payload:
        raise Unauthenticated("the JWT payload must be detached (header..signature)")
    try:
        header = json.loads(_decode(encoded_header, "header"))
    except ValueError:
        raise Unauthenticated("the JWT header is not JSON") from None
    return BearerToken(_claims(header), encoded_header, _decode(signature, "signature"))


def verify_bearer(
    store: Store,
    value: str,
    *,
    method: str,
    hosts: list[str],
    paths: list[str],
    body: bytes,
    now: datetime,
) -> dict[str, Any]:
    """The member a bearer JWT authenticates, after every check; UNAUTHENTICATED otherwise.

    `hosts` and `paths` are the spellings the request may be signed for (with and without the
    mount prefix, with and without the query string); `now` is the app clock.
    """
    now_ms = int(now.timestamp() * 1000)
    token = parse_bearer(value)
    claims = token.claims
    if claims.exp_ms <= now_ms:
        raise Unauthenticated(f"the JWT expired at {claims.exp_ms} (server clock {now_ms})")
    if claims.method.upper() != method.upper():
        raise Unauthenticated(f"the JWT is for {claims.method}, not {method}")
    if claims.host.lower() not in [h.lower() for h in hosts]:
        raise Unauthenticated(f"the JWT is for host {claims.host!r}, not {hosts[0]!r}")
    if claims.path not in paths:
        raise Unauthenticated(f"the JWT is for path {claims.path!r}, not {paths[0]!r}")
    member, key = member_key(store, claims.mid, claims.kid, now=now)
    expires = key.get("expiresAtMs")
    if expires and str(expires).isdigit() and int(expires) <= now_ms:
        raise Unauthenticated(f"key {claims.kid} has expired")
    signing_input = f"{token.encoded_header}.{base64url(body)}".encode("ascii")
    try:
        public = Ed25519PublicKey.from_public_bytes(base64url_decode(key["publicKey"]))
        public.verify(token.signature, signing_input)
    except (InvalidSignature, ValueError):
        raise Unauthenticated(
            "JWT signature verification failed: sign base64url(header) + '.' + "
            "base64url(raw request body) with the key named by kid"
        ) from None
    return member
