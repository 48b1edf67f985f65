"""Merchant detokenization: the token's own merchant gets the same one-time URL as a partner."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import requests

from mockbank.clients.syspay import wsse_header
from tests.syspay.helpers import (
    MERCHANT,
    PARTNER,
    SEED_TOKEN,
    add_merchant,
    merchant_header,
    partner_header,
    redirects,
)

MERCHANT_DETOKENIZE = "/syspay/api/{}/merchant/token/{}/detokenize"
BODY = {"type": "TEXT", "viewer": "Front desk", "company_reference": "HOTEL-7"}


def _url(token: str = SEED_TOKEN, version: str = "v2") -> str:
    return MERCHANT_DETOKENIZE.format(version, token)


def test_merchant_detokenizes_its_own_token_and_opens_the_page_once(
    client: Any, state: Any
) -> None:
    response = client.post(_url(), headers=merchant_header(state), json=BODY)
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["class"] == "detokenize"
    page = client.get(body["redirect_url"])
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "4111 1111 1111 1111" in text
    assert "for merchant myMerchantLogin" in text
    assert client.get(body["redirect_url"]).status_code == 410
    [recorded] = redirects(state)
    assert recorded["requested_by"] == "merchant"
    assert recorded["partner"] == MERCHANT[0]
    assert recorded["status"] == "VIEWED"


def test_merchant_may_leave_out_company_reference_and_ask_for_an_image(
    client: Any, state: Any
) -> None:
    response = client.post(
        _url(version="v1"), headers=merchant_header(state), json={"type": "IMAGE", "viewer": "Ops"}
    )
    assert response.status_code == 200, response.get_json()
    image = client.get(response.get_json()["data"]["redirect_url"])
    assert image.mimetype == "image/png"
    assert redirects(state)[0]["company_reference"] == ""


def test_another_merchants_token_is_unknown_and_creates_no_url(client: Any, state: Any) -> None:
    add_merchant(state, "otherMerchant", "otherPass")
    other = merchant_header(state, ("otherMerchant", "otherPass"))
    response = client.post(_url(), headers=other, json=BODY)
    assert response.status_code == 404
    assert response.get_json()["error_code"] == 20019
    assert redirects(state) == []
    # The refused request spent nothing: the same header works on the merchant's own tokens.
    assert (
        client.get(f"/syspay/api/v2/merchant/token/{SEED_TOKEN}", headers=other).status_code == 404
    )


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"type": "PDF", "viewer": "Ops"}, 400, 10001),
        ({"type": "TEXT"}, 400, 10003),
        ({"type": "TEXT", "viewer": "x" * 101}, 400, 20035),
        ({"type": "TEXT", "viewer": "Ops", "company_reference": "r" * 101}, 400, 20035),
        ({"type": "TEXT", "viewer": "Ops", "card": "1"}, 400, 10004),
        ([], 400, 10001),
    ],
    ids=["bad-type", "no-viewer", "long-viewer", "long-reference", "extra-field", "not-object"],
)
def test_bad_merchant_detokenize_bodies_are_refused_and_create_no_url(
    client: Any, state: Any, body: Any, status: int, code: int
) -> None:
    response = client.post(_url(), headers=merchant_header(state), json=body)
    assert response.status_code == status
    assert response.get_json()["error_code"] == code
    assert redirects(state) == []


def test_unknown_token_is_404_in_the_v1_envelope(client: Any, state: Any) -> None:
    response = client.post(_url("999", "v1"), headers=merchant_header(state), json=BODY)
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == 20019


def test_partner_login_on_the_merchant_endpoint_is_403(client: Any, state: Any) -> None:
    response = client.post(_url(), headers=partner_header(state), json=BODY)
    assert response.status_code == 403
    assert response.get_json()["error_code"] == 994037
    assert redirects(state) == []


def test_merchant_header_is_single_use_here_too(client: Any, state: Any) -> None:
    header = merchant_header(state)
    assert client.post(_url(), headers=header, json=BODY).status_code == 200
    replay = client.post(_url(), headers=header, json=BODY)
    assert replay.status_code == 403
    assert replay.get_json()["error_code"] == 994036


def test_fault_on_merchant_detokenize_spends_nothing(client: Any, state: Any) -> None:
    state.add_fault({"provider": "syspay", "endpoint": "merchant-detokenize", "status": 503})
    header = merchant_header(state)
    assert client.post(_url(), headers=header, json=BODY).status_code == 503
    assert client.post(_url(), headers=header, json=BODY).status_code == 200


def test_merchant_detokenizes_over_http_with_requests(mockbank: Any) -> None:
    header = {"X-Wsse": wsse_header(*MERCHANT, partner=False, created=int(mockbank.clock.epoch()))}
    response = requests.post(
        mockbank.url("syspay", _url().removeprefix("/syspay")),
        headers=header,
        json=BODY,
        timeout=10,
    )
    assert response.status_code == 200, response.text
    assert response.headers["X-Syspay-Request-Uuid"]
    page = requests.get(response.json()["redirect_url"], timeout=10)
    assert page.status_code == 200
    assert page.headers["Cache-Control"] == "no-store"
    assert "John Doe" in page.text
    assert requests.get(response.json()["redirect_url"], timeout=10).status_code == 410


def test_fifty_concurrent_merchant_requests_with_one_combined_header_make_one_url(
    mockbank: Any,
) -> None:
    url = mockbank.url("syspay", _url().removeprefix("/syspay"))
    value = wsse_header(
        *MERCHANT, partner=False, created=int(mockbank.clock.epoch()), acting_partner=PARTNER
    )

    def post(_: int) -> int:
        with requests.Session() as session:
            response = session.post(url, headers={"X-Wsse": value}, json=BODY, timeout=30)
            return response.status_code

    with ThreadPoolExecutor(max_workers=50) as pool:
        statuses = list(pool.map(post, range(50)))
    assert statuses.count(200) == 1
    assert statuses.count(403) == 49
    [view] = mockbank.state.provider_state("syspay")["redirects"]
    assert view["requested_by"] == "merchant"
