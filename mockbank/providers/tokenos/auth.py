"""TokenOS request authentication: the Ed25519 ``Authorization`` header and sandbox API keys.

Everything here works on values passed in (header text, raw body, keys); no Flask.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import re
from dataclasses import dataclass
from typing import Any

from mockbank.clients.tokenos import SIGNATURE_SCHEME, loads, signing_payload, verify_json
from mockbank.providers.tokenos.errors import InvalidArgument, Unauthenticated

# created-at-ms further than this from the app clock is stale (our choice; Token.io's gateway
# rejects old signatures but does not document the window).
DEFAULT_WINDOW_S = 300


@dataclass(frozen=True)
class SignedHeader:
    """The fields of ``Authorization: Token-Ed25519-SHA512 member-id=…,key-id=…,…``."""

    member_id: str
    key_id: str
    signature: str
    created_at_ms: str
    on_behalf_of: str | None


def parse_signed_header(value: str) -> SignedHeader:
    """Split the header; every failure is UNAUTHENTICATED naming what is wrong."""
    scheme, _, rest = value.strip().partition(" ")
    if scheme != SIGNATURE_SCHEME:
        raise Unauthenticated(f"Authorization scheme must be {SIGNATURE_SCHEME}, Bearer or Basic")
    fields: dict[str, str] = {}
    for part in rest.split(","):
        name, sep, field_value = part.strip().partition("=")
        if not sep or not name:
            raise Unauthenticated(f"malformed Authorization field {part.strip()!r}")
        fields[name] = field_value
    missing = [f for f in ("member-id", "key-id", "signature", "created-at-ms") if f not in fields]
    if missing:
        raise Unauthenticated(f"Authorization header lacks {', '.join(missing)}")
    # isascii too: "²".isdigit() is True, yet int("²") raises; and int() refuses 4300+ digits.
    created = fields["created-at-ms"]
    if not (len(created) <= 15 and created.isascii() and created.isdigit()):
        raise Unauthenticated("created-at-ms must be milliseconds since the epoch")
    return SignedHeader(
        member_id=fields["member-id"],
        key_id=fields["key-id"],
        signature=fields["signature"],
        created_at_ms=fields["created-at-ms"],
        on_behalf_of=fields.get("on-behalf-of") or None,
    )


def parse_body(raw: bytes) -> Any:
    """The JSON body (numbers kept verbatim) or None when empty."""
    if not raw.strip():
        return None
    try:
        return loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as error:
        raise InvalidArgument(f"the body is not valid JSON: {error}") from None


def verify_signed_request(
    header: SignedHeader,
    key: dict[str, Any],
    *,
    method: str,
    uri_hosts: list[str],
    paths: list[str],
    body: Any,
    query: str,
    now_ms: int,
    real_ms: int | None = None,
    window_s: int = DEFAULT_WINDOW_S,
) -> None:
    """Check freshness and the signature over every (host, path) spelling the call may have.

    `now_ms` is the app clock; `real_ms` the real time it is offset from. Clients sign with
    their own wall clock, so a call fresh by either stays valid after a test moves the clock.
    """
    created = int(header.created_at_ms)
    fresh = [t for t in (now_ms, real_ms) if t is not None and abs(t - created) <= window_s * 1000]
    if not fresh:
        raise Unauthenticated(
            f"stale request: created-at-ms {header.created_at_ms} is more than {window_s} s "
            f"from the server clock ({now_ms})"
        )
    expires = key.get("expiresAtMs")
    if expires and re.fullmatch(r"[0-9]{1,15}", str(expires)) and int(expires) <= now_ms:
        raise Unauthenticated(f"key {header.key_id} has expired")
    for host in uri_hosts:
        for path in paths:
            payload = signing_payload(method, host, path, header.created_at_ms, body, query)
            if verify_json(payload, header.signature, key["publicKey"]):
                return
    raise Unauthenticated(
        "signature verification failed: sign the canonical JSON of "
        "{method, uriHost, uriPath, createdAtMs, requestBody?, queryString?}"
    )


def parse_basic(value: str) -> tuple[str, str]:
    """(user, password) of ``Authorization: Basic …``."""
    scheme, _, encoded = value.strip().partition(" ")
    if scheme.lower() != "basic":
        raise Unauthenticated("not HTTP Basic")
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, ValueError):
        raise Unauthenticated("HTTP Basic credentials are not base64") from None
    # Member ids contain colons (m:…:5zKtXEAq); API keys do not, so split at the last one.
    user, sep, password = decoded.rpartition(":")
    if not sep:
        raise Unauthenticated("HTTP Basic credentials must be memberId:apiKey")
    return user, password


def match_api_key(password: str, keys: dict[str, str]) -> str | None:
    """The member name an API key maps to, compared in constant time."""
    found = None
    for key, member in keys.items():
        if hmac.compare_digest(password.encode(), key.encode()):
            found = member
    return found
