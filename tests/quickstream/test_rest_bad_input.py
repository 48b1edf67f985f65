"""Bad input on every REST route: the REST error envelope with a 4xx, and nothing changes."""

from __future__ import annotations

import base64
import json
import random
from typing import Any

import pytest
from flask.testing import FlaskClient

from mockbank.state import State
from tests.quickstream.helpers import ENVELOPE_KEYS, PUBLISHABLE_KEY, SECRET_KEY

API = "/quickstream/rest/v1"
ROUTES = [
    ("POST", "/single-use-tokens", PUBLISHABLE_KEY),
    ("POST", "/transactions", SECRET_KEY),
    ("POST", "/customers", SECRET_KEY),
    ("POST", "/customers/123456789/accounts", SECRET_KEY),
    ("POST", "/businesses/SUPPLIER1/query-card-surcharge", PUBLISHABLE_KEY),
]
READS = [
    ("GET", "/transactions/{x}"),
    ("GET", "/transactions/{x}/refunds"),
    ("GET", "/transactions?pageNumber={x}"),
    ("GET", "/transactions?pageSize={x}"),
    ("GET", "/customers/{x}"),
    ("GET", "/customers/{x}/accounts"),
    ("GET", "/accounts/{x}"),
    ("DELETE", "/accounts/{x}"),
    ("GET", "/businesses/{x}"),
    ("GET", "/businesses/{x}/accepted-cards"),
    ("GET", "/businesses/{x}/card-surcharges"),
]
FIELDS = [
    "transactionType",
    "supplierBusinessCode",
    "principalAmount",
    "currency",
    "eci",
    "singleUseTokenId",
    "accountToken",
    "customerId",
    "parentReceiptNumber",
    "accountType",
    "cardNumber",
    "expiryDateMonth",
    "expiryDateYear",
    "cvn",
    "cardholderName",
    "accountName",
    "bsb",
    "accountNumber",
    "customerNumber",
    "customerName",
    "emailAddress",
    "defaultAccount",
]


def _auth(key: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{key}:".encode()).decode()}


def _value(rng: random.Random) -> Any:
    choices: list[Any] = [
        None,
        True,
        0,
        -1,
        1e308,
        "1e999",
        "NaN",
        "10.001",
        "",
        " ",
        "x" * 5000,
        "\x00\x1f",
        "4242424242424242",
        ["PAYMENT"],
        {"a": {"b": [1]}},
        "PAYMENT",
        "PREAUTH",
        "CAPTURE",
        "REFUND",
        "VOID",
        "SUPPLIER1",
        "AUD",
        "INTERNET",
        "CREDIT_CARD",
        "DIRECT_DEBIT",
        "13",
        "2020",
        "12",
        "abc",
        "\u202e\ufeff",
        12.5,
        "12.50",
    ]
    return rng.choice(choices)


def _bodies(rng: random.Random) -> list[tuple[str, bytes]]:
    bodies: list[tuple[str, bytes]] = [
        ("application/json", b""),
        ("application/json", b"not json"),
        ("application/json", b"[1, 2]"),
        ("application/json", b"\xff\xfe"),
        ("application/json", b"[" * 5000 + b"]" * 5000),
        ("text/plain", b"{}"),
        ("application/x-www-form-urlencoded", b"transactionType=PAYMENT"),
        ("application/json", b"{}"),
    ]
    for _ in range(40):
        fields = rng.sample(FIELDS, rng.randint(1, 8))
        bodies.append(("application/json", json.dumps({f: _value(rng) for f in fields}).encode()))
    return bodies


def _assert_envelope(response: Any) -> None:
    assert 400 <= response.status_code < 500, (
        response.status_code,
        response.get_data(as_text=True),
    )
    body = response.get_json()
    assert set(body) == ENVELOPE_KEYS
    assert body["status"] == str(response.status_code)


@pytest.mark.parametrize(("method", "path", "key"), ROUTES, ids=[r[1] for r in ROUTES])
def test_generated_bodies_get_the_envelope_and_change_nothing(
    client: FlaskClient, state: State, method: str, path: str, key: str
) -> None:
    rng = random.Random(f"{method} {path}")
    before = state.provider_state("quickstream")
    for content_type, body in _bodies(rng):
        response = client.open(
            API + path,
            method=method,
            data=body,
            content_type=content_type,
            headers={**_auth(key), "Idempotency-Key": f"k{rng.random()}"},
        )
        _assert_envelope(response)
    assert state.provider_state("quickstream") == before
    assert not state.take_server_errors()


@pytest.mark.parametrize(("method", "path"), READS, ids=[f"{m} {p}" for m, p in READS])
def test_generated_path_and_query_values_never_fail_with_5xx(
    client: FlaskClient, state: State, method: str, path: str
) -> None:
    for value in (
        "0",
        "-1",
        "99999999999999999999",
        "abc",
        "%00",
        "..%2F..",
        "x" * 300,
        "%E2%80%AE",
    ):
        response = client.open(API + path.format(x=value), method=method, headers=_auth(SECRET_KEY))
        if response.status_code != 200:
            _assert_envelope(response)
    assert not state.take_server_errors()


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "/nope", 404),
        ("PUT", "/transactions", 405),
        ("PATCH", "", 405),
        ("GET", "/single-use-tokens", 405),
    ],
)
def test_routing_errors_use_the_envelope(
    client: FlaskClient, method: str, path: str, status: int
) -> None:
    response = client.open(API + path, method=method, headers=_auth(SECRET_KEY))
    assert response.status_code == status
    _assert_envelope(response)


def test_an_oversized_body_is_413_in_the_envelope(client: FlaskClient) -> None:
    response = client.post(
        API + "/transactions",
        data=b"{" + b" " * (2 << 20) + b"}",
        content_type="application/json",
        headers=_auth(SECRET_KEY),
    )
    assert response.status_code == 413
    _assert_envelope(response)


def test_an_injected_fault_is_the_envelope_and_processes_nothing(
    client: FlaskClient, state: State
) -> None:
    state.add_fault({"provider": "quickstream", "endpoint": "rest-transactions", "status": 503})
    response = client.post(API + "/transactions", json={}, headers=_auth(SECRET_KEY))
    assert response.status_code == 503
    assert set(response.get_json()) == ENVELOPE_KEYS
