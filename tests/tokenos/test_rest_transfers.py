"""REST-only transfers and token lists: ``POST /transfers`` with only ``payload`` under the API
key, and ``GET /tokens`` with ``page.*``, optional ``type`` and ``filter.*`` (by requests)."""

from __future__ import annotations

from typing import Any

import pytest

from mockbank.clients.tokenos import Member
from mockbank.testing import LiveServer
from tests.tokenos.helpers import access_payload, mint, transfer_payload
from tests.tokenos.rest import approved_token, call


def test_a_rest_user_redeems_with_only_the_payload(live: LiveServer) -> None:
    _, token_id = approved_token(live, transfer_payload("10.00"))
    payload = {
        "tokenId": token_id,
        "refId": "rest-1",
        "amount": {"value": "4.00", "currency": "EUR"},
    }
    answer = call(live, "POST", "/transfers", json={"payload": payload})
    assert answer.status_code == 200, answer.text
    transfer = answer.json()["transfer"]
    assert transfer["status"] == "PROCESSING"
    assert transfer["payload"]["amount"] == {"value": "4.00", "currency": "EUR"}
    assert transfer["payloadSignatures"] == []
    live.state.clock.advance(6)
    fetched = call(live, "GET", f"/transfers/{transfer['id']}").json()["transfer"]
    assert fetched["status"] == "SUCCESS"
    # The same refId again is the same transfer (idempotent), not a second payment.
    again = call(live, "POST", "/transfers", json={"payload": payload}).json()["transfer"]
    assert again["id"] == transfer["id"]


def test_without_an_amount_the_whole_lifetime_amount_is_redeemed(live: LiveServer) -> None:
    _, token_id = approved_token(live, transfer_payload("12.50"))
    answer = call(live, "POST", "/transfers", json={"payload": {"tokenId": token_id}})
    assert answer.status_code == 200, answer.text
    assert answer.json()["transfer"]["payload"]["amount"] == {"value": "12.50", "currency": "EUR"}
    second = call(live, "POST", "/transfers", json={"payload": {"tokenId": token_id}})
    assert second.status_code == 400
    assert "exceeds what is left" in second.text


@pytest.mark.parametrize(
    ("payload", "status"),
    [
        ({}, 400),
        ({"tokenId": "tt:unknown:5zKxyCKM"}, 404),
        ({"tokenId": "TOKEN", "amount": {"value": "-1", "currency": "EUR"}}, 400),
        ({"tokenId": "TOKEN", "amount": {"value": "1.00", "currency": "GBP"}}, 400),
        ({"tokenId": "TOKEN", "refId": "x" * 19}, 400),
    ],
    ids=["no-token", "unknown-token", "negative", "currency", "long-refid"],
)
def test_bad_rest_redemptions_are_refused_and_create_nothing(
    live: LiveServer, payload: dict[str, Any], status: int
) -> None:
    _, token_id = approved_token(live)
    body = {k: (token_id if v == "TOKEN" else v) for k, v in payload.items()}
    answer = call(live, "POST", "/transfers", json={"payload": body})
    assert answer.status_code == status
    assert live.state.store.records("tokenos.transfer") == []


def test_a_wrong_payload_signature_is_still_refused(live: LiveServer) -> None:
    _, token_id = approved_token(live)
    signature = {
        "memberId": "m:2fH1YspCejjhxqSss5hvLGMfb2Gm:5zKtXEAq",
        "keyId": "x",
        "signature": "y",
    }
    body = {"payload": {"tokenId": token_id}, "payloadSignature": signature}
    assert call(live, "POST", "/transfers", json=body).status_code == 401


def test_the_sdk_redemption_with_a_signature_still_works(
    live: LiveServer, merchant: Member
) -> None:
    token = mint(live, merchant, transfer_payload("10.00"))
    transfer = merchant.redeem_token(token, "3.00")
    assert transfer["payloadSignatures"][0]["signature"]["memberId"] == merchant.member_id


def test_tokens_list_pages_with_page_limit_and_offset(live: LiveServer) -> None:
    ids = [approved_token(live)[1] for _ in range(3)]
    first = call(live, "GET", "/tokens?page.limit=2").json()
    assert [t["id"] for t in first["tokens"]] == ids[:2]
    assert first["offset"]
    second = call(live, "GET", f"/tokens?page.limit=2&page.offset={first['offset']}").json()
    assert [t["id"] for t in second["tokens"]] == ids[2:]
    assert "offset" not in second
    assert call(live, "GET", "/tokens?page.limit=0").status_code == 400
    assert call(live, "GET", "/tokens?page.offset=zzz").status_code == 400


def test_tokens_list_type_is_optional_and_filters(live: LiveServer) -> None:
    _, transfer_id = approved_token(live)
    _, access_id = approved_token(live, access_payload())
    both = {t["id"] for t in call(live, "GET", "/tokens?page.limit=10").json()["tokens"]}
    assert both == {transfer_id, access_id}
    only = call(live, "GET", "/tokens?type=ACCESS&page.limit=10").json()["tokens"]
    assert [t["id"] for t in only] == [access_id]
    invalid = call(live, "GET", "/tokens?type=INVALID&page.limit=10").json()["tokens"]
    assert len(invalid) == 2
    assert call(live, "GET", "/tokens?type=BOTH").status_code == 400


def test_tokens_list_filters_by_role_time_and_source_account(live: LiveServer) -> None:
    live.state.clock.freeze()
    _, early = approved_token(live)
    live.state.clock.advance(60)
    middle_ms = int(live.state.now().timestamp() * 1000)
    _, late = approved_token(live)
    listed = call(live, "GET", f"/tokens?page.limit=10&filter.startTimeMs={middle_ms}").json()
    assert [t["id"] for t in listed["tokens"]] == [late]
    listed = call(live, "GET", f"/tokens?page.limit=10&filter.endTimeMs={middle_ms - 1}").json()
    assert [t["id"] for t in listed["tokens"]] == [early]
    assert call(live, "GET", "/tokens?page.limit=10&filter.role=FROM").json()["tokens"] == []
    to = call(live, "GET", "/tokens?page.limit=10&filter.role=TO").json()["tokens"]
    assert len(to) == 2
    by_source = call(
        live, "GET", "/tokens?page.limit=10&filter.sourceAccountId=a:iron-checking"
    ).json()["tokens"]
    assert len(by_source) == 2
    none = call(live, "GET", "/tokens?page.limit=10&filter.sourceAccountId=a:wood-current")
    assert none.json()["tokens"] == []
    assert call(live, "GET", "/tokens?filter.role=BANK").status_code == 400
    assert call(live, "GET", "/tokens?filter.startTimeMs=yesterday").status_code == 400
