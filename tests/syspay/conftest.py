"""Helpers for the SysPay tests: seeded logins and fresh X-Wsse headers on the app clock."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest

from mockbank.clients.syspay import wsse_header
from mockbank.state import State

PARTNER = ("myPartnerLogin", "myPartnerPassphrase")
IMAGE_ONLY = ("imageOnlyPartner", "imageOnlyPassphrase")
MERCHANT = ("myMerchantLogin", "myMerchantPassphrase")
SEED_TOKEN = "1000001"
SEED_PAN = "4111111111111111"
DETOKENIZE = "/syspay/api/v2/partner/token/{}/detokenize"
GOOD_BODY = {"type": "TEXT", "viewer": "John Doe", "company_reference": "4242"}


def partner_header(state: State, who: tuple[str, str] = PARTNER) -> dict[str, str]:
    """A fresh partner X-Wsse header, Created on the app clock."""
    return {"X-Wsse": wsse_header(*who, created=int(state.now().timestamp()))}


def merchant_header(state: State, who: tuple[str, str] = MERCHANT) -> dict[str, str]:
    return {"X-Wsse": wsse_header(*who, partner=False, created=int(state.now().timestamp()))}


def card_body(**card: Any) -> dict[str, Any]:
    """A valid token request for a Mastercard, both partners allowed IMAGE, one TEXT too."""
    creditcard = {
        "number": "5555555555554444",
        "cardholder": "Jane Roe",
        "exp_month": "11",
        "exp_year": "2031",
        "cvc": "737",
        **card,
    }
    return {
        "creditcard": creditcard,
        "detokenizers": [
            {"login": "myPartnerLogin", "types": ["IMAGE"]},
            {"login": "imageOnlyPartner", "types": ["IMAGE"]},
        ],
    }


def redirects(state: State) -> list[dict[str, Any]]:
    """Every detokenization URL the store holds (to show a failure created none)."""
    result: list[dict[str, Any]] = state.provider_state("syspay")["redirects"]
    return result


@pytest.fixture
def syspay_token(client: Any, state: State) -> str:
    """A merchant-created token (Mastercard) listing both partners for IMAGE only."""
    response = client.post(
        "/syspay/api/v2/merchant/token", headers=merchant_header(state), json=card_body()
    )
    assert response.status_code == 201, response.get_json()
    token_id: str = response.get_json()["id"]
    return token_id


# Every card number the SysPay tests use, plain and as the TEXT page groups it.
TEST_PANS = ("4111111111111111", "5555555555554444", "4111 1111 1111 1111", "5555 5555 5555 4444")


@pytest.fixture(autouse=True)
def _no_card_number_logged(request: pytest.FixtureRequest, caplog: pytest.LogCaptureFixture) -> Any:
    """After every SysPay test: no full card number in the journal or the captured log."""
    caplog.set_level(logging.INFO)
    # Asked for during setup, so they are torn down after this check runs.
    states = [
        request.getfixturevalue(name).state if name == "mockbank" else request.getfixturevalue(name)
        for name in ("state", "mockbank")
        if name in request.fixturenames
    ]
    yield
    texts = [caplog.text] + [json.dumps([e.as_dict() for e in s.requests()]) for s in states]
    for text in texts:
        leaked = [pan for pan in TEST_PANS if pan in text]
        assert not leaked, f"full card number(s) {leaked} in the journal or log"
