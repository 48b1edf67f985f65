"""SysPay's stored kinds: each round-trips through its stored shape, which keeps its old form."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from mockbank.providers.syspay.auth import LoginKind
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
    Sequence,
    Token,
    card_scheme,
)
from mockbank.state import State
from tests.syspay.helpers import SEED_TOKEN

CARD = CreditCard("5555555555554444", "Jane Roe", 11, 2031)
TOKEN = Token(
    "1000002",
    "myMerchantLogin",
    CARD,
    (Detokenizer("myPartnerLogin", (DetokenizeType.TEXT, DetokenizeType.IMAGE)),),
    1_400_000_000,
)
REDIRECT = Redirect(
    "0f9c1a52-7d1e-4c57-9a39-5e8c52d4b3a1",
    "1000002",
    "myMerchantLogin",
    DetokenizeType.IMAGE,
    "Front desk",
    "",
    LoginKind.MERCHANT,
)


@pytest.mark.parametrize(
    "record",
    [
        TOKEN,
        REDIRECT,
        CARD,
        TOKEN.detokenizers[0],
        Nonce("myPartnerLogin", LoginKind.PARTNER),
        Sequence(1_000_042),
    ],
    ids=lambda r: type(r).__name__,
)
def test_every_record_round_trips_and_is_frozen(record: Any) -> None:
    assert type(record).from_value(record.to_value()) == record
    with pytest.raises(dataclasses.FrozenInstanceError):
        record.id = "other"


def test_stored_shapes_keep_their_field_names() -> None:
    # Stores written before the records moved must still read back (SQLite --state files).
    assert TOKEN.to_value() == {
        "id": "1000002",
        "merchant": "myMerchantLogin",
        "card": {
            "number": "5555555555554444",
            "cardholder": "Jane Roe",
            "exp_month": 11,
            "exp_year": 2031,
        },
        "detokenizers": [{"login": "myPartnerLogin", "types": ["TEXT", "IMAGE"]}],
        "created": 1_400_000_000,
    }
    assert REDIRECT.to_value()["requested_by"] == "merchant"
    assert Nonce("m", LoginKind.MERCHANT).to_value() == {"login": "m", "kind": "merchant"}
    assert Sequence(7).to_value() == {"next": 7}


def test_a_redirect_stored_before_merchant_detokenization_reads_as_a_partners() -> None:
    old = REDIRECT.to_value()
    del old["requested_by"]
    assert Redirect.from_value(old).requested_by is LoginKind.PARTNER


def test_namespaces_are_spelled_provider_dot_kind() -> None:
    assert (NS_TOKEN, NS_REDIRECT, NS_NONCE, NS_SEQUENCE) == (
        "syspay.token",
        "syspay.redirect",
        "syspay.nonce",
        "syspay.sequence",
    )


def test_the_wire_view_masks_the_card() -> None:
    public = TOKEN.public()
    assert public["display"] == "555555******4444"
    assert public["creditcard"]["scheme"] == "MASTERCARD"
    assert public["creditcard"]["exp_month"] == "11"
    assert "5555555555554444" not in repr(public)


@pytest.mark.parametrize(
    ("number", "scheme"),
    [
        ("4111111111111111", "VISA"),
        ("2221001111111111", "MASTERCARD"),
        ("378282246310005", "AMEX"),
        ("6011111111111117", "DISCOVER"),
        ("3530111333300000", "JCB"),
        ("30569309025904", "DINERS"),
        ("9999999999999995", "UNKNOWN"),
    ],
)
def test_card_scheme_from_the_prefix(number: str, scheme: str) -> None:
    assert card_scheme(number) == scheme


def test_what_the_app_stores_reads_back_as_records(client: Any, state: State) -> None:
    state.provider("syspay")  # seeded on first use
    value = state.store.get(NS_TOKEN, SEED_TOKEN, now=state.now())
    assert value is not None
    token = Token.from_value(value)
    assert token.card.cardholder == "John Doe"
    assert token.detokenizer("myPartnerLogin") is not None
    sequence = state.store.get(NS_SEQUENCE, "token", now=state.now())
    assert sequence is not None
    assert Sequence.from_value(sequence).next == int(SEED_TOKEN) + 1
