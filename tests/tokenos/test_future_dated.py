"""Future-dated transfers: ``executionDate`` keeps a redeemed transfer PROCESSING, and the
account untouched, until the app clock reaches 00:00 UTC on that date."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import requests

from mockbank.clients.tokenos import Member, TokenError
from mockbank.testing import LiveServer
from tests.tokenos.helpers import PAYER, access_payload, mint, transfer_payload
from tests.tokenos.webhook_receiver import WebhookReceiver


def test_a_future_dated_transfer_executes_on_its_date(
    live: LiveServer, merchant: Member, webhook_receiver: WebhookReceiver
) -> None:
    clock = live.state.clock
    clock.freeze(datetime(2030, 3, 10, 15, 0, 0, tzinfo=UTC))
    merchant.set_webhook_config(webhook_receiver.url, ["TRANSFER_STATUS_CHANGED"])
    token = mint(
        live,
        merchant,
        transfer_payload(
            "40.00",
            transferBody={
                "currency": "EUR",
                "lifetimeAmount": "40.00",
                "executionDate": "2030-03-12",
            },
        ),
    )
    assert token["payload"]["transfer"]["executionDate"] == "2030-03-12"
    access = mint(live, merchant, access_payload(["ACCOUNTS", "BALANCES"]))

    def balance() -> str:
        answer = merchant.call(
            "GET",
            "/accounts/a:iron-checking/balance",
            on_behalf_of=access["id"],
            customer_initiated=True,
        )
        return str(answer["balance"]["current"]["value"])

    before = balance()
    transfer = merchant.redeem_token(token)
    assert transfer["status"] == "PROCESSING"
    clock.advance(86400)  # 2030-03-11 15:00
    assert merchant.get_transfer(transfer["id"])["status"] == "PROCESSING"
    assert balance() == before
    assert live.state.outbox.wait_idle()
    assert [d.event["status"] for d in webhook_receiver.deliveries] == ["PROCESSING"]
    clock.freeze(datetime(2030, 3, 11, 23, 59, 59, tzinfo=UTC))
    assert merchant.get_transfer(transfer["id"])["status"] == "PROCESSING"
    clock.freeze(datetime(2030, 3, 12, 0, 0, 0, tzinfo=UTC))
    assert merchant.get_transfer(transfer["id"])["status"] == "SUCCESS"
    assert float(balance()) == pytest.approx(float(before) - 40)
    delivered = webhook_receiver.wait_for(2)
    assert [d.event["status"] for d in delivered] == ["PROCESSING", "SUCCESS"]


def test_a_transfer_dated_today_executes_as_usual(live: LiveServer, merchant: Member) -> None:
    live.state.clock.freeze()
    today = datetime.fromtimestamp(live.state.clock.snapshot()["epoch"], tz=UTC).date()
    body = {"currency": "EUR", "lifetimeAmount": "5.00", "executionDate": today.isoformat()}
    transfer = merchant.redeem_token(mint(live, merchant, transfer_payload(transferBody=body)))
    live.state.clock.advance(6)
    assert merchant.get_transfer(transfer["id"])["status"] == "SUCCESS"


@pytest.mark.parametrize("date", ["2001-01-01", "2030-02-30", "tomorrow"])
def test_a_past_or_malformed_execution_date_is_refused(
    live: LiveServer, merchant: Member, date: str
) -> None:
    live.state.clock.freeze(datetime(2030, 1, 1, 0, 0, 0, tzinfo=UTC))
    body = {"currency": "EUR", "lifetimeAmount": "5.00", "executionDate": date}
    with pytest.raises(TokenError) as failure:
        merchant.store_token_request(transfer_payload(transferBody=body), PAYER)
    assert failure.value.status == 400
    assert "executionDate" in failure.value.message


def test_the_consent_page_shows_the_execution_date(live: LiveServer, merchant: Member) -> None:
    date = (live.state.now() + timedelta(days=3)).date().isoformat()
    body = {"currency": "EUR", "lifetimeAmount": "5.00", "executionDate": date}
    stored = merchant.store_token_request(transfer_payload(transferBody=body), PAYER)
    page = merchant.client.base_url + f"/app/request-token/{stored['id']}"
    assert f"executed on {date}" in requests.get(page, timeout=5).text
