"""TokenOS webhooks: /webhook/config, and signed status-change deliveries through the outbox."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import requests

from mockbank.clients.tokenos import Member, TokenClient, verify_webhook
from mockbank.providers.tokenos import events
from mockbank.testing import LiveServer
from tests.tokenos.helpers import mint, transfer_payload
from tests.tokenos.webhook_receiver import WebhookReceiver

TPP = ("m:2fH1YspCejjhxqSss5hvLGMfb2Gm:5zKtXEAq", "sandbox-api-key")
CONFIG = {"config": {"type": ["TRANSFER_STATUS_CHANGED"], "url": "http://127.0.0.1:9/hook"}}


def _config_url(live: LiveServer) -> str:
    return live.url_for("tokenos", "/webhook/config")


def test_webhook_config_can_be_set_read_and_deleted_with_an_api_key(live: LiveServer) -> None:
    url = _config_url(live)
    assert requests.get(url, auth=TPP, timeout=5).status_code == 404
    answer = requests.put(url, json=CONFIG, auth=TPP, timeout=5)
    assert answer.status_code == 200, answer.text
    assert answer.json() == {}
    assert requests.get(url, auth=TPP, timeout=5).json() == CONFIG
    assert requests.delete(url, auth=TPP, timeout=5).json() == {}
    assert requests.get(url, auth=TPP, timeout=5).status_code == 404
    assert requests.delete(url, auth=TPP, timeout=5).status_code == 404


def test_a_bare_host_webhook_url_means_https(live: LiveServer) -> None:
    url = _config_url(live)
    body = {"config": {"type": ["PAYMENT_STATUS_CHANGED"], "url": "your-webhook-url.com"}}
    assert requests.put(url, json=body, auth=TPP, timeout=5).status_code == 200
    stored = requests.get(url, auth=TPP, timeout=5).json()["config"]
    assert stored == {"type": ["PAYMENT_STATUS_CHANGED"], "url": "https://your-webhook-url.com"}


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({}, "config is required"),
        ({"config": {"type": ["TRANSFER_STATUS_CHANGED"]}}, "config.url is required"),
        ({"config": {"type": [], "url": "http://127.0.0.1/h"}}, "non-empty list"),
        ({"config": {"type": ["INVALID"], "url": "http://127.0.0.1/h"}}, "not an event type"),
        ({"config": {"type": "PAYMENT_STATUS_CHANGED", "url": "x.com"}}, "non-empty list"),
        ({"config": {"type": ["PAYMENT_STATUS_CHANGED"], "url": "ftp://x.com/"}}, "http or https"),
        ({"config": {"type": ["PAYMENT_STATUS_CHANGED"], "url": "http://x:99999/"}}, "port"),
        ({"config": {"type": ["PAYMENT_STATUS_CHANGED"], "url": 7}}, "config.url"),
    ],
    ids=["no-config", "no-url", "no-types", "invalid-type", "type-not-list", "ftp", "port", "num"],
)
def test_a_bad_webhook_config_is_refused_and_changes_nothing(
    live: LiveServer, body: dict[str, Any], message: str
) -> None:
    url = _config_url(live)
    requests.put(url, json=CONFIG, auth=TPP, timeout=5)
    answer = requests.put(url, json=body, auth=TPP, timeout=5)
    assert answer.status_code == 400
    assert answer.headers["token-error"] == "INVALID_ARGUMENT"
    assert message in answer.text
    assert requests.get(url, auth=TPP, timeout=5).json() == CONFIG


def test_webhook_config_needs_authentication(live: LiveServer) -> None:
    answer = requests.put(_config_url(live), json=CONFIG, timeout=5)
    assert answer.status_code == 401
    assert requests.get(_config_url(live), auth=(TPP[0], "wrong"), timeout=5).status_code == 401


def test_configs_are_per_member(live: LiveServer, merchant: Member) -> None:
    requests.put(_config_url(live), json=CONFIG, auth=TPP, timeout=5)
    with pytest.raises(Exception, match="404"):
        merchant.get_webhook_config()
    merchant.set_webhook_config("http://127.0.0.1:9/mine", ["PAYMENT_STATUS_CHANGED"])
    assert merchant.get_webhook_config()["url"] == "http://127.0.0.1:9/mine"
    assert requests.get(_config_url(live), auth=TPP, timeout=5).json() == CONFIG


def test_each_transfer_status_change_is_delivered_once_and_signed(
    live: LiveServer,
    merchant: Member,
    token_client: TokenClient,
    webhook_receiver: WebhookReceiver,
) -> None:
    live.state.clock.freeze()
    merchant.set_webhook_config(webhook_receiver.url, ["TRANSFER_STATUS_CHANGED"])
    token = mint(live, merchant, transfer_payload("10.00"))
    transfer = merchant.redeem_token(token, "4.00", ref_id="order-1-a")
    # The same refId again is the same transfer: no second notification.
    assert merchant.redeem_token(token, "4.00", ref_id="order-1-a")["id"] == transfer["id"]
    first = webhook_receiver.wait_for(1)[0]
    assert first.path == "/hooks/token"
    assert first.headers["token-event"] == "TRANSFER_STATUS_CHANGED"
    assert first.event["eventType"] == "TRANSFER_STATUS_CHANGED"
    assert first.event["transferId"] == transfer["id"]
    assert first.event["refId"] == "order-1-a"
    assert first.event["status"] == "PROCESSING"
    assert token_client.verify_webhook(first.body, first.headers)["status"] == "PROCESSING"

    live.state.clock.advance(4)
    assert live.state.outbox.wait_idle()
    assert len(webhook_receiver.deliveries) == 1  # not settled yet
    live.state.clock.advance(2)
    second = webhook_receiver.wait_for(2)[1]
    assert second.event["status"] == "SUCCESS"
    assert merchant.get_transfer(transfer["id"])["status"] == "SUCCESS"
    assert token_client.verify_webhook(second.body, second.headers)["transferId"] == transfer["id"]
    live.state.clock.advance(3600)
    assert live.state.outbox.wait_idle()
    assert len(webhook_receiver.deliveries) == 2


def test_a_tampered_or_foreign_signature_does_not_verify(
    live: LiveServer,
    merchant: Member,
    token_client: TokenClient,
    webhook_receiver: WebhookReceiver,
) -> None:
    merchant.set_webhook_config(webhook_receiver.url, ["TRANSFER_STATUS_CHANGED"])
    merchant.redeem_token(mint(live, merchant, transfer_payload("10.00")), "1.00")
    delivery = webhook_receiver.wait_for(1)[0]
    keys = token_client.get_token_member()["keys"]
    signature = delivery.headers["token-signature"]
    assert verify_webhook(delivery.body, signature, keys)
    assert not verify_webhook(delivery.body.replace(b"PROCESSING", b"SUCCESS"), signature, keys)
    assert not verify_webhook(
        delivery.body,
        signature,
        merchant.client.call("GET", f"/members/{merchant.member_id}")["member"]["keys"],
    )
    assert not verify_webhook(delivery.body, "not-base64!", keys)
    assert not verify_webhook(delivery.body, None, keys)
    with pytest.raises(ValueError, match="does not verify"):
        token_client.verify_webhook(delivery.body + b" ", delivery.headers)


def test_magic_amount_failures_are_notified_with_their_status(
    live: LiveServer, merchant: Member, webhook_receiver: WebhookReceiver
) -> None:
    live.state.clock.freeze()
    merchant.set_webhook_config(webhook_receiver.url, ["TRANSFER_STATUS_CHANGED"])
    token = mint(live, merchant, transfer_payload("500.00"))
    merchant.redeem_token(token, "103")
    merchant.redeem_token(token, "105")  # stays PROCESSING: one notification only
    live.state.clock.advance(6)
    deliveries = webhook_receiver.wait_for(3)
    assert live.state.outbox.wait_idle()
    statuses = sorted(d.event["status"] for d in webhook_receiver.deliveries)
    assert statuses == ["FAILURE_DECLINED", "PROCESSING", "PROCESSING"]
    assert len(deliveries) == 3


def test_unsubscribed_event_types_and_deleted_configs_send_nothing(
    live: LiveServer, merchant: Member, webhook_receiver: WebhookReceiver
) -> None:
    merchant.set_webhook_config(webhook_receiver.url, ["PAYMENT_STATUS_CHANGED"])
    token = mint(live, merchant, transfer_payload("10.00"))
    merchant.redeem_token(token, "1.00")
    merchant.delete_webhook_config()
    merchant.redeem_token(token, "2.00")
    live.state.clock.advance(10)
    assert live.state.outbox.wait_idle()
    assert webhook_receiver.deliveries == []
    assert live.state.outbox.messages("tokenos") == []


def test_a_failing_receiver_gets_retries_on_the_app_clock(
    live: LiveServer, merchant: Member, webhook_receiver: WebhookReceiver
) -> None:
    live.state.clock.freeze()
    webhook_receiver.fail_next = 2
    merchant.set_webhook_config(webhook_receiver.url, ["TRANSFER_STATUS_CHANGED"])
    # 105 stays PROCESSING: one event, so every attempt below is of the same message.
    merchant.redeem_token(mint(live, merchant, transfer_payload("500.00")), "105")
    assert live.state.outbox.wait_idle()
    assert webhook_receiver.answers() == [500]
    live.state.clock.advance(9)
    assert live.state.outbox.wait_idle()
    assert webhook_receiver.answers() == [500]
    live.state.clock.advance(1)  # 10 s: the first retry
    assert live.state.outbox.wait_idle()
    assert webhook_receiver.answers() == [500, 500]
    live.state.clock.advance(50)  # 60 s: the second retry succeeds
    (delivered,) = webhook_receiver.wait_for(1)
    assert delivered.event["status"] == "PROCESSING"
    assert live.state.outbox.wait_idle()
    outbox = requests.get(live.url + "/_mockbank/outbox?provider=tokenos", timeout=5).json()
    (message,) = outbox["messages"]
    assert message["status"] == "delivered"
    assert [a.get("status") for a in message["attempts"]] == [500, 500, 200]
    assert message["headers"]["token-event"] == "TRANSFER_STATUS_CHANGED"
    assert message["url"] == webhook_receiver.url


def test_a_receiver_that_never_answers_2xx_is_given_up_after_five_attempts(
    live: LiveServer, merchant: Member, webhook_receiver: WebhookReceiver
) -> None:
    live.state.clock.freeze()
    webhook_receiver.fail_next = 100
    merchant.set_webhook_config(webhook_receiver.url, ["TRANSFER_STATUS_CHANGED"])
    merchant.redeem_token(mint(live, merchant, transfer_payload("500.00")), "105")
    for delay in events.RETRY_DELAYS:
        live.state.clock.advance(delay)
        assert live.state.outbox.wait_idle()
    (message,) = live.state.outbox.messages("tokenos")
    assert message.status == "failed"
    assert len(message.attempts) == len(events.RETRY_DELAYS) == 5
    assert webhook_receiver.answers() == [500] * 5


def test_publish_event_schedules_a_future_change_and_notifies_it_once(
    live: LiveServer, merchant: Member, token_client: TokenClient, webhook_receiver: WebhookReceiver
) -> None:
    """The call payments, refunds and VRP make on each status change."""
    state = live.state
    state.clock.freeze()
    merchant.set_webhook_config(webhook_receiver.url, ["PAYMENT_STATUS_CHANGED"])
    now = state.now()
    payment = {"payment": {"id": "pm2:abc", "status": "INITIATION_COMPLETED"}}
    later = now + timedelta(seconds=30)
    for _ in range(3):
        events.publish_event(
            state,
            merchant.member_id,
            "PAYMENT_STATUS_CHANGED",
            payment,
            now=now,
            at=later,
            dedupe_key="payment:pm2:abc:INITIATION_COMPLETED",
        )
    assert (
        events.publish_event(state, "m:nobody", "PAYMENT_STATUS_CHANGED", payment, now=now) is None
    )
    state.clock.advance(29)
    assert state.outbox.wait_idle()
    assert webhook_receiver.deliveries == []
    state.clock.advance(2)
    (delivery,) = webhook_receiver.wait_for(1)
    assert token_client.verify_webhook(delivery.body, delivery.headers) == {
        "eventType": "PAYMENT_STATUS_CHANGED",
        **payment,
    }
    assert len(state.outbox.messages("tokenos")) == 1
