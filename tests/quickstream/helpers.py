"""Helpers shared by the QuickStream tests (and by tests in other folders that drive QuickStream):
the seeded identities, token and form shortcuts, the merchant receiver's records, and the REST
API caller (requests with Basic auth, as an integrator calls it)."""

from __future__ import annotations

import html
import re
import threading
import uuid
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import requests
from flask.testing import FlaskClient

SEED_EXAMPLE = {
    # The seed's example request, with the seeded identities in place of its placeholders.
    "cancelUrl": "https://yoursite.com.au/cancelled",
    "connectionType": "QUICKWEB",
    "currencyCode": "AUD",
    "errorEmailToAddress": "errors@yoursite.com.au",
    "password": "merchant-secret",
    "product": "RECURRING",
    "returnUrl": "https://yoursite.com.au/thankyou",
    "serverReturnUrl": "https://yoursite.com.au/receiveRequest",
    "supplierBusinessCode": "SUPPLIER1",
    "username": "merchant",
}
TOKEN_PATH = "/quickstream/CommunityTokenRequestServlet"
HANDOFF_PATH = "/quickstream/OnlinePaymentServlet3"
PAN_VISA = "4242424242424242"


def token_params(**overrides: str | None) -> dict[str, str]:
    """A valid token request; an override of None removes that parameter."""
    params = {
        "username": "merchant",
        "password": "merchant-secret",
        "supplierBusinessCode": "SUPPLIER1",
        "connectionType": "QUICKWEB",
        "product": "QUICKWEB",
        "currencyCode": "AUD",
        "principalAmount": "100.00",
        "paymentReference": "INV-1001",
        "customerReferenceNumber": "CUST-42",
    }
    for name, value in overrides.items():
        if value is None:
            params.pop(name, None)
        else:
            params[name] = value
    return params


def get_token(client: FlaskClient, **overrides: str | None) -> str:
    response = client.post(TOKEN_PATH, data=token_params(**overrides))
    assert response.status_code == 200, response.get_data(as_text=True)
    body = response.get_data(as_text=True)
    assert body.startswith("token=")
    return body.removeprefix("token=")


def open_session(client: FlaskClient, **overrides: str | None) -> tuple[str, str]:
    """Token request + handoff; returns (payment page path, csrf token)."""
    token = get_token(client, **overrides)
    response = client.post(HANDOFF_PATH, data={"token": token, "communityCode": "COMMUNITY1"})
    assert response.status_code == 303, response.get_data(as_text=True)
    page = response.headers["Location"]
    html = client.get(page).get_data(as_text=True)
    return page, csrf_of(html)


def csrf_of(html: str) -> str:
    match = re.search(r'name="csrf" value="([^"]+)"', html)
    assert match, "no csrf field in the page"
    return match.group(1)


def pay_hosted(base: str, notify_url: str, reference: str) -> None:
    """Pay on the hosted page of a live server at `base` (a sandbox's base URL too), with a
    server-to-server notification to `notify_url`: one outbox message."""
    session = requests.Session()
    token = session.post(
        base + TOKEN_PATH,
        data=token_params(
            principalAmount="10.00",
            paymentReference=reference,
            customerReferenceNumber=None,
            serverReturnUrl=notify_url,
        ),
        timeout=30,
    ).text.removeprefix("token=")
    page = session.post(
        base + HANDOFF_PATH, data={"token": token, "communityCode": "COMMUNITY1"}, timeout=30
    )
    paid = session.post(
        page.url + "/pay",
        data=card_form(html.unescape(csrf_of(page.text)), "4242424242424242"),
        timeout=30,
    )
    assert "receipt-number" in paid.text, paid.text[:500]


def card_details(number: str = PAN_VISA, expiry_year: str = "2030") -> dict[str, str]:
    """A card's fields by QuickStream's names (the page's and the REST API's alike)."""
    return {
        "cardholderName": "Jane Citizen",
        "cardNumber": number,
        "expiryDateMonth": "12",
        "expiryDateYear": expiry_year,
        "cvn": "4" * (4 if number.startswith(("34", "37")) else 3),
    }


def card_form(csrf: str, number: str = PAN_VISA, **overrides: str) -> dict[str, str]:
    """The payment page's card form."""
    return {"csrf": csrf, "paymentMethod": "card", **card_details(number), **overrides}


