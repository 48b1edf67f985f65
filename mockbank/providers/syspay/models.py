"""SysPay's rules: card tokens, their detokenizers, one-time detokenization URLs, nonces.

No flask here: every function takes the store and the app clock's `now`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from mockbank.fixtures import FixtureReader
from mockbank.masking import luhn_valid, mask_pan
from mockbank.providers.syspay import errors
from mockbank.providers.syspay.auth import Identity, LoginKind
from mockbank.store import Store

NS_TOKEN = "syspay.token"
NS_REDIRECT = "syspay.redirect"
NS_NONCE = "syspay.nonce"
NS_SEQUENCE = "syspay.sequence"
MAX_TEXT = 100  # viewer and company_reference: "max length 100" (seed 001)
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
    signed by the partner as well).
    """

    login: str
    passphrase: str
    partners: tuple[str, ...] = ()


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


# -- validation -----------------------------------------------------------------------------------
class Problems:
    """Collects (field, message) pairs so one 400 names every wrong field."""

    def __init__(self) -> None:
        self.items: list[tuple[str, str]] = []

    def add(self, name: str, message: str) -> None:
        self.items.append((name, message))

    def raise_if_any(self) -> None:
        if self.items:
            name, message = self.items[0]
            raise errors.ValidationFailed(message, field=name, problems=list(self.items))


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


def _unknown_fields(
    problems: Problems, data: dict[str, Any], allowed: Iterable[str], where: str
) -> None:
    # Like a Symfony form, extra fields are refused rather than silently ignored.
    for name in sorted(set(data) - set(allowed)):
        problems.add(f"{where}{name}", f"{where}{name} is not an accepted field.")


def _text(
    problems: Problems, data: dict[str, Any], name: str, where: str = "", *, required: bool = True
) -> str | None:
    value = data.get(name)
    label = f"{where}{name}"
    if value is None or value == "":
        if required:
            problems.add(label, f"{label} is required.")
        return None
    if not isinstance(value, str):
        problems.add(label, f"{label} must be a string.")
        return None
    if not value.strip():
        problems.add(label, f"{label} must not be blank.")
        return None
    if len(value) > MAX_TEXT:
        problems.add(label, f"{label} is {len(value)} characters; the maximum is {MAX_TEXT}.")
        return None
    return value


