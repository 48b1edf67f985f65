"""Request helpers every TokenOS view shares: the caller, the body, the access grant."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import request

from mockbank.providers.tokenos import auth
from mockbank.providers.tokenos.auth import parse_basic, parse_body, parse_signed_header
from mockbank.providers.tokenos.auth_jwt import verify_bearer
from mockbank.providers.tokenos.errors import Unauthenticated
from mockbank.providers.tokenos.models import accounts, members
from mockbank.providers.tokenos.models import fixtures as fixtures_rules
from mockbank.providers.tokenos.records.tokens import StoredToken
from mockbank.providers.tokenos.settings import settings
from mockbank.routing import journal_note
from mockbank.state import State, current_state

PREFIX = "/tokenos"


@dataclass(frozen=True)
class Caller:
    """Who signed the call, and the access token it acts under (``on-behalf-of``)."""

    member: dict[str, Any]
    on_behalf_of: str | None

    @property
    def id(self) -> str:
        return str(self.member["id"])


def provider_state() -> tuple[State, fixtures_rules.Fixtures]:
    """The app state and Token.io's fixtures."""
    state = current_state()
    fixtures: fixtures_rules.Fixtures = state.fixtures["tokenos"]
    return state, fixtures


def lenient_signatures(state: State) -> bool:
    """Whether signatures are accepted unchecked (``tokenos.lenient_signatures``)."""
    return settings(state).lenient_signatures


def request_body() -> Any:
    """The JSON body (``{}`` when empty); 400 INVALID_ARGUMENT when malformed."""
    return parse_body(request.get_data(cache=True))


def signed_paths() -> list[str]:
    """The path the caller may have signed, without the ``/tokenos`` mount."""
    # The SDK signs the path it was given; accept the decoded and the raw spelling.
    paths = [request.path]
    raw = request.environ.get("RAW_URI") or request.environ.get("REQUEST_URI")
    if raw:
        raw_path = raw.split("?", 1)[0]
        if "://" in raw_path:
            raw_path = "/" + raw_path.split("://", 1)[1].partition("/")[2]
        paths.append(raw_path)
    out = []
    for path in paths:
        bare = path[len(PREFIX) :] if path.startswith(PREFIX + "/") or path == PREFIX else path
        if bare not in out:
            out.append(bare or "/")
    return out


def authenticate() -> Caller:
    """A signed (or sandbox API key) caller; 401 UNAUTHENTICATED otherwise."""
    state, fixtures = provider_state()
    header = request.headers.get("Authorization", "")
    if not header:
        raise Unauthenticated(
            "this call needs Authorization: Token-Ed25519-SHA512 …, Bearer <JWT> or Basic (API key)"
        )
    now = state.now()
    if header.lower().startswith("basic "):
        user, password = parse_basic(header)
        seeded = auth.api_key_member(fixtures, user, password)
        seeded_member = members.get_member(state.store, seeded.member_id, now=now)
        journal_note("auth", "api-key")
        return Caller(seeded_member, request.headers.get("on-behalf-of") or None)
    if header.lower().startswith("bearer "):
        return jwt_caller(state, header)
    signed = parse_signed_header(header)
    member, key = auth.signing_key(state.store, signed, now=now)
    journal_note("member", signed.member_id)
    if lenient_signatures(state):
        journal_note("auth", "lenient")
        return Caller(member, signed.on_behalf_of)
    host = request.host + request.script_root
    call = auth.SignedCall(
        method=request.method,
        uri_hosts=[host + PREFIX, host],
        paths=signed_paths(),
        body=request_body(),
        query=request.query_string.decode("utf-8", "replace"),
    )
    snapshot = state.clock.snapshot()
    auth.check_signed_call(
        state.store,
        signed,
        key,
        call,
        now=now,
        epoch_s=float(snapshot["epoch"]),
        offset_s=float(snapshot["offset_s"]),
    )
    return Caller(member, signed.on_behalf_of)


def jwt_caller(state: State, header: str) -> Caller:
    """A caller authenticated by a bearer JWT (EdDSA, detached body, claims in the header)."""
    query = request.query_string.decode("utf-8", "replace")
    paths = signed_paths()
    spellings = paths + [PREFIX + p for p in paths]
    if query:
        spellings += [f"{p}?{query}" for p in spellings]
    host = request.host
    member = verify_bearer(
        state.store,
        header,
        method=request.method,
        hosts=[host, host + request.script_root + PREFIX],
        paths=spellings,
        body=request.get_data(cache=True),
        now=state.now(),
    )
    journal_note("auth", "jwt")
    journal_note("member", member["id"])
    return Caller(member, request.headers.get("on-behalf-of") or None)


def caller_grant(state: State, caller: Caller) -> StoredToken | None:
    if not caller.on_behalf_of:
        return None
    return accounts.access_grant(state.store, caller.id, caller.on_behalf_of, now=state.now())


def arg(name: str) -> str:
    return request.args.get(name, "")
