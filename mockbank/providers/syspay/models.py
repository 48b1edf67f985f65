"""SysPay's rules: who is calling, card tokens, their detokenizers, one-time URLs, nonces.

No flask here: every function takes the store, the fixtures, the settings it needs and the
app clock's `now`. The stored kinds are in `records`.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from mockbank.providers.syspay import errors
from mockbank.providers.syspay.auth import Identity, LoginKind, verify_wsse_header
from mockbank.providers.syspay.records import (
    NS_NONCE,
    NS_REDIRECT,
    NS_SEQUENCE,
    NS_TOKEN,
    CreditCard,
    Detokenizer,
    DetokenizeType,
    Nonce,
    Redirect,
    RedirectStatus,
    Sequence,
    Token,
)
from mockbank.store import Record, Store, add_new

FIRST_TOKEN_ID = 1000001
DEFAULT_WINDOW_S = 300.0
DEFAULT_REDIRECT_TTL_S = 60.0


@dataclass(frozen=True)
class Partner:
    """A partner API login and the detokenization types its account may use."""

    login: str
    passphrase: str
    types: tuple[DetokenizeType, ...]


@dataclass(frozen=True)
class Merchant:
    """A merchant API login; merchants create and read tokens.

    `partners` may act for the merchant with SysPay's hospitality header (a merchant header
    signed by the partner as well). `company_references` holds, per partner login, the
    reference that partner registered the merchant under (a detokenization's
    ``company_reference`` must match it: SysPay's 60007).
    """

    login: str
    passphrase: str
    partners: tuple[str, ...] = ()
    company_references: tuple[tuple[str, str], ...] = ()

    def company_reference(self, partner: str) -> str | None:
        """The reference `partner` knows this merchant by, if one is registered."""
        return dict(self.company_references).get(partner)


@dataclass(frozen=True)
class DetokenizeRequest:
    """A validated detokenization body."""

    type: DetokenizeType
    viewer: str
    company_reference: str


@dataclass(frozen=True)
class SysPayFixtures:
    """fixtures/syspay.json, validated (`admin.load_fixtures`)."""

    partners: Mapping[str, Partner] = field(default_factory=dict)
    merchants: Mapping[str, Merchant] = field(default_factory=dict)
    tokens: tuple[Token, ...] = ()

    def passphrases(self, kind: str) -> dict[str, str]:
        """Login → passphrase for partners (``partner``) or merchants."""
        logins = self.partners if kind == "partner" else self.merchants
        return {login: p.passphrase for login, p in logins.items()}


def check_company_reference(
    fixtures: SysPayFixtures, partner: str, token: Token, reference: str
) -> None:
    """A partner that registered the token's merchant under a reference must send that one."""
    merchant = fixtures.merchants.get(token.merchant)
    expected = merchant.company_reference(partner) if merchant is not None else None
    if expected is not None and not hmac.compare_digest(reference.encode(), expected.encode()):
        raise errors.CompanyReferenceMismatch(
            "Company Reference does not match expected value (the reference this partner "
            f"registered merchant {token.merchant!r} under)."
        )


# -- who is calling -------------------------------------------------------------------------------
def authenticate(
    store: Store,
    fixtures: SysPayFixtures,
    header: str | None,
    *,
    expected: LoginKind,
    now: datetime,
    window_s: float,
    identified: Callable[[Identity], None] = lambda identity: None,
) -> Identity:
    """Verify X-Wsse for `expected` and refuse a replayed nonce before the body is read.

    `identified` hears of the verified caller before the last check (that a partner signing
    for a merchant is linked to it), so a refusal there is still journaled under the login.
    The nonce itself is spent only when the request succeeds (`spend_nonce`).
    """
    identity = verify_wsse_header(
        header,
        expected=expected,
        passphrases=fixtures.passphrases(str(expected)),
        partner_passphrases=fixtures.passphrases("partner"),
        now=now,
        window_s=window_s,
    )
    check_nonce_unused(store, identity)
    identified(identity)
    check_acting_partner(fixtures, identity)
    return identity


def check_acting_partner(fixtures: SysPayFixtures, identity: Identity) -> None:
    """A partner signing a merchant's header must be one the merchant works with (403)."""
    if identity.acting_partner is None:
        return
    merchant = fixtures.merchants[identity.login]
    if identity.acting_partner not in merchant.partners:
        raise errors.PartnerNotLinked(
            f"Partner {identity.acting_partner!r} may not act for merchant {identity.login!r}."
        )


# -- nonces ---------------------------------------------------------------------------------------
def check_nonce_unused(store: Store, identity: Identity) -> None:
    """Refuse a replay early (a 401 comes before any 400); the nonce is spent on success."""
    if store.record(NS_NONCE, identity.nonce_key) is not None:
        raise errors.ReplayedNonce()


def spend_nonce(store: Store, identity: Identity, *, now: datetime) -> None:
    """Atomically record the nonce; the loser of a race gets 401."""
    added = store.add(
        NS_NONCE,
        identity.nonce_key,
        Nonce(identity.login, identity.kind).to_value(),
        now=now,
        expires_at=identity.nonce_expires_at,
    )
    if not added:
        raise errors.ReplayedNonce()


# -- tokens ---------------------------------------------------------------------------------------
def seed_tokens(store: Store, fixtures: SysPayFixtures, *, now: datetime) -> None:
    """Write the fixture tokens where absent and start the id sequence after the highest one.

    A store that already counted on (after a restart) keeps its place in the sequence.
    """
    highest = FIRST_TOKEN_ID - 1
    for token in fixtures.tokens:
        store.add(NS_TOKEN, token.id, token.to_value(), now=now)
        if token.id.isdigit():
            highest = max(highest, int(token.id))
    if not store.add(NS_SEQUENCE, "token", Sequence(highest + 1).to_value(), now=now):

        def catch_up(value: dict[str, Any]) -> dict[str, Any]:
            return Sequence(max(Sequence.from_value(value).next, highest + 1)).to_value()

        store.update(NS_SEQUENCE, "token", catch_up, now=now)


def _next_token_id(store: Store, *, now: datetime) -> str:
    taken: list[int] = []

    def bump(value: dict[str, Any]) -> dict[str, Any]:
        current = Sequence.from_value(value).next
        taken.append(current)
        return Sequence(current + 1).to_value()

    if store.update(NS_SEQUENCE, "token", bump, now=now) is None:
        store.add(NS_SEQUENCE, "token", Sequence(FIRST_TOKEN_ID).to_value(), now=now)
        store.update(NS_SEQUENCE, "token", bump, now=now)
    return str(taken[-1])


def create_token(
    store: Store,
    identity: Identity,
    card: CreditCard,
    detokenizers: tuple[Detokenizer, ...],
    *,
    now: datetime,
) -> Token:
    """Spend the caller's nonce, then store a new token under the next id."""
    spend_nonce(store, identity, now=now)
    token = Token(
        _next_token_id(store, now=now),
        identity.login,
        card,
        detokenizers,
        int(now.timestamp()),
    )
    add_new(store, NS_TOKEN, token.id, token.to_value(), now=now)
    return token


def load_token(store: Store, token_id: str, *, now: datetime) -> Token:
    """A token by id, or SysPay's 404."""
    value = store.get(NS_TOKEN, token_id, now=now)
    if value is None:
        raise errors.UnknownToken(f"Resource not found (no token with id {token_id!r}).")
    return Token.from_value(value)


def merchant_token(store: Store, identity: Identity, token_id: str, *, now: datetime) -> Token:
    """A merchant's own token; another merchant's reads as unknown (nothing leaks)."""
    token = load_token(store, token_id, now=now)
    if token.merchant != identity.login:
        raise errors.UnknownToken(
            f"Resource not found (no token with id {token_id!r} for this merchant)."
        )
    spend_nonce(store, identity, now=now)
    return token


# -- detokenization -------------------------------------------------------------------------------
def detokenize(
    store: Store,
    fixtures: SysPayFixtures,
    identity: Identity,
    token_id: str,
    request: DetokenizeRequest,
    *,
    now: datetime,
    new_id: Callable[[], str],
    ttl_s: float = DEFAULT_REDIRECT_TTL_S,
) -> Redirect:
    """Check the partner may see this token as `request.type`; then mint a one-time URL id."""
    token = load_token(store, token_id, now=now)
    allowed = token.detokenizer(identity.login)
    if allowed is None:
        raise errors.NotADetokenizer(
            f"Invalid Detokenizer ID (partner {identity.login!r} is not in the list of "
            f"authorized detokenizers of token {token_id})."
        )
    account = fixtures.partners[identity.login]
    refused = f"No permission to detokenize as: {request.type}"
    if request.type not in account.types:
        raise errors.TypeNotAllowed(
            f"{refused} (partner {identity.login!r} is allowed {' and '.join(account.types)} only)."
        )
    if request.type not in allowed.types:
        raise errors.TypeNotAllowed(
            f"{refused} (token {token_id} allows partner {identity.login!r} "
            f"{' and '.join(allowed.types)} only)."
        )
    check_company_reference(fixtures, identity.login, token, request.company_reference)
    return _mint_redirect(store, identity, token, request, now=now, new_id=new_id, ttl_s=ttl_s)


def merchant_detokenize(
    store: Store,
    identity: Identity,
    token_id: str,
    request: DetokenizeRequest,
    *,
    now: datetime,
    new_id: Callable[[], str],
    ttl_s: float = DEFAULT_REDIRECT_TTL_S,
) -> Redirect:
    """The token's own merchant asks for a one-time URL; another merchant's token is unknown."""
    token = load_token(store, token_id, now=now)
    if token.merchant != identity.login:
        raise errors.UnknownToken(
            f"Resource not found (no token with id {token_id!r} for this merchant)."
        )
    return _mint_redirect(store, identity, token, request, now=now, new_id=new_id, ttl_s=ttl_s)


def _mint_redirect(
    store: Store,
    identity: Identity,
    token: Token,
    request: DetokenizeRequest,
    *,
    now: datetime,
    new_id: Callable[[], str],
    ttl_s: float,
) -> Redirect:
    """Spend the caller's nonce (every check has passed), then store a one-time URL id."""
    spend_nonce(store, identity, now=now)
    redirect = Redirect(
        new_id(),
        token.id,
        identity.login,
        request.type,
        request.viewer,
        request.company_reference,
        identity.kind,
    )
    add_new(
        store,
        NS_REDIRECT,
        redirect.id,
        redirect.to_value(),
        now=now,
        expires_at=now + timedelta(seconds=ttl_s),
    )
    return redirect


def open_redirect(store: Store, redirect_id: str, *, now: datetime) -> tuple[Redirect, Token]:
    """Use a detokenization URL: atomically, once, before it expires."""
    value = store.take_once(NS_REDIRECT, redirect_id, now=now)
    if value is None:
        record = store.record(NS_REDIRECT, redirect_id)
        if record is None:
            raise errors.UnknownRedirect()
        if record.used_at is not None:
            raise errors.RedirectUsed(
                "This detokenization URL was already used at "
                f"{readable_time(record.used_at)}; it works once. Request another one."
            )
        raise errors.RedirectExpired(
            f"This detokenization URL expired at {readable_time(record.expires_at)} "
            "(60 seconds after it was requested). Request another one."
        )
    redirect = Redirect.from_value(value)
    return redirect, load_token(store, redirect.token_id, now=now)


def peek_redirect(store: Store, redirect_id: str, *, now: datetime) -> DetokenizeType:
    """What a still-usable URL would show, without spending it (a HEAD from a link checker)."""
    record = store.record(NS_REDIRECT, redirect_id)
    if record is None:
        raise errors.UnknownRedirect()
    if record.used:
        raise errors.RedirectUsed()
    if record.expired(now):
        raise errors.RedirectExpired()
    return Redirect.from_value(record.value).type


def redirect_status(record: Record, now: datetime) -> RedirectStatus:
    """A stored URL's life: viewed once, else expired, else still pending."""
    if record.used:
        return RedirectStatus.VIEWED
    if record.expired(now):
        return RedirectStatus.EXPIRED
    return RedirectStatus.PENDING


def readable_time(moment: datetime | None) -> str:
    """``3 Dec 2026, 10:15:02 UTC``: how the card pages write a time."""
    return "?" if moment is None else f"{moment.day} {moment:%b %Y, %H:%M:%S} UTC"