def _whole(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= 4:
        return int(value)
    return None


def parse_card(problems: Problems, data: Any, *, where: str = "creditcard.") -> CreditCard | None:
    """Validate card details (never echoing the number or the CVC in a message)."""
    if not isinstance(data, dict):
        problems.add(where.rstrip("."), f"{where.rstrip('.')} must be an object.")
        return None
    _unknown_fields(problems, data, ("number", "cardholder", "exp_month", "exp_year", "cvc"), where)
    number = data.get("number")
    if isinstance(number, int) and not isinstance(number, bool):
        number = str(number)
    if not isinstance(number, str) or not number:
        problems.add(f"{where}number", f"{where}number is required (a string of digits).")
        number = None
    else:
        number = number.replace(" ", "")
        if not (number.isascii() and number.isdigit() and 12 <= len(number) <= 19):
            problems.add(f"{where}number", f"{where}number must be 12 to 19 digits.")
            number = None
        elif not luhn_valid(number):
            problems.add(f"{where}number", f"{where}number fails the Luhn check.")
            number = None
    holder = _text(problems, data, "cardholder", where)
    month = _whole(data.get("exp_month"))
    if month is None or not 1 <= month <= 12:
        problems.add(f"{where}exp_month", f"{where}exp_month must be a month, 1 to 12.")
    year = _whole(data.get("exp_year"))
    if year is None or not 2000 <= year <= 2099:
        problems.add(f"{where}exp_year", f"{where}exp_year must be a four-digit year.")
    cvc = data.get("cvc")
    if cvc is not None and not (
        isinstance(cvc, str) and cvc.isascii() and cvc.isdigit() and len(cvc) in (3, 4)
    ):
        problems.add(f"{where}cvc", f"{where}cvc must be 3 or 4 digits.")
    if number is None or holder is None or month is None or year is None:
        return None
    if not 1 <= month <= 12 or not 2000 <= year <= 2099:
        return None
    return CreditCard(number, holder, month, year)


def parse_detokenizers(
    problems: Problems, data: Any, partners: dict[str, Partner]
) -> tuple[Detokenizer, ...]:
    """``[{"login": "myPartnerLogin", "types": ["TEXT", "IMAGE"]}]``; types default to both."""
    if not isinstance(data, list) or not data:
        problems.add("detokenizers", "detokenizers must be a non-empty list of partners.")
        return ()
    found: list[Detokenizer] = []
    for index, entry in enumerate(data):
        where = f"detokenizers.{index}."
        if not isinstance(entry, dict):
            problems.add(where.rstrip("."), f"{where.rstrip('.')} must be an object.")
            continue
        _unknown_fields(problems, entry, ("login", "types"), where)
        login = entry.get("login")
        if not isinstance(login, str) or not login:
            problems.add(f"{where}login", f"{where}login is required.")
            continue
        if login not in partners:
            problems.add(f"{where}login", f"{where}login: unknown partner {login!r}.")
            continue
        if any(d.login == login for d in found):
            problems.add(f"{where}login", f"{where}login: partner {login!r} is listed twice.")
            continue
        types = entry.get("types", [str(t) for t in ALL_TYPES])
        if (
            not isinstance(types, list)
            or not types
            or not all(is_type(t) for t in types)
            or len(set(types)) != len(types)
        ):
            problems.add(
                f"{where}types", f"{where}types must be a non-empty list of TEXT and/or IMAGE."
            )
            continue
        found.append(Detokenizer(login, tuple(DetokenizeType(t) for t in types)))
    return tuple(found)


def parse_token_request(
    data: Any, fixtures: SysPayFixtures, *, now: datetime
) -> tuple[CreditCard, tuple[Detokenizer, ...]]:
    """Validate ``POST /api/v2/merchant/token``: ``creditcard`` and ``detokenizers``."""
    problems = Problems()
    if not isinstance(data, dict):
        raise errors.MalformedJson("The request body must be a JSON object.")
    _unknown_fields(problems, data, ("creditcard", "detokenizers"), "")
    card = parse_card(problems, data.get("creditcard"))
    if card is not None and card.expired(now):
        problems.add("creditcard.exp_year", f"The card expired at the end of {card.expiry}.")
    detokenizers = parse_detokenizers(problems, data.get("detokenizers"), fixtures.partners)
    problems.raise_if_any()
    assert card is not None  # no problems means the card parsed
    return card, detokenizers


def parse_detokenize_request(data: Any, *, reference_required: bool = True) -> DetokenizeRequest:
    """Validate the detokenization body: ``type``, ``viewer``, ``company_reference``.

    A partner names the merchant it acts for in ``company_reference`` (seed 001: mandatory);
    a merchant detokenizing its own token may leave it out (``reference_required=False``).
    """
    if not isinstance(data, dict):
        raise errors.MalformedJson("The request body must be a JSON object.")
    problems = Problems()
    _unknown_fields(problems, data, ("type", "viewer", "company_reference"), "")
    kind = data.get("type")
    if kind is None or kind == "":
        problems.add("type", "type is required: TEXT or IMAGE.")
    elif not is_type(kind):
        problems.add("type", "type must be TEXT or IMAGE.")
    viewer = _text(problems, data, "viewer")
    reference = _text(problems, data, "company_reference", required=reference_required)
    problems.raise_if_any()
    assert viewer is not None
    return DetokenizeRequest(DetokenizeType(str(kind)), viewer, reference or "")


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
    """Write the fixture tokens and start the id sequence after the highest one."""
    highest = FIRST_TOKEN_ID - 1
    for token in fixtures.tokens:
        store.put(NS_TOKEN, token.id, token.to_value(), now=now)
        if token.id.isdigit():
            highest = max(highest, int(token.id))
    store.put(NS_SEQUENCE, "token", {"next": highest + 1}, now=now)


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
    store.put(NS_TOKEN, token.id, token.to_value(), now=now)
    return token


def load_token(store: Store, token_id: str, *, now: datetime) -> Token:
    """A token by id, or SysPay's 404."""
    value = store.get(NS_TOKEN, token_id, now=now)
    if value is None:
        raise errors.UnknownToken(f"No token with id {token_id!r}.")
    return Token.from_value(value)


def merchant_token(store: Store, identity: Identity, token_id: str, *, now: datetime) -> Token:
    """A merchant's own token; another merchant's reads as unknown (nothing leaks)."""
    token = load_token(store, token_id, now=now)
    if token.merchant != identity.login:
        raise errors.UnknownToken(f"No token with id {token_id!r} for this merchant.")
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
            f"Partner {identity.login!r} is not in the list of authorized detokenizers "
            f"of token {token_id}."
        )
    account = fixtures.partners[identity.login]
    if request.type not in account.types:
        raise errors.TypeNotAllowed(
            f"Partner {identity.login!r} is allowed {' and '.join(account.types)} only, "
            f"not {request.type}."
        )
    if request.type not in allowed.types:
        raise errors.TypeNotAllowed(
            f"Token {token_id} allows partner {identity.login!r} "
            f"{' and '.join(allowed.types)} only, not {request.type}."
        )
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
        raise errors.UnknownToken(f"No token with id {token_id!r} for this merchant.")
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
    store.put(
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
                f"{_iso(record.used_at)}; it works once. Request another one."
            )
        raise errors.RedirectExpired(
            f"This detokenization URL expired at {_iso(record.expires_at)} "
            "(60 seconds after it was requested). Request another one."
        )
    redirect = Redirect.from_value(value)
    return redirect, load_token(store, redirect.token_id, now=now)


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


