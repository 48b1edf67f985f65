"""SysPay's rules: card tokens, their detokenizers, one-time detokenization URLs, nonces.

No flask here: every function takes the store and the app clock's `now`.
"""

from __future__ import annotations

import hmac
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from mockbank.masking import mask_pan
from mockbank.providers.syspay import errors
from mockbank.providers.syspay.auth import Identity, LoginKind
from mockbank.store import Store, add_new

NS_TOKEN = "syspay.token"
NS_REDIRECT = "syspay.redirect"
NS_NONCE = "syspay.nonce"
NS_SEQUENCE = "syspay.sequence"
FIRST_TOKEN_ID = 1000001
DEFAULT_WINDOW_S = 300.0
DEFAULT_REDIRECT_TTL_S = 60.0


class DetokenizeType(StrEnum):
    """How the card is shown: an HTML page (TEXT) or a PNG (IMAGE)."""

    TEXT = "TEXT"
    IMAGE = "IMAGE"


ALL_TYPES = (DetokenizeType.TEXT, DetokenizeType.IMAGE)


def is_type(value: Any) -> bool:
    """True for exactly "TEXT" or "IMAGE" (a dict or list is simply not one)."""
    return isinstance(value, str) and value in DetokenizeType.__members__


class RedirectStatus(StrEnum):
    """A detokenization URL's life: requested, then viewed once or expired unviewed."""

    PENDING = "PENDING"
    VIEWED = "VIEWED"
    EXPIRED = "EXPIRED"


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
class CreditCard:
    """Card details held by a token; the CVC is never kept (PCI DSS 3.2)."""

    number: str
    cardholder: str
    exp_month: int
    exp_year: int

    @property
    def display(self) -> str:
        return mask_pan(self.number)

    @property
    def scheme(self) -> str:
        return card_scheme(self.number)

    @property
    def expiry(self) -> str:
        return f"{self.exp_month:02d}/{self.exp_year}"

    def expired(self, now: datetime) -> bool:
        """True once the expiry month has ended on the app clock."""
        return (self.exp_year, self.exp_month) < (now.year, now.month)

    def public(self) -> dict[str, Any]:
        """Masked: what the merchant API and the state view show."""
        return {
            "class": "creditcard",
            "display": self.display,
            "scheme": self.scheme,
            "cardholder": self.cardholder,
            "exp_month": f"{self.exp_month:02d}",
            "exp_year": str(self.exp_year),
        }


@dataclass(frozen=True)
class Detokenizer:
    """A partner allowed to detokenize one token, and with which types."""

    login: str
    types: tuple[DetokenizeType, ...]

    def as_dict(self) -> dict[str, Any]:
        return {"login": self.login, "types": [str(t) for t in self.types]}


@dataclass(frozen=True)
class Token:
    """A card token: the card, its merchant and who may detokenize it."""

    id: str
    merchant: str
    card: CreditCard
    detokenizers: tuple[Detokenizer, ...]
    created: int

    def detokenizer(self, login: str) -> Detokenizer | None:
        """This partner's entry in the token's list, if any."""
        return next((d for d in self.detokenizers if d.login == login), None)

    def to_value(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "merchant": self.merchant,
            "card": {
                "number": self.card.number,
                "cardholder": self.card.cardholder,
                "exp_month": self.card.exp_month,
                "exp_year": self.card.exp_year,
            },
            "detokenizers": [d.as_dict() for d in self.detokenizers],
            "created": self.created,
        }

    @classmethod
    def from_value(cls, value: dict[str, Any]) -> Token:
        card = value["card"]
        return cls(
            id=value["id"],
            merchant=value["merchant"],
            card=CreditCard(
                card["number"], card["cardholder"], int(card["exp_month"]), int(card["exp_year"])
            ),
            detokenizers=tuple(
                Detokenizer(d["login"], tuple(DetokenizeType(t) for t in d["types"]))
                for d in value["detokenizers"]
            ),
            created=int(value["created"]),
        )

    def public(self) -> dict[str, Any]:
        """The masked token, as ``GET /api/v2/merchant/token/<id>`` returns it."""
        return {
            "class": "token",
            "id": self.id,
            "status": "ACTIVE",
            "display": self.card.display,
            "creditcard": self.card.public(),
            "detokenizers": [d.as_dict() for d in self.detokenizers],
            "created": self.created,
        }


@dataclass(frozen=True)
class DetokenizeRequest:
    """A validated detokenization body."""

    type: DetokenizeType
    viewer: str
    company_reference: str


