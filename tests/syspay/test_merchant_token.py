"""POST/GET /api/v2/merchant/token: direct card tokenization and the masked read-back."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from tests.syspay.helpers import (
    MERCHANT,
    SEED_TOKEN,
    add_merchant,
    card_body,
    merchant_header,
    partner_header,
)

TOKENS = "/syspay/api/v2/merchant/token"


def test_merchant_creates_a_token_and_reads_it_back_masked(client: Any, state: Any) -> None:
    created = client.post(TOKENS, headers=merchant_header(state), json=card_body())
    assert created.status_code == 201
    token = created.get_json()
    assert token["class"] == "token"
    assert token["id"] == "1000002"  # the sequence continues after the seeded 1000001
    assert token["display"] == "555555******4444"
    assert token["creditcard"]["scheme"] == "MASTERCARD"
    assert "number" not in token["creditcard"]
    assert "cvc" not in str(token)
    assert created.headers["Location"] == f"{TOKENS}/1000002"
    fetched = client.get(created.headers["Location"], headers=merchant_header(state))
    assert fetched.status_code == 200
    assert fetched.get_json() == token
    stored = state.store.get("syspay.token", "1000002", now=state.now())
    assert "cvc" not in str(stored)  # the CVC is validated, then dropped


def test_seeded_token_reads_back(client: Any, state: Any) -> None:
    response = client.get(f"{TOKENS}/{SEED_TOKEN}", headers=merchant_header(state))
    body = response.get_json()
    assert body["display"] == "411111******1111"
    assert body["creditcard"]["cardholder"] == "John Doe"
    assert (body["creditcard"]["exp_month"], body["creditcard"]["exp_year"]) == ("12", "2030")
    assert body["detokenizers"] == [{"login": "myPartnerLogin", "types": ["TEXT", "IMAGE"]}]


def test_detokenizer_types_default_to_both(client: Any, state: Any) -> None:
    body = card_body()
    body["detokenizers"] = [{"login": "myPartnerLogin"}]
    created = client.post(TOKENS, headers=merchant_header(state), json=body).get_json()
    assert created["detokenizers"] == [{"login": "myPartnerLogin", "types": ["TEXT", "IMAGE"]}]


def test_unknown_token_and_partner_login_are_refused(client: Any, state: Any) -> None:
    assert client.get(f"{TOKENS}/42", headers=merchant_header(state)).status_code == 404
    wrong_kind = client.get(f"{TOKENS}/{SEED_TOKEN}", headers=partner_header(state))
    assert wrong_kind.status_code == 403
    assert wrong_kind.get_json()["error_code"] == 994037


def _with_detokenizers(value: Any) -> dict[str, Any]:
    body = card_body()
    body["detokenizers"] = value
    return body


@pytest.mark.parametrize(
    ("body", "field", "words", "code"),
    [
        pytest.param(
            card_body(number="4111111111111112"),
            "creditcard.number",
            "check digit",
            30048,
            id="luhn",
        ),
        pytest.param(
            card_body(number="4111-1111"),
            "creditcard.number",
            "12 to 19 digits",
            30021,
            id="short-number",
        ),
        pytest.param(
            card_body(number=None), "creditcard.number", "required", 10003, id="no-number"
        ),
        pytest.param(
            card_body(cardholder=""), "creditcard.cardholder", "required", 10003, id="no-holder"
        ),
        pytest.param(
            card_body(cardholder="x" * 101),
            "creditcard.cardholder",
            "at most 100",
            30020,
            id="long-holder",
        ),
        pytest.param(
            card_body(exp_month="13"), "creditcard.exp_month", "1 to 12", 30023, id="month-13"
        ),
        pytest.param(
            card_body(exp_year="31"),
            "creditcard.exp_year",
            "four-digit",
            30024,
            id="two-digit-year",
        ),
        pytest.param(
            card_body(exp_month="01", exp_year="2020"),
            "creditcard.exp_year",
            "expired",
            30025,
            id="expired-card",
        ),
        pytest.param(card_body(cvc="12"), "creditcard.cvc", "3 or 4", 30022, id="cvc-short"),
        pytest.param(
            card_body(pan="1"),
            "creditcard.pan",
            "extra parameters not allowed",
            10004,
            id="extra-field",
        ),
        pytest.param({"detokenizers": []}, "creditcard", "required", 10003, id="no-card"),
        pytest.param(
            _with_detokenizers([]), "detokenizers", "non-empty", 10003, id="no-detokenizers"
        ),
        pytest.param(
            _with_detokenizers([{"login": "ghost"}]),
            "detokenizers.0.login",
            "unknown partner",
            60006,
            id="unknown-partner",
        ),
        pytest.param(
            _with_detokenizers([{"login": "myPartnerLogin"}] * 2),
            "detokenizers.1.login",
            "twice",
            60006,
            id="duplicate-partner",
        ),
        pytest.param(
            _with_detokenizers([{"login": "myPartnerLogin", "types": ["SMS"]}]),
            "detokenizers.0.types",
            "TEXT and/or IMAGE",
            10001,
            id="bad-type",
        ),
        pytest.param(
            _with_detokenizers(["myPartnerLogin"]),
            "detokenizers.0",
            "not of type object",
            10009,
            id="detokenizer-string",
        ),
    ],
)
def test_invalid_token_request_is_400_and_stores_nothing(
    client: Any, state: Any, body: dict[str, Any], field: str, words: str, code: int
) -> None:
    """Each wrong field carries the code SysPay's own table has for it."""
    response = client.post(TOKENS, headers=merchant_header(state), json=body)
    assert response.status_code == 400
    errors = response.get_json()["errors"]
    assert any(
        e.get("field") == field and words.lower() in e["message"].lower() and e["code"] == code
        for e in errors
    ), errors
    assert "4111111111111112" not in response.get_data(as_text=True)
    assert [t["id"] for t in state.provider_state("syspay")["tokens"]] == [SEED_TOKEN]
    assert state.provider_state("syspay")["live_nonces"] == 0


def test_card_expiring_this_month_is_still_accepted(client: Any, state: Any) -> None:
    state.clock.freeze(datetime(2031, 11, 30, 23, 0, tzinfo=UTC))
    response = client.post(TOKENS, headers=merchant_header(state), json=card_body())
    assert response.status_code == 201


def test_another_merchants_token_reads_as_unknown(app: Any, state: Any, client: Any) -> None:
    add_merchant(state, "otherMerchant", "otherPassphrase")
    other = merchant_header(state, ("otherMerchant", "otherPassphrase"))
    response = client.get(f"{TOKENS}/{SEED_TOKEN}", headers=other)
    assert response.status_code == 404
    assert MERCHANT[0] not in response.get_data(as_text=True)


def test_injected_fault_on_merchant_token(client: Any, state: Any) -> None:
    state.add_fault({"provider": "syspay", "endpoint": "merchant-token", "status": 502})
    response = client.post(TOKENS, headers=merchant_header(state), json=card_body())
    assert response.status_code == 502
    assert response.get_json()["error_code"] == 995029
    assert len(state.provider_state("syspay")["tokens"]) == 1
