"""Helpers for the SysPay tests: seeded logins and fresh X-Wsse headers on the app clock."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import requests

from mockbank.clients.syspay import wsse_header
from mockbank.providers.syspay.models import Merchant
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


# Every card number the SysPay tests use, plain and as the TEXT page groups it.
TEST_PANS = ("4111111111111111", "5555555555554444", "4111 1111 1111 1111", "5555 5555 5555 4444")


def add_merchant(state: State, login: str, passphrase: str) -> None:
    """Give this app one more merchant login (the fixtures are frozen: a new copy)."""
    fixtures = state.fixtures["syspay"]
    merchants = {**fixtures.merchants, login: Merchant(login, passphrase)}
    state.fixtures["syspay"] = replace(fixtures, merchants=merchants)


def live_card_url(syspay_url: str, epoch: float) -> str:
    """A one-time TEXT URL for the seed token from a live server (`syspay_url` ends in /syspay).

    `epoch` is the server's app clock (``mockbank.clock.epoch()``), for the header's Created.
    """
    answer = requests.post(
        f"{syspay_url}/api/v2/partner/token/{SEED_TOKEN}/detokenize",
        headers={"X-Wsse": wsse_header(*PARTNER, created=int(epoch))},
        json=GOOD_BODY,
        timeout=10,
    )
    assert answer.status_code == 200, answer.text
    return str(answer.json()["redirect_url"])