def inline_errors(html: str) -> dict[str, str]:
    return dict(re.findall(r'<div class="err" id="error-(\w+)">([^<]+)</div>', html))


@dataclass
class Received:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def form(self) -> dict[str, str]:
        return dict(parse_qsl(self.body.decode(), keep_blank_values=True))

    @property
    def query(self) -> dict[str, str]:
        return dict(parse_qsl(urlsplit(self.path).query, keep_blank_values=True))


@dataclass
class Receiver:
    """A merchant's server on 127.0.0.1 (port 0) recording every request it gets."""

    statuses: list[int] = field(default_factory=list)  # answers in turn, then 200
    requests: list[Received] = field(default_factory=list)
    _event: threading.Condition = field(default_factory=threading.Condition)
    url: str = ""

    def wait_for(self, count: int, timeout: float = 10.0) -> list[Received]:
        with self._event:
            self._event.wait_for(lambda: len(self.requests) >= count, timeout)
        return list(self.requests)

    def on(self, path: str) -> list[Received]:
        return [r for r in self.requests if urlsplit(r.path).path == path]


# -- the REST API ------------------------------------------------------------------------------
SECRET_KEY = "MOCKBANK_SEC_demo0secret0key"
PUBLISHABLE_KEY = "MOCKBANK_PUB_demo0publishable0key"
PAN_DECLINED = "4000000000000796"  # ends in 96: 51 Not sufficient funds
ENVELOPE_KEYS = {
    "links",
    "errors",
    "status",
    "requestMethod",
    "requestUrl",
    "customerMessage",
    "developerMessage",
    "traceCode",
}


class Rest:
    """A requests session on one base URL (``.../quickstream/rest/v1``)."""

    def __init__(self, base: str) -> None:
        self.base = base.rstrip("/")
        self.http = requests.Session()

    def call(
        self, method: str, path: str, key: str = SECRET_KEY, **kwargs: Any
    ) -> requests.Response:
        kwargs.setdefault("timeout", 15)
        return self.http.request(method, self.base + path, auth=(key, ""), **kwargs)

    def token(self, number: str = PAN_VISA, **overrides: Any) -> str:
        body = card(number, **overrides)
        answer = self.call("POST", "/single-use-tokens", PUBLISHABLE_KEY, json=body)
        assert answer.status_code == 201, answer.text
        token: str = answer.json()["singleUseTokenId"]
        return token

    def transact(self, body: dict[str, Any], key: str | None = None) -> requests.Response:
        headers = {"Idempotency-Key": key or str(uuid.uuid4())}
        return self.call("POST", "/transactions", json=body, headers=headers)


def card(number: str = PAN_VISA, **overrides: Any) -> dict[str, Any]:
    """A REST single-use token request for a card."""
    body: dict[str, Any] = {"supplierBusinessCode": "SUPPLIER1", "accountType": "CREDIT_CARD"}
    body.update(card_details(number, expiry_year="2035"), **overrides)
    return body


def payment(amount: float = 10.00, **fields: Any) -> dict[str, Any]:
    body = {
        "transactionType": "PAYMENT",
        "supplierBusinessCode": "SUPPLIER1",
        "principalAmount": amount,
        "currency": "AUD",
        "eci": "INTERNET",
        "customerReferenceNumber": "CUST-42",
        "paymentReferenceNumber": "INV-1001",
        "ipAddress": "203.0.113.9",
    }
    body.update(fields)
    return body


def assert_envelope(answer: requests.Response, status: int) -> dict[str, Any]:
    """The REST error envelope with `status`, as Westpac's client libraries parse it."""
    assert answer.status_code == status, answer.text
    assert answer.headers["Content-Type"].startswith("application/json")
    body: dict[str, Any] = answer.json()
    assert set(body) == ENVELOPE_KEYS
    assert body["status"] == str(status)
    assert body["developerMessage"]
    return body


def fill_card(page: Any, number: str) -> None:
    """Fill the hosted page's card fields (cardholder, number, expiry 12/2030, CVN 123)."""
    page.fill("#cardholderName", "Jane Citizen")
    page.fill("#cardNumber", number)
    page.select_option("#expiryDateMonth", "12")
    page.select_option("#expiryDateYear", "2030")
    page.fill("#cvn", "123")
