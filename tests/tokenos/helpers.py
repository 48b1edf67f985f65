"""TokenOS test helpers: request payloads, and consent by form POST."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

import requests

from mockbank.clients.tokenos import Member, encode_callback_state
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
