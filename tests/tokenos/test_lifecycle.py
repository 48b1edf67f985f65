"""Smart-token lifecycle: budgets, ownership, refIds, cancel, expiry, magic amounts, races."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from mockbank import create_app
from mockbank.clients.tokenos import Member, TokenClient, TokenError
from mockbank.testing import LiveServer
from tests.tokenos.helpers import PAYER, consent, mint, transfer_payload


def transfers(live: LiveServer) -> list[dict[str, Any]]:
    return live.state.provider_state("tokenos")["transfers"]


def test_redeeming_past_the_lifetime_amount_fails_and_creates_nothing(
    merchant: Member, live: LiveServer
) -> None:
    token = mint(live, merchant, transfer_payload("10.00"))
    merchant.redeem_token(token, "6.00", ref_id="first")
    with pytest.raises(TokenError) as refused:
        merchant.redeem_token(token, "4.01", ref_id="second")
    assert (refused.value.status, refused.value.code) == (400, "FAILED_PRECONDITION")
    assert "exceeds what is left" in refused.value.message
    assert len(transfers(live)) == 1
    merchant.redeem_token(token, "4.00", ref_id="third")  # exactly the rest is fine
    assert len(transfers(live)) == 2


def test_redeeming_another_members_token_fails_and_creates_nothing(
    merchant: Member, token_client: TokenClient, live: LiveServer
) -> None:
    token = mint(live, merchant, transfer_payload())
    other = token_client.create_member({"type": "DOMAIN", "value": "other.example.com"})
    with pytest.raises(TokenError) as refused:
        other.redeem_token(token, "1.00")
    assert (refused.value.status, refused.value.code) == (403, "PERMISSION_DENIED")
    assert transfers(live) == []
    with pytest.raises(TokenError) as hidden:
        other.get_token(token["id"])
    assert hidden.value.status == 403


def test_nineteen_character_ref_id_is_rejected_on_the_request(
    merchant: Member, live: LiveServer
) -> None:
    with pytest.raises(TokenError) as refused:
        merchant.store_token_request(transfer_payload(refId="x" * 19), PAYER)
    assert (refused.value.status, refused.value.code) == (400, "INVALID_ARGUMENT")
    assert "at most 18" in refused.value.message
    assert live.state.provider_state("tokenos")["tokenRequests"] == []
    merchant.store_token_request(transfer_payload(refId="x" * 18), PAYER)


def test_nineteen_character_ref_id_is_rejected_on_the_transfer(
    merchant: Member, live: LiveServer
) -> None:
    token = mint(live, merchant, transfer_payload())
    with pytest.raises(TokenError) as refused:
        merchant.redeem_token(token, "1.00", ref_id="y" * 19)
    assert (refused.value.status, refused.value.code) == (400, "INVALID_ARGUMENT")
    assert transfers(live) == []


@pytest.mark.parametrize(
    ("amount", "after_6s", "after_60s"),
    [
        pytest.param("7.50", "SUCCESS", "SUCCESS", id="ordinary"),
        pytest.param("103", "FAILURE_DECLINED", "FAILURE_DECLINED", id="103-declined"),
        pytest.param(
            "108.00",
            "FAILURE_INSUFFICIENT_FUNDS",
            "FAILURE_INSUFFICIENT_FUNDS",
            id="108-insufficient",
        ),
        pytest.param("105", "PROCESSING", "PROCESSING", id="105-stays-processing"),
        pytest.param("4999.99", "SUCCESS", "SUCCESS", id="just-under-the-balance"),
        pytest.param(
            "5000.01",
            "FAILURE_INSUFFICIENT_FUNDS",
            "FAILURE_INSUFFICIENT_FUNDS",
            id="over-the-balance",
        ),
    ],
)
def test_transfer_status_follows_the_clock_and_magic_amounts(
    merchant: Member, live: LiveServer, amount: str, after_6s: str, after_60s: str
) -> None:
    token = mint(live, merchant, transfer_payload("6000"))
    transfer = merchant.redeem_token(token, amount)
    assert transfer["status"] == "PROCESSING"
    live.state.clock.advance(4)
    assert merchant.get_transfer(transfer["id"])["status"] == "PROCESSING"
    live.state.clock.advance(2)
    assert merchant.get_transfer(transfer["id"])["status"] == after_6s
    live.state.clock.advance(54)
    assert merchant.get_transfer(transfer["id"])["status"] == after_60s


def test_a_failed_transfer_gives_its_amount_back_to_the_token(
    merchant: Member, live: LiveServer
) -> None:
    token = mint(live, merchant, transfer_payload("110"))
    merchant.redeem_token(token, "103", ref_id="declined")
    with pytest.raises(TokenError):
        merchant.redeem_token(token, "10", ref_id="too-much-now")
    live.state.clock.advance(6)
    merchant.redeem_token(token, "100", ref_id="after-decline")


def test_cancelled_token_cannot_be_redeemed(merchant: Member, live: LiveServer) -> None:
    token = mint(live, merchant, transfer_payload())
    result = merchant.cancel_token(token)
    assert result["status"] == "SUCCESS"
    assert result["token"]["payloadSignatures"][-1]["action"] == "CANCELLED"
    with pytest.raises(TokenError) as refused:
        merchant.redeem_token(token, "1.00")
    assert refused.value.code == "FAILED_PRECONDITION"
    with pytest.raises(TokenError) as twice:
        merchant.cancel_token(token)
    assert twice.value.code == "FAILED_PRECONDITION"
    assert transfers(live) == []


def test_expired_token_cannot_be_redeemed(merchant: Member, live: LiveServer) -> None:
    token = mint(live, merchant, transfer_payload())
    live.state.clock.advance(24 * 3600 + 1)
    with pytest.raises(TokenError) as refused:
        merchant.redeem_token(token, "1.00")
    assert "expired" in refused.value.message
    assert live.state.provider_state("tokenos")["tokens"][0]["status"] == "EXPIRED"


def test_token_expiration_of_the_request_sets_when_the_token_expires(
    merchant: Member, live: LiveServer
) -> None:
    now_ms = int(live.state.now().timestamp() * 1000)
    expires = str(now_ms + 3600 * 1000)
    token = mint(live, merchant, transfer_payload(tokenExpiration=expires))
    assert token["payload"]["expiresAtMs"] == expires
    live.state.clock.advance(3600 + 1)
    with pytest.raises(TokenError) as refused:
        merchant.redeem_token(token, "1.00")
    assert (refused.value.status, refused.value.code) == (400, "FAILED_PRECONDITION")
    assert transfers(live) == []


def test_token_expiration_that_passes_before_consent_mints_nothing(
    merchant: Member, live: LiveServer
) -> None:
    now_ms = int(live.state.now().timestamp() * 1000)
    stored = merchant.store_token_request(
        transfer_payload(tokenExpiration=str(now_ms + 60_000)), PAYER
    )
    live.state.clock.advance(61)
    answer = consent(live, stored["id"])
    assert answer.status_code == 400
    assert "tokenExpiration has passed" in answer.text
    assert live.state.provider_state("tokenos")["tokens"] == []


def test_token_request_expires_after_fifteen_minutes_unused(
    merchant: Member, live: LiveServer
) -> None:
    stored = merchant.store_token_request(transfer_payload(), PAYER)
    live.state.clock.advance(15 * 60 + 1)
    answer = consent(live, stored["id"])
    assert answer.status_code == 410
    assert "expired" in answer.text
    with pytest.raises(TokenError) as gone:
        merchant.client.call("GET", f"/token-requests/{stored['id']}")
    assert gone.value.status == 404
    assert live.state.provider_state("tokenos")["tokenRequests"][0]["status"] == "EXPIRED"


def test_ref_id_makes_redemption_idempotent(merchant: Member, live: LiveServer) -> None:
    token = mint(live, merchant, transfer_payload("10"))
    first = merchant.redeem_token(token, "3", ref_id="same")
    again = merchant.redeem_token(token, "3", ref_id="same")
    assert first["id"] == again["id"]
    with pytest.raises(TokenError) as clash:
        merchant.redeem_token(token, "4", ref_id="same")
    assert (clash.value.status, clash.value.code) == (409, "ALREADY_EXISTS")
    assert len(transfers(live)) == 1


def test_transfers_list_without_a_token_id_pages_through_all_of_the_callers(
    merchant: Member, live: LiveServer, token_client: TokenClient
) -> None:
    first = mint(live, merchant, transfer_payload("10"))
    second = mint(live, merchant, transfer_payload("10", refId="order-2"))
    made = [
        merchant.redeem_token(token, "1", ref_id=f"ref-{n}")["id"]
        for n, token in enumerate([first, second, first])
    ]
    # The SDK's getTransfers(undefined, undefined, 2) sends both as the text "undefined".
    page = merchant.call("GET", "/transfers?tokenId=undefined&offset=undefined&limit=2")
    assert [t["id"] for t in page["transfers"]] == made[:2]
    rest = merchant.call("GET", f"/transfers?tokenId=undefined&offset={page['offset']}&limit=2")
    assert [t["id"] for t in rest["transfers"]] == made[2:]
    assert "offset" not in rest
    one = merchant.call("GET", f"/transfers?tokenId={second['id']}&offset=&limit=10")
    assert [t["id"] for t in one["transfers"]] == [made[1]]
    # Another member sees none of them.
    other = token_client.create_member({"type": "DOMAIN", "value": "other.example.com"})
    assert other.call("GET", "/transfers?tokenId=undefined&offset=undefined&limit=10") == {
        "transfers": []
    }


@pytest.mark.parametrize(
    ("change", "field"),
    [
        pytest.param({"redirectUrl": "not a url"}, "redirectUrl", id="redirect-url"),
        pytest.param(
            {"transferBody": {"currency": "euro", "lifetimeAmount": "1"}}, "currency", id="currency"
        ),
        pytest.param(
            {"transferBody": {"currency": "EUR", "lifetimeAmount": "-1"}},
            "lifetimeAmount",
            id="negative-amount",
        ),
        pytest.param(
            {"transferBody": {"currency": "EUR", "lifetimeAmount": "1.23456"}},
            "lifetimeAmount",
            id="five-decimals",
        ),
        pytest.param({"accessBody": {"type": ["ACCOUNTS"]}}, "exactly one", id="two-bodies"),
        pytest.param({"callbackState": {"a": 1}}, "callbackState", id="state-not-string"),
        pytest.param({"destinationCountry": "Germany"}, "destinationCountry", id="country"),
        pytest.param(
            {"tokenExpiration": "tomorrow"}, "tokenExpiration must be", id="expiration-not-ms"
        ),
        pytest.param({"tokenExpiration": "1000"}, "tokenExpiration is in the past", id="expired"),
        pytest.param(
            {
                "transferBody": {
                    "currency": "EUR",
                    "lifetimeAmount": "1",
                    "instructions": {"transferDestinations": "DE89370400440532013000"},
                }
            },
            "transferDestinations must be a list",
            id="destinations-not-a-list",
        ),
        pytest.param(
            {"transferBody": {"currency": "EUR", "lifetimeAmount": "1", "destinations": [{}]}},
            "destinations must be a list",
            id="empty-destination",
        ),
    ],
)
def test_invalid_token_request_is_rejected(
    merchant: Member, live: LiveServer, change: dict[str, Any], field: str
) -> None:
    with pytest.raises(TokenError) as refused:
        merchant.store_token_request(transfer_payload(**change), PAYER)
    assert (refused.value.status, refused.value.code) == (400, "INVALID_ARGUMENT")
    assert field in refused.value.message
    assert live.state.provider_state("tokenos")["tokenRequests"] == []


def test_information_only_bank_cannot_take_a_transfer_request(merchant: Member) -> None:
    with pytest.raises(TokenError) as refused:
        merchant.store_token_request(transfer_payload(), {**PAYER, "bankId": "gold"})
    assert "supportsSendPayment" in refused.value.message


def test_fifty_concurrent_redemptions_spend_the_budget_exactly_once(
    merchant: Member, live: LiveServer
) -> None:
    token = mint(live, merchant, transfer_payload("10"))

    def redeem(index: int) -> int:
        try:
            merchant.redeem_token(token, "1", ref_id=f"race-{index}")
        except TokenError as error:
            return error.status
        return 200

    with ThreadPoolExecutor(max_workers=50) as pool:
        statuses = list(pool.map(redeem, range(50)))
    assert statuses.count(200) == 10
    assert set(statuses) == {200, 400}
    assert len(transfers(live)) == 10


def test_fifty_concurrent_approvals_mint_one_token(merchant: Member, live: LiveServer) -> None:
    stored = merchant.store_token_request(transfer_payload(), PAYER)
    with ThreadPoolExecutor(max_workers=50) as pool:
        answers = list(pool.map(lambda _: consent(live, stored["id"]), range(50)))
    statuses = [a.status_code for a in answers]
    assert statuses.count(302) == 1
    assert all(s < 500 for s in statuses)
    assert len(live.state.provider_state("tokenos")["tokens"]) == 1


def test_racing_approvals_and_denials_answer_once_and_losers_see_the_answered_page(
    merchant: Member, live: LiveServer
) -> None:
    stored = merchant.store_token_request(transfer_payload(), PAYER)
    decisions = ["approve", "deny"] * 25
    with ThreadPoolExecutor(max_workers=50) as pool:
        answers = list(pool.map(lambda d: consent(live, stored["id"], decision=d), decisions))
    winners = [a for a in answers if a.status_code == 302]
    assert len(winners) == 1
    losers = [a for a in answers if a.status_code != 302]
    # Every loser gets the HTML page for an answered request, never a bare API error.
    assert {a.status_code for a in losers} == {410}
    assert all(a.headers["Content-Type"].startswith("text/html") for a in losers)
    assert all("already been answered" in a.text for a in losers)
    minted = live.state.provider_state("tokenos")["tokens"]
    assert len(minted) == (1 if "tokenId=" in winners[0].headers["Location"] else 0)


@pytest.mark.slow
def test_races_hold_on_the_sqlite_store(tmp_path: Path) -> None:
    app = create_app({"state_path": tmp_path})
    try:
        with LiveServer(app) as server:
            member = TokenClient(server.url_for("tokenos")).create_member()
            stored = member.store_token_request(transfer_payload("5"), PAYER)
            with ThreadPoolExecutor(max_workers=50) as pool:
                answers = list(pool.map(lambda _: consent(server, stored["id"]), range(50)))
            assert [a.status_code for a in answers].count(302) == 1
            location = next(a for a in answers if a.status_code == 302).headers["Location"]
            token = member.get_token(parse_qs(urlsplit(location).query)["tokenId"][0])

            def redeem(index: int) -> int:
                try:
                    member.redeem_token(token, "1", ref_id=f"sqlite-{index}")
                except TokenError as error:
                    return error.status
                return 200

            with ThreadPoolExecutor(max_workers=50) as pool:
                statuses = list(pool.map(redeem, range(50)))
            assert statuses.count(200) == 5
            assert all(s < 500 for s in statuses)
            assert len(server.state.provider_state("tokenos")["transfers"]) == 5
    finally:
        app.extensions["mockbank"].close()


def test_seed_redeem_path_creates_a_transfer_too(merchant: Member, live: LiveServer) -> None:
    token = mint(live, merchant, transfer_payload("10"))
    payload = {
        "refId": "seed-path",
        "tokenId": token["id"],
        "amount": {"value": "2.50", "currency": "EUR"},
    }
    key = merchant.keys["LOW"]
    body = {
        "payload": payload,
        "payloadSignature": {
            "memberId": merchant.member_id,
            "keyId": key.id,
            "signature": key.sign_json(payload),
        },
    }
    transfer = merchant.call("PUT", f"/tokens/{token['id']}/redeem", body)["transfer"]
    assert transfer["status"] == "PROCESSING"
    with pytest.raises(TokenError) as mismatch:
        merchant.call("PUT", "/tokens/tt:other/redeem", {**body, "payload": {**payload}})
    assert mismatch.value.code == "INVALID_ARGUMENT"
    assert len(transfers(live)) == 1
