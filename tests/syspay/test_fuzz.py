"""Generated bad input never gets a 5xx: always SysPay's envelope and a 4xx."""

from __future__ import annotations

import json
import random
import string
from typing import Any

import pytest

from mockbank.clients.syspay import wsse_header
from tests.syspay.helpers import MERCHANT, PARTNER, merchant_header, partner_header

pytestmark = pytest.mark.slow  # thousands of generated requests

JUNK: list[Any] = [
    None,
    True,
    0,
    -1,
    1.5,
    10**30,
    "",
    " ",
    "TEXT",
    "IMAGE",
    "x" * 101,
    "\u0000",
    "é" * 50,
    [],
    {},
    ["TEXT"],
    {"a": 1},
    "4111111111111111",
    "2030",
    "12",
]
FIELDS = [
    "type",
    "viewer",
    "company_reference",
    "creditcard",
    "detokenizers",
    "number",
    "cardholder",
    "exp_month",
    "exp_year",
    "cvc",
    "login",
    "types",
    "extra",
]


def _random_value(rng: random.Random, depth: int = 0) -> Any:
    roll = rng.random()
    if depth < 2 and roll < 0.2:
        return {rng.choice(FIELDS): _random_value(rng, depth + 1) for _ in range(rng.randint(0, 4))}
    if depth < 2 and roll < 0.3:
        return [_random_value(rng, depth + 1) for _ in range(rng.randint(0, 3))]
    if roll < 0.4:
        return "".join(rng.choice(string.printable) for _ in range(rng.randint(0, 120)))
    return rng.choice(JUNK)


def _random_body(rng: random.Random) -> tuple[bytes, str]:
    roll = rng.random()
    if roll < 0.1:
        return bytes(rng.getrandbits(8) for _ in range(rng.randint(0, 60))), "application/json"
    if roll < 0.15:
        return b"type=TEXT", "application/x-www-form-urlencoded"
    value = {rng.choice(FIELDS): _random_value(rng) for _ in range(rng.randint(0, 5))}
    if rng.random() < 0.3:
        value = {
            "type": rng.choice(["TEXT", "IMAGE"]),
            "viewer": "v",
            "company_reference": "4242",
            **value,
        }
    return json.dumps(value).encode(), "application/json"


@pytest.mark.parametrize(
    ("path", "kind"),
    [
        pytest.param("/syspay/api/v2/partner/token/1000001/detokenize", "partner", id="v2"),
        pytest.param("/syspay/api/v1/partner/token/1000001/detokenize", "partner", id="v1"),
        pytest.param("/syspay/api/v2/merchant/token", "merchant", id="merchant-token"),
        pytest.param(
            "/syspay/api/v1/merchant/token/1000001/detokenize", "merchant", id="merchant-detokenize"
        ),
    ],
)
def test_generated_bad_bodies_never_get_a_5xx(client: Any, state: Any, path: str, kind: str):
    rng = random.Random(f"syspay-{path}")
    for _ in range(1000):
        data, content_type = _random_body(rng)
        headers = partner_header(state) if kind == "partner" else merchant_header(state)
        response = client.post(path, data=data, headers={**headers, "Content-Type": content_type})
        assert response.status_code < 500, (data, response.get_data(as_text=True))
        if response.status_code >= 400:
            body = response.get_json()
            assert ("error" in body) if "/v1/" in path else ("error_code" in body), body
            assert response.headers["X-Syspay-Request-Uuid"]
    assert state.take_server_errors() == []


def test_generated_bad_headers_get_403(client: Any, state: Any) -> None:
    rng = random.Random("syspay-headers")
    good = partner_header(state)["X-Wsse"]
    for _ in range(400):
        chars = list(good)
        for _ in range(rng.randint(1, 6)):
            position = rng.randrange(len(chars))
            chars[position] = rng.choice(string.printable.strip() + " ")
        header = "".join(chars)
        response = client.post(
            "/syspay/api/v2/partner/token/1000001/detokenize",
            headers={"X-Wsse": header.encode("latin-1").decode("latin-1")},
            json={"type": "TEXT", "viewer": "v", "company_reference": "4242"},
        )
        assert response.status_code in (200, 403), header
        if response.status_code == 403:
            assert response.get_json()["error_code"] in range(994031, 994038)
    assert state.take_server_errors() == []


def test_generated_combined_headers_never_get_a_5xx(client: Any, state: Any) -> None:
    rng = random.Random("syspay-combined-headers")
    good = wsse_header(
        *MERCHANT, partner=False, created=int(state.now().timestamp()), acting_partner=PARTNER
    )
    statuses = set()
    for _ in range(400):
        chars = list(good)
        for _ in range(rng.randint(1, 6)):
            position = rng.randrange(len(chars))
            chars[position] = rng.choice(string.printable.strip() + " ")
        response = client.get(
            "/syspay/api/v2/merchant/token/1000001", headers={"X-Wsse": "".join(chars)}
        )
        statuses.add(response.status_code)
        assert response.status_code in (200, 403, 403), "".join(chars)
        if response.status_code != 200:
            assert response.get_json()["error_code"] in (*range(994031, 994038), 994038)
    assert 403 in statuses
    assert state.take_server_errors() == []


def test_generated_header_attributes_get_403(client: Any, state: Any) -> None:
    rng = random.Random("syspay-attributes")
    pieces = {
        "PartnerAPILogin": ["myPartnerLogin", "", "x" * 300, "myMerchantLogin"],
        "MerchantAPILogin": ["myMerchantLogin"],
        "PartnerLogin": ["myPartnerLogin", "", "ghost"],
        "PartnerDigest": ["", "yxag0yx38DPpCDx1Pl8UZnmXANE=", "\u00e9"],
        "PasswordDigest": ["", "=", "yxag0yx38DPpCDx1Pl8UZnmXANE=", "\u00e9"],
        "Nonce": ["", "=", "bXkgcmFuZG9tIG5vbmNl", "!!", "a" * 500],
        "Created": ["", "-1", "0", "1.5", "1e9", *("9" * n for n in range(1, 16))],
        "Other": ["1"],
    }
    for _ in range(1000):
        names = rng.sample(list(pieces), rng.randint(0, len(pieces)))
        quote = rng.choice(['"', "'", ""])
        header = rng.choice(["AuthToken ", "authtoken ", "", "Digest "]) + rng.choice(
            [", ", ",", " , ", ";"]
        ).join(f"{n}={quote}{rng.choice(pieces[n])}{quote}" for n in names)
        response = client.post(
            "/syspay/api/v2/partner/token/1000001/detokenize",
            headers={"X-Wsse": header.encode("utf-8").decode("latin-1")},
            json={"type": "TEXT", "viewer": "v", "company_reference": "4242"},
        )
        assert response.status_code == 403, (header, response.get_data(as_text=True))
    assert state.take_server_errors() == []


def test_generated_redirect_and_token_ids_never_get_a_5xx(client: Any, state: Any) -> None:
    rng = random.Random("syspay-ids")
    alphabet = string.ascii_letters + string.digits + "-_.~%"
    for _ in range(300):
        junk = "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 80)))
        page = client.get(f"/syspay/redirect/detokenize/{junk}")
        assert page.status_code in (404, 400), junk
        token = client.get(f"/syspay/api/v2/merchant/token/{junk}", headers=merchant_header(state))
        assert token.status_code in (404, 400), junk
    assert state.take_server_errors() == []