@dataclass(frozen=True)
class Redirect:
    """One detokenization URL: who asked (partner or the token's merchant), for whom, which token.

    `partner` holds the asking login whichever kind it is (the field predates merchant
    detokenization, and stored records keep their shape); `requested_by` says which kind.
    """

    id: str
    token_id: str
    partner: str
    type: DetokenizeType
    viewer: str
    company_reference: str
    requested_by: LoginKind = LoginKind.PARTNER

    def to_value(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "token_id": self.token_id,
            "partner": self.partner,
            "type": str(self.type),
            "viewer": self.viewer,
            "company_reference": self.company_reference,
            "requested_by": str(self.requested_by),
        }

    @classmethod
    def from_value(cls, value: dict[str, Any]) -> Redirect:
        return cls(
            value["id"],
            value["token_id"],
            value["partner"],
            DetokenizeType(value["type"]),
            value["viewer"],
            value["company_reference"],
            LoginKind(value.get("requested_by", "partner")),
        )


@dataclass
class SysPayFixtures:
    """fixtures/syspay.json, validated."""

    partners: dict[str, Partner] = field(default_factory=dict)
    merchants: dict[str, Merchant] = field(default_factory=dict)
    tokens: list[Token] = field(default_factory=list)

    def passphrases(self, kind: str) -> dict[str, str]:
        """Login → passphrase for partners (``partner``) or merchants."""
        logins = self.partners if kind == "partner" else self.merchants
        return {login: p.passphrase for login, p in logins.items()}


def card_scheme(number: str) -> str:
    """The card scheme from the number's prefix (IIN ranges)."""
    if number.startswith("4"):
        return "VISA"
    if re.match(r"5[1-5]|2(2[2-9][1-9]|2[3-9]\d|[3-6]\d\d|7[01]\d|720)", number):
        return "MASTERCARD"
    if re.match(r"3[47]", number):
        return "AMEX"
    if re.match(r"6011|65|64[4-9]", number):
        return "DISCOVER"
    if re.match(r"35(2[89]|[3-8]\d)", number):
        return "JCB"
    if re.match(r"3(0[0-5]|[689])", number):
        return "DINERS"
    return "UNKNOWN"


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


# -- a partner acting for a merchant ---------------------------------------------------------------
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
        {"login": identity.login, "kind": str(identity.kind)},
        now=now,
        expires_at=identity.nonce_expires_at,
    )
    if not added:
        raise errors.ReplayedNonce()


# -- tokens ---------------------------------------------------------------------------------------
def seed(store: Store, fixtures: SysPayFixtures, *, now: datetime) -> None:
    """Write the fixture tokens where absent and start the id sequence after the highest one.

    A store that already counted on (after a restart) keeps its place in the sequence.
    """
    highest = FIRST_TOKEN_ID - 1
    for token in fixtures.tokens:
        store.add(NS_TOKEN, token.id, token.to_value(), now=now)
        if token.id.isdigit():
            highest = max(highest, int(token.id))
    if not store.add(NS_SEQUENCE, "token", {"next": highest + 1}, now=now):
        store.update(
            NS_SEQUENCE, "token", lambda v: {"next": max(int(v["next"]), highest + 1)}, now=now
        )


def _next_token_id(store: Store, *, now: datetime) -> str:
    taken: list[int] = []

    def bump(value: dict[str, Any]) -> dict[str, Any]:
        taken.append(int(value["next"]))
        return {"next": int(value["next"]) + 1}

    if store.update(NS_SEQUENCE, "token", bump, now=now) is None:
        store.add(NS_SEQUENCE, "token", {"next": FIRST_TOKEN_ID}, now=now)
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


def readable_time(moment: datetime | None) -> str:
    """``3 Dec 2026, 10:15:02 UTC``: how the card pages write a time."""
    return "?" if moment is None else f"{moment.day} {moment:%b %Y, %H:%M:%S} UTC"


def _iso(moment: datetime | None) -> str:
    return "?" if moment is None else moment.isoformat().replace("+00:00", "Z")


def state_view(store: Store, *, now: datetime) -> dict[str, Any]:
    """Tokens (masked), detokenization URLs and their views, live nonces."""
    tokens = [
        {**Token.from_value(r.value).public(), "merchant": r.value["merchant"]}
        for r in sorted(store.records(NS_TOKEN), key=lambda r: (len(r.key), r.key))
    ]
    redirects = []
    for record in store.records(NS_REDIRECT):
        status = (
            RedirectStatus.VIEWED
            if record.used
            else RedirectStatus.EXPIRED
            if record.expired(now)
            else RedirectStatus.PENDING
        )
        value = record.value
        redirects.append(
            {
                # The id is a bearer secret while pending: show only its start.
                "id": value["id"][:8] + "…",
                "token_id": value["token_id"],
                "partner": value["partner"],
                "requested_by": value.get("requested_by", "partner"),
                "type": value["type"],
                "viewer": value["viewer"],
                "company_reference": value["company_reference"],
                "requested_at": _iso(record.created_at),
                "expires_at": _iso(record.expires_at),
                "status": str(status),
                "viewed_at": _iso(record.used_at) if record.used_at else None,
            }
        )
    nonces = [r for r in store.records(NS_NONCE) if not r.expired(now)]
    return {"tokens": tokens, "redirects": redirects, "live_nonces": len(nonces)}
