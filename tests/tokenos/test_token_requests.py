"""TokenOS token requests and the consent form contract."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from mockbank.clients.tokenos import (
    Member,
    TokenClient,
    TokenError,
    verify_json,
)
from mockbank.testing import LiveServer
from tests.tokenos.helpers import PAYER, access_payload, consent, mint, transfer_payload


def test_token_request_result_is_signed_by_the_token_member(
    token_client: TokenClient, merchant: Member, live: LiveServer
) -> None:
    stored = merchant.store_token_request(transfer_payload(), PAYER)
    with pytest.raises(Exception, match="404 NOT_FOUND"):
        token_client.call("GET", f"/token-requests/{stored['id']}/token_request_result")
    assert consent(live, stored["id"]).status_code == 302
    result = token_client.call("GET", f"/token-requests/{stored['id']}/token_request_result")
    keys = token_client.get_token_member()["keys"]
    key = next(k for k in keys if k["id"] == result["signature"]["keyId"])
    signed = {"state": stored["requestPayload"]["callbackState"], "tokenId": result["tokenId"]}
    assert verify_json(signed, result["signature"]["signature"], key["publicKey"])
    again = token_client.call("GET", f"/token-requests/{stored['id']}")
    assert again["tokenRequest"]["id"] == stored["id"]


def test_approve_alone_grants_all_accounts_at_the_bank(merchant: Member, live: LiveServer) -> None:
    token = mint(live, merchant, access_payload(["ACCOUNTS"]), {**PAYER, "bankId": "wood"})
    assert token["payload"]["access"]["resources"] == [
        {"account": {"accountId": "a:wood-current"}},
        {"account": {"accountId": "a:wood-savings"}},
    ]
    assert token["payload"]["from"]["id"] == live.state.fixtures["tokenos"].payers[0].member_id


def test_source_account_fixes_the_bank_and_the_account(merchant: Member, live: LiveServer) -> None:
    payer = {"from": PAYER["from"], "sourceAccountId": "a:iron-savings"}
    stored = merchant.store_token_request(transfer_payload(), payer)
    page = requests.get(live.url_for("tokenos", f"/app/request-token/{stored['id']}"), timeout=10)
    # No bank choice and no email: straight to the one account the TPP named.
    assert "Choose the account(s) at Iron Bank" in page.text
    assert page.text.count('name="accountId"') == 1
    assert 'value="a:iron-savings"' in page.text
    wrong = consent(live, stored["id"], accountId="a:iron-checking")
    assert wrong.status_code == 400
    assert "a:iron-checking is not one of the payer" in wrong.text
    token = mint(live, merchant, transfer_payload(), payer)
    assert token["payload"]["issuer"] == {"id": "iron"}
    source = token["payload"]["transfer"]["instructions"]["source"]["account"]["token"]
    assert source["accountId"] == "a:iron-savings"


@pytest.mark.parametrize(
    ("options", "body", "message"),
    [
        pytest.param(
            {"bankId": "wood", "sourceAccountId": "a:iron-savings"},
            transfer_payload(),
            "is at bank iron, not requestOptions.bankId wood",
            id="other-bank",
        ),
        pytest.param(
            {"sourceAccountId": "a:wood-current"},
            transfer_payload(),
            "a:wood-current holds GBP",
            id="other-currency",
        ),
        pytest.param(
            {"sourceAccountId": "a:gold-checking"},
            transfer_payload(),
            "bank gold does not support supportsSendPayment",
            id="information-only-bank",
        ),
        pytest.param(
            {"sourceAccountId": "a:nowhere"},
            access_payload(),
            "not a known account",
            id="unknown",
        ),
    ],
)
def test_source_account_that_cannot_pay_is_refused_when_stored(
    merchant: Member, live: LiveServer, options: dict[str, Any], body: dict[str, Any], message: str
) -> None:
    with pytest.raises(TokenError) as refused:
        merchant.store_token_request(body, options)
    assert (refused.value.status, refused.value.code) == (400, "INVALID_ARGUMENT")
    assert message in refused.value.message
    assert live.state.provider_state("tokenos")["tokenRequests"] == []


def test_consent_form_contract(merchant: Member, live: LiveServer) -> None:
    stored = merchant.store_token_request(transfer_payload(), {})
    # Bank and payer unknown: approve alone re-shows the page with a 400.
    assert consent(live, stored["id"]).status_code == 400
    wrong_bank = consent(live, stored["id"], bankId="gold", email="payer@example.com")
    assert wrong_bank.status_code == 400
    assert "cannot be used" in wrong_bank.text
    foreign = consent(
        live, stored["id"], bankId="iron", email="payer@example.com", accountId="a:wood-current"
    )
    assert foreign.status_code == 400
    assert consent(live, stored["id"], decision="maybe").status_code == 400
    # The older web-app path works the same.
    older = requests.post(
        live.url_for("tokenos", f"/request-token/{stored['id']}"),
        data={
            "decision": "approve",
            "bankId": "iron",
            "email": "payer@example.com",
            "accountId": "a:iron-checking",
        },
        allow_redirects=False,
        timeout=10,
    )
    assert older.status_code == 302
    query = parse_qs(urlsplit(older.headers["Location"]).query)
    assert query["tokenId"][0].startswith("tt:")
    assert consent(live, stored["id"]).status_code == 410
    assert consent(live, "rq:unknown").status_code == 404


def test_consent_page_shows_acting_as_and_narrows_banks_by_destination_country(
    merchant: Member, live: LiveServer
) -> None:
    payload = transfer_payload(
        actingAs={"displayName": "Corner Bakery", "refId": "bakery-1"},
        destinationCountry="GB",
    )
    payload["transferBody"]["currency"] = "GBP"
    stored = merchant.store_token_request(payload, {})
    page = requests.get(live.url_for("tokenos", f"/app/request-token/{stored['id']}"), timeout=10)
    assert page.status_code == 200
    assert "Corner Bakery asks for" in page.text
    assert 'value="wood" checked' in page.text
    assert 'value="iron" disabled' in page.text  # shown, not choosable: not in GB
    assert "is not in GB" in page.text
