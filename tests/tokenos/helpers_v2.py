"""Helpers shared by the Token.io v2 tests: an API-key session, initiation and consent bodies."""

from __future__ import annotations

import itertools
from typing import Any
from urllib.parse import parse_qs, urlsplit

import requests

from mockbank.testing import LiveServer

API_KEY = "sandbox-api-key"
CALLBACK = "https://tpp.example.com/callback"
_refs = itertools.count(1)


def api(live: LiveServer) -> requests.Session:
    """A session authenticated with the sandbox API key (HTTP Basic ``memberId:apiKey``)."""
    session = requests.Session()
    session.auth = ("", API_KEY)
    return session


def url(live: LiveServer, path: str) -> str:
    return live.url_for("tokenos", path)


def next_ref() -> str:
    return f"ref-{next(_refs)}"


def sepa_initiation(amount: str = "10.00", **extra: Any) -> dict[str, Any]:
    """An API-only SEPA payment from Iron Bank."""
    init: dict[str, Any] = {
        "flowType": "API_ONLY",
        "bankId": "iron",
        "refId": next_ref(),
        "amount": {"value": amount, "currency": "EUR"},
        "localInstrument": "SEPA",
        "remittanceInformationPrimary": "Order 42",
        "callbackUrl": CALLBACK,
        "callbackState": "state-42",
        "creditor": {"iban": "DE02120300000000202051", "name": "Book Shop GmbH"},
    }
    init.update(extra)
    return init


def pay(live: LiveServer, init: dict[str, Any], **headers: str) -> requests.Response:
    return api(live).post(url(live, "/v2/payments"), json={"initiation": init}, headers=headers)


def answered(answer: requests.Response, key: str) -> dict[str, Any]:
    """The object under `key` of a 200 answer."""
    assert answer.status_code == 200, answer.text
    found: dict[str, Any] = answer.json()[key]
    return found


def create(live: LiveServer, init: dict[str, Any]) -> dict[str, Any]:
    return answered(pay(live, init), "payment")


def get(live: LiveServer, payment_id: str) -> dict[str, Any]:
    return answered(api(live).get(url(live, f"/v2/payments/{payment_id}")), "payment")


def status(live: LiveServer, payment_id: str) -> str:
    return str(get(live, payment_id)["status"])


def advance(live: LiveServer, seconds: float) -> None:
    """Move the app clock through the control API, as a user would."""
    answer = requests.post(f"{live.url}/_mockbank/clock", json={"advance": seconds}, timeout=10)
    assert answer.status_code == 200, answer.text


def decide(redirect_url: str, decision: str = "approve", **form: str) -> requests.Response:
    """The payer's answer on the model bank's page, without following the redirect."""
    return requests.post(redirect_url, data={"decision": decision, **form}, allow_redirects=False)


def callback_params(answer: requests.Response) -> dict[str, str]:
    """The query of the TPP callback the bank page redirected to."""
    assert answer.status_code == 302, answer.text
    location = answer.headers["Location"]
    assert location.startswith(CALLBACK), location
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query, keep_blank_values=True).items()}


def approved(live: LiveServer, init: dict[str, Any]) -> dict[str, Any]:
    """A redirect payment the payer approved at the bank."""
    payment = create(live, init)
    assert payment["status"] == "INITIATION_PENDING_REDIRECT_AUTH", payment
    callback_params(decide(payment["authentication"]["redirectUrl"]))
    return payment


def consent_initiation(**extra: Any) -> dict[str, Any]:
    """A sweeping consent from Wood Bank: 50.00 a payment, 100.00 a day."""
    init: dict[str, Any] = {
        "bankId": "wood",
        "refId": next_ref(),
        "remittanceInformationPrimary": "Sweep to savings",
        "scheme": "OBL_SWEEPING",
        "localInstrument": "FASTER_PAYMENTS",
        "currency": "GBP",
        "creditor": {"sortCode": "400515", "accountNumber": "87654321", "name": "Pat Savings"},
        "maximumIndividualAmount": "50.00",
        "periodicLimits": [
            {"maximumAmount": "100.00", "periodType": "DAY", "periodAlignment": "CALENDAR"}
        ],
        "callbackUrl": CALLBACK,
        "callbackState": "vrp-state",
    }
    init.update(extra)
    return init


def vrp(
    live: LiveServer, consent_id: str, amount: str, base: str | None = None
) -> requests.Response:
    init = {
        "vrpConsentId": consent_id,
        "refId": next_ref(),
        "remittanceInformationPrimary": "Sweep",
        "amount": {"value": amount, "currency": "GBP"},
    }
    target = f"{base}/v2/payments" if base else url(live, "/v2/payments")
    return requests.post(
        target, json={"initiation": init}, auth=("", "sandbox-api-key"), timeout=30
    )
