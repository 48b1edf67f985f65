"""TokenOS request authentication: the Ed25519 ``Authorization`` header and sandbox API keys.

Everything here works on values passed in (header text, raw body, keys); no Flask.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from mockbank.clients.tokenos import SIGNATURE_SCHEME, loads, signing_payload, verify_json
from mockbank.providers.tokenos.errors import InvalidArgument, Unauthenticated
from mockbank.providers.tokenos.models.common import (
    ms,
)
from mockbank.providers.tokenos.models.fixtures import Fixtures, SeedMember
from mockbank.providers.tokenos.models.members import find_key
from mockbank.providers.tokenos.records.members import NS_MEMBER
from mockbank.providers.tokenos.records.nonces import NS_NONCE, Nonce
from mockbank.store import Store

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


def api_key_member(fixtures: Fixtures, user: str, password: str) -> SeedMember:
    """The seeded member an HTTP Basic ``memberId:apiKey`` pair names; 401 otherwise."""
    name = match_api_key(password, fixtures.api_keys)
    seeded = fixtures.member_by_name(name) if name else None
    if seeded is None:
        raise Unauthenticated("unknown API key")
    if user and user not in (seeded.member_id, seeded.member_id.replace(":", "-")):
        raise Unauthenticated("the API key belongs to another member")
    return seeded


def real_ms(epoch_s: float, offset_s: float) -> int:
    """The real (wall) time, in ms, behind an app clock at `epoch_s` moved by `offset_s`."""
    return int((epoch_s - offset_s) * 1000)


def nonce_expires_at(now: datetime, offset_s: float, window_s: int = DEFAULT_WINDOW_S) -> datetime:
    """How long a used signature is remembered: the freshness window around both the app
    clock and real time, so no replay can be fresh by either once the nonce is gone."""
    return now + timedelta(seconds=2 * window_s + abs(offset_s))


def refuse_replay(
    store: Store, signed: SignedHeader, method: str, *, now: datetime, offset_s: float
) -> None:
    """Claim a state-changing call's signature once; a replay is 401 UNAUTHENTICATED.

    Identical GETs (and HEADs) within a millisecond carry the same signature and are allowed.
    """
    if method in ("GET", "HEAD"):
        return
    key = f"{signed.member_id}:{signed.signature}"
    expires_at = nonce_expires_at(now, offset_s)
    if not store.add(NS_NONCE, key, Nonce().to_value(), now=now, expires_at=expires_at):
        raise Unauthenticated("replayed request: this signature has been used already")


@dataclass(frozen=True)
class SignedCall:
    """What a signed call's signature covers, as the request arrived."""

    method: str
    uri_hosts: list[str]
    paths: list[str]
    body: Any
    query: str


def signing_key(
    store: Store, signed: SignedHeader, *, now: datetime
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The member a signature header names and the key it signed with; 401 when unknown."""
    return member_key(store, signed.member_id, signed.key_id, now=now)


def member_key(
    store: Store, member_id: str, key_id: str, *, now: datetime
) -> tuple[dict[str, Any], dict[str, Any]]:
    """A member and one of its keys, by id; 401 UNAUTHENTICATED naming the unknown one."""
    member = store.get(NS_MEMBER, member_id, now=now)
    if member is None:
        raise Unauthenticated(f"unknown member {member_id}")
    key = find_key(member, key_id)
    if key is None:
        raise Unauthenticated(f"key {key_id} is not a key of {member_id}")
    return member, key


def check_signed_call(
    store: Store,
    signed: SignedHeader,
    key: dict[str, Any],
    call: SignedCall,
    *,
    now: datetime,
    epoch_s: float,
    offset_s: float,
) -> None:
    """A fresh, verifying signature, used once; 401 UNAUTHENTICATED otherwise.

    `epoch_s` and `offset_s` are the app clock's reading and how far it was moved from real
    time: clients sign with their own wall clock, so a call fresh by either is accepted.
    """
    verify_signed_request(
        signed,
        key,
        method=call.method,
        uri_hosts=call.uri_hosts,
        paths=call.paths,
        body=call.body,
        query=call.query,
        now_ms=ms(now),
        real_ms=real_ms(epoch_s, offset_s),
        window_s=DEFAULT_WINDOW_S,
    )
    refuse_replay(store, signed, call.method, now=now, offset_s=offset_s)
