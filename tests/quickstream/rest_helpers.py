"""Calling mockbank's QuickStream REST API the way an integrator does: requests and Basic auth."""

from __future__ import annotations

import uuid
from typing import Any

import requests

SECRET_KEY = "MOCKBANK_SEC_demo0secret0key"
PUBLISHABLE_KEY = "MOCKBANK_PUB_demo0publishable0key"
PAN_VISA = "4242424242424242"
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
    body = {
        "supplierBusinessCode": "SUPPLIER1",
        "accountType": "CREDIT_CARD",
        "cardholderName": "Jane Citizen",
        "cardNumber": number,
        "expiryDateMonth": "12",
        "expiryDateYear": "2035",
        "cvn": "4" * (4 if number.startswith(("34", "37")) else 3),
    }
    body.update(overrides)
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
