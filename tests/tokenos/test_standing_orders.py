"""Standing orders: token requests, consent, redemption into a submission, the account's
standing orders and their webhooks (by the Python client and requests)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from mockbank.clients.tokenos import Member, TokenError, encode_callback_state
from mockbank.testing import LiveServer
from tests.tokenos.helpers import PAYER, access_payload, consent, mint
from tests.tokenos.webhook_receiver import WebhookReceiver

IBAN = "DE16700222000072880129"


def standing_order_payload(live: LiveServer, **body: Any) -> dict[str, Any]:
    today = live.state.now().date()
    return {
        "refId": "so-1",
        "to": {},
        "standingOrderBody": {
            "amount": "25.00",
            "currency": "EUR",
            "frequency": "MNTH",
            "startDate": today.isoformat(),
            "endDate": (today + timedelta(days=90)).isoformat(),
            "instructions": {
                "transferDestinations": [{"sepa": {"iban": "DE16700222000072880129"}}]
            },
            **body,
        },
        "description": "Gym membership",
        "redirectUrl": "https://tpp.example.com/callback",
        "callbackState": encode_callback_state("csrf-so"),
    }


def _token(live: LiveServer, merchant: Member) -> dict[str, Any]:
    stored = merchant.store_token_request(standing_order_payload(live), PAYER)
    page = consent(live, stored["id"], decision="")
    assert "standing order of 25.00 EUR (MNTH)" in page.text
    answer = consent(live, stored["id"])
    assert answer.status_code == 302, answer.text
    token_id = parse_qs(urlsplit(answer.headers["Location"]).query)["tokenId"][0]
    return merchant.get_token(token_id)


def test_a_standing_order_is_consented_redeemed_and_set_up_by_the_clock(
    live: LiveServer, merchant: Member, webhook_receiver: WebhookReceiver
) -> None:
    live.state.clock.freeze()
    merchant.set_webhook_config(webhook_receiver.url, ["STANDING_ORDER_STATUS_CHANGED"])
    token = _token(live, merchant)
    terms = token["payload"]["standingOrder"]
    assert terms["frequency"] == "MNTH"
    assert terms["instructions"]["source"]["account"]["token"]["accountId"] == "a:iron-checking"
    submission = merchant.call("POST", "/standing-order-submissions", {"tokenId": token["id"]})[
        "submission"
    ]
    assert submission["status"] == "PROCESSING"
    # Redeeming again answers the same submission: one standing order per token.
    again = merchant.call("POST", "/standing-order-submissions", {"tokenId": token["id"]})
    assert again["submission"]["id"] == submission["id"]
    live.state.clock.advance(6)
    fetched = merchant.call("GET", f"/standing-order-submissions/{submission['id']}")
    assert fetched["submission"]["status"] == "SUCCESS"
    listed = merchant.call("GET", "/standing-order-submissions?page.limit=10")
    assert [s["id"] for s in listed["submissions"]] == [submission["id"]]
    delivered = webhook_receiver.wait_for(2)
    assert [d.event["submission"]["status"] for d in delivered] == ["PROCESSING", "SUCCESS"]
    # The payer's account now lists it, seen through an access token.
    access = mint(live, merchant, access_payload(["ACCOUNTS", "STANDING_ORDERS"]))
    orders = merchant.call(
        "GET", "/accounts/a:iron-checking/standing-orders", on_behalf_of=access["id"]
    )["standingOrders"]
    assert [(o["status"], o["frequency"], o["tokenId"]) for o in orders] == [
        ("ACTIVE", "MNTH", token["id"])
    ]
    one = merchant.call(
        "GET",
        f"/accounts/a:iron-checking/standing-orders/{orders[0]['id']}",
        on_behalf_of=access["id"],
    )
    assert one["standingOrder"]["amount"] == {"value": "25.00", "currency": "EUR"}
    live.state.clock.advance(91 * 86400)
    access = mint(live, merchant, access_payload(["ACCOUNTS", "STANDING_ORDERS"]))
    orders = merchant.call(
        "GET", "/accounts/a:iron-checking/standing-orders", on_behalf_of=access["id"]
    )["standingOrders"]
    assert orders[0]["status"] == "INACTIVE"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"frequency": "HOURLY"}, "frequency"),
        ({"startDate": "2001-01-01"}, "in the past"),
        ({"startDate": "2999-02-30"}, "not a calendar date"),
        ({"endDate": "2000-01-01"}, "before"),
        ({"amount": "-5"}, "amount"),
        ({"currency": "euro"}, "currency"),
    ],
    ids=["frequency", "past-start", "bad-date", "end-before-start", "amount", "currency"],
)
def test_bad_standing_order_requests_are_refused(
    live: LiveServer, merchant: Member, body: dict[str, Any], message: str
) -> None:
    with pytest.raises(TokenError) as failure:
        merchant.store_token_request(standing_order_payload(live, **body), PAYER)
    assert failure.value.status == 400
    assert message in failure.value.message


def test_only_the_payee_redeems_a_live_standing_order_token(
    live: LiveServer, merchant: Member, token_client: Any
) -> None:
    token = _token(live, merchant)
    other = token_client.create_member({"type": "DOMAIN", "value": "other.example.com"})
    with pytest.raises(TokenError) as foreign:
        other.call("POST", "/standing-order-submissions", {"tokenId": token["id"]})
    assert foreign.value.status == 403
    merchant.cancel_token(token)
    with pytest.raises(TokenError) as cancelled:
        merchant.call("POST", "/standing-order-submissions", {"tokenId": token["id"]})
    assert cancelled.value.status == 400
    with pytest.raises(TokenError) as transfer:
        merchant.redeem_token(
            {
                **token,
                "payload": {
                    **token["payload"],
                    "transfer": {"lifetimeAmount": "1", "currency": "EUR"},
                },
            },
            "1.00",
            "EUR",
        )
    assert transfer.value.status == 400
    assert live.state.store.records("tokenos.so_submission") == []


def test_concurrent_redemptions_make_one_submission(live: LiveServer, merchant: Member) -> None:
    token = _token(live, merchant)

    def redeem(_: int) -> str:
        # JWT-signed: identical Ed25519-signed calls within a millisecond count as replays.
        body = {"tokenId": token["id"]}
        answer = merchant.call("POST", "/standing-order-submissions", body, jwt=True)
        return str(answer["submission"]["id"])

    with ThreadPoolExecutor(max_workers=20) as pool:
        ids = set(pool.map(redeem, range(20)))
    assert len(ids) == 1
    assert len(live.state.store.records("tokenos.so_submission")) == 1
