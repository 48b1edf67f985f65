"""Every kind SysPay stores, as a frozen dataclass, and the store namespaces they live in.

Each is a `mockbank.records.Record`: ``to_value()`` writes the stored shape (the attribute
names as keys) and ``from_value()`` reads it back; no other module knows it. SysPay's wire
spellings appear only in ``public()`` (what the API answers).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from mockbank.masking import mask_pan
from mockbank.providers.syspay.auth import LoginKind
from mockbank.records import Record

NS_TOKEN = "syspay.token"
NS_REDIRECT = "syspay.redirect"
NS_NONCE = "syspay.nonce"
NS_SEQUENCE = "syspay.sequence"


class DetokenizeType(StrEnum):
    """How the card is shown: an HTML page (TEXT) or a PNG (IMAGE)."""

    TEXT = "TEXT"
    IMAGE = "IMAGE"


ALL_TYPES = (DetokenizeType.TEXT, DetokenizeType.IMAGE)


def is_type(value: Any) -> bool:
    """True for exactly "TEXT" or "IMAGE" (a dict or list is simply not one)."""
    return isinstance(value, str) and value in DetokenizeType.__members__


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


@dataclass(frozen=True)
class CreditCard(Record, keys="snake"):
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
class Detokenizer(Record, keys="snake"):
    """A partner allowed to detokenize one token, and with which types."""

    login: str
    types: tuple[DetokenizeType, ...]

    def public(self) -> dict[str, Any]:
        """An entry of the token's ``detokenizers`` list as the API answers it."""
        return {"login": self.login, "types": [str(t) for t in self.types]}


@dataclass(frozen=True)
class Token(Record, keys="snake"):
    """A card token (``NS_TOKEN``, keyed by id): the card, its merchant, who may detokenize it."""

    id: str
    merchant: str
    card: CreditCard
    detokenizers: tuple[Detokenizer, ...]
    created: int

    def detokenizer(self, login: str) -> Detokenizer | None:
        """This partner's entry in the token's list, if any."""
        return next((d for d in self.detokenizers if d.login == login), None)

    def public(self) -> dict[str, Any]:
        """The masked token, as ``GET /api/v2/merchant/token/<id>`` returns it."""
        return {
            "class": "token",
            "id": self.id,
            "status": "ACTIVE",
            "display": self.card.display,
            "creditcard": self.card.public(),
            "detokenizers": [d.public() for d in self.detokenizers],
            "created": self.created,
        }


@dataclass(frozen=True)
class Redirect(Record, keys="snake"):
    """One detokenization URL (``NS_REDIRECT``, keyed by its id; single use, expires).

    Who asked (partner or the token's merchant), for whom, which token. `partner` holds the
    asking login whichever kind it is (the field predates merchant detokenization, and stored
    records keep their shape); `requested_by` says which kind.
    """

    id: str
    token_id: str
    partner: str
    type: DetokenizeType
    viewer: str
    company_reference: str
    requested_by: LoginKind = LoginKind.PARTNER


class RedirectStatus(StrEnum):
    """A detokenization URL's life: requested, then viewed once or expired unviewed."""

    PENDING = "PENDING"
    VIEWED = "VIEWED"
    EXPIRED = "EXPIRED"


@dataclass(frozen=True)
class Nonce(Record, keys="snake"):
    """A spent X-Wsse nonce (``NS_NONCE``, keyed ``kind:login:nonce``), kept while replayable."""

    login: str
    kind: LoginKind


@dataclass(frozen=True)
class Sequence(Record, keys="snake"):
    """The next token id to hand out (``NS_SEQUENCE``, key ``token``)."""

    next: int
