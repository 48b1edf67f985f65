"""TokenOS test helpers: request payloads, and consent by form POST."""

from __future__ import annotations

import base64
import copy
import random
from typing import Any
from urllib.parse import parse_qs, urlsplit

import requests

from mockbank.clients.tokenos import Member, encode_callback_state
from mockbank.providers.tokenos.models import token_requests
from mockbank.providers.tokenos.models.consent import (
    Consent,
    approve_consent,
    consent_form,
    consent_step,
)
from mockbank.state import State
from mockbank.testing import LiveServer


def transfer_payload(amount: str = "10.00", **extra: Any) -> dict[str, Any]:
    """A transfer token request payload as `storeTokenRequest` sends it."""
    payload: dict[str, Any] = {
        "refId": "order-1",
        "to": {},
        "transferBody": {"currency": "EUR", "lifetimeAmount": amount},
        "description": "Book purchase",
        "redirectUrl": "https://tpp.example.com/callback",
        "callbackState": encode_callback_state("csrf-1", "cart-42"),
    }
    payload.update(extra)
    return payload


def access_payload(types: list[str] | None = None) -> dict[str, Any]:
    return {
        "to": {},
        "accessBody": {"type": types or ["ACCOUNTS", "BALANCES", "TRANSACTIONS"]},
        "redirectUrl": "https://tpp.example.com/callback",
        "callbackState": encode_callback_state("csrf-2"),
    }


PAYER = {"from": {"alias": {"type": "EMAIL", "value": "payer@example.com"}}, "bankId": "iron"}


def consent(live: LiveServer, request_id: str, **form: str | list[str]) -> requests.Response:
    """POST the consent form (``decision=approve`` by default) without following the redirect."""
    form.setdefault("decision", "approve")
    url = live.url_for("tokenos", f"/app/request-token/{request_id}")
    return requests.post(url, data=form, allow_redirects=False, timeout=10)


def mint(
    live: LiveServer, member: Member, payload: dict[str, Any], options: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Store a request, consent to it and return the token the payer endorsed."""
    stored = member.store_token_request(payload, PAYER if options is None else options)
    answer = consent(live, stored["id"])
    assert answer.status_code == 302, answer.text
    token_id = parse_qs(urlsplit(answer.headers["Location"]).query)["tokenId"][0]
    return member.get_token(token_id)


def stored_request(
    state: State, payload: dict[str, Any], options: dict[str, Any] | None = None
) -> str:
    """Store a token request for the first seeded business member, without HTTP; its id."""
    fixtures = state.fixtures["tokenos"]
    member = fixtures.members[0].member_id
    body = {"requestPayload": {**payload, "to": {"id": member}}, "requestOptions": options or {}}
    request = token_requests.store_token_request(
        state.store, member, body, fixtures, now=state.now(), rng=state.token_bytes
    )
    return str(request["id"])


def approve_request(state: State, consent: Consent, request_id: str) -> str:
    """Approve a consent with the seeded keys, without HTTP; the callback URL."""
    return approve_consent(
        state.store,
        request_id,
        consent,
        [],
        state.fixtures["tokenos"],
        now=state.now(),
        rng=state.token_bytes,
    )


def approved_token(state: State, request_id: str, bank: str = "iron") -> str:
    """The seeded payer approves the request at `bank`; the new token's id."""
    asked = consent_form("approve", bank, "payer@example.com", "", [])
    step = consent_step(state.store, request_id, state.fixtures["tokenos"], asked, now=state.now())
    assert step.consent is not None
    approve_request(state, step.consent, request_id)
    return str(token_requests.request_result(state.store, request_id, now=state.now())["tokenId"])


ODD_VALUES: list[Any] = [
    None,
    True,
    False,
    0,
    -1,
    1.5,
    1e308,
    "",
    " ",
    "x" * 5000,
    "ü😀\u0000",
    "²",  # str.isdigit() is True, int() raises
    "103",
    "EUR",
    "-5",
    "1.23456",
    [],
    [None],
    {},
    {"a": {"b": []}},
    "https://",
    "rq:x",
    "m:x",
]


def mutate(value: Any, rng: random.Random) -> Any:
    """Replace, delete or add one thing somewhere in a JSON value."""
    if isinstance(value, dict) and value and rng.random() < 0.8:
        key = rng.choice(list(value))
        roll = rng.random()
        if roll < 0.2:
            value.pop(key)
        elif roll < 0.6:
            value[key] = mutate(value[key], rng)
        else:
            value[key] = copy.deepcopy(rng.choice(ODD_VALUES))
        return value
    if isinstance(value, list) and value and rng.random() < 0.7:
        index = rng.randrange(len(value))
        value[index] = mutate(value[index], rng)
        return value
    return copy.deepcopy(rng.choice(ODD_VALUES))


def api_key_headers(state: State) -> dict[str, str]:
    tpp = state.fixtures["tokenos"].member_by_name("tpp").member_id
    basic = base64.b64encode(f"{tpp}:sandbox-api-key".encode()).decode()
    return {"Authorization": f"Basic {basic}", "Content-Type": "application/json"}


CALLBACK = "https://tpp.example.com/callback"


def catch_callback(page: Any) -> list[str]:
    """Answer the TPP's callback inside the browser (the network is offline)."""
    seen: list[str] = []

    def fulfil(route: Any) -> None:
        seen.append(route.request.url)
        route.fulfill(status=200, content_type="text/html", body="<h1>TPP callback</h1>")

    page.route(f"{CALLBACK}**", fulfil)
    return seen