# -- fixtures -------------------------------------------------------------------------------------
def _types(reader: FixtureReader, where: str, node: Any) -> tuple[DetokenizeType, ...]:
    values = reader.get("types", list, node=node, default=[str(t) for t in ALL_TYPES])
    if not values or not all(is_type(v) for v in values):
        raise reader.fail(f"{where}.types", "must be a non-empty list of TEXT and/or IMAGE")
    return tuple(DetokenizeType(v) for v in values)


def load_fixtures(reader: FixtureReader) -> SysPayFixtures:
    """Validate fixtures/syspay.json; every error names the file and the field."""
    loaded = SysPayFixtures()
    for where, node in reader.items("partners"):
        login = reader.get("login", str, node=node)
        if not login or login in loaded.partners:
            raise reader.fail(f"{where}.login", "must be a unique, non-empty login")
        loaded.partners[login] = Partner(
            login, reader.get("passphrase", str, node=node), _types(reader, where, node)
        )
    for where, node in reader.items("merchants"):
        login = reader.get("login", str, node=node)
        if not login or login in loaded.merchants:
            raise reader.fail(f"{where}.login", "must be a unique, non-empty login")
        partners = reader.get("partners", list, node=node, default=[])
        for index, partner in enumerate(partners):
            if partner not in loaded.partners:
                raise reader.fail(f"{where}.partners.{index}", f"unknown partner {partner!r}")
        loaded.merchants[login] = Merchant(
            login, reader.get("passphrase", str, node=node), tuple(partners)
        )
    for where, node in reader.items("tokens"):
        token_id = reader.get("id", str, node=node)
        merchant = reader.get("merchant", str, node=node)
        if merchant not in loaded.merchants:
            raise reader.fail(f"{where}.merchant", f"unknown merchant {merchant!r}")
        problems = Problems()
        card = parse_card(problems, reader.get("creditcard", dict, node=node), where="")
        detokenizers = parse_detokenizers(
            problems, reader.get("detokenizers", list, node=node), loaded.partners
        )
        if problems.items:
            name, message = problems.items[0]
            field_name = f"{where}.creditcard.{name}" if card is None else f"{where}.{name}"
            raise reader.fail(field_name, message)
        assert card is not None
        created = reader.get("created", int, node=node, default=0)
        loaded.tokens.append(Token(token_id, merchant, card, detokenizers, created))
    return loaded
