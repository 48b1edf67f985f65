"""Webhooks for payments v2, VRP consents, VRPs and refunds: every status change is delivered
once, signed, at its moment on the app clock, without anyone polling."""

from __future__ import annotations

from mockbank.clients.tokenos import TokenClient
from mockbank.testing import LiveServer
from tests.tokenos.helpers_v2 import (
    api,
    approved,
    callback_params,
    create,
    decide,
    sepa_initiation,
    url,
)
from tests.tokenos.webhook_receiver import WebhookReceiver

ALL = [
    "PAYMENT_STATUS_CHANGED",
    "VRP_STATUS_CHANGED",
    "VRP_CONSENT_STATUS_CHANGED",
    "REFUND_STATUS_CHANGED",
]


def subscribe(live: LiveServer, receiver: WebhookReceiver) -> None:
    answer = api(live).put(
        url(live, "/webhook/config"), json={"config": {"type": ALL, "url": receiver.url}}
    )
    assert answer.status_code == 200, answer.text


def statuses(receiver: WebhookReceiver, live: LiveServer, key: str, resource_id: str) -> list[str]:
    assert live.state.outbox.wait_idle()
    with receiver.lock:
        events = [d.event for d in receiver.deliveries]
    return [e[key]["status"] for e in events if e.get(key, {}).get("id") == resource_id]


def test_decoupled_payment_notifies_each_status_once_as_the_clock_moves(
    live: LiveServer, webhook_receiver: WebhookReceiver, token_client: TokenClient
) -> None:
    live.state.clock.freeze()
    subscribe(live, webhook_receiver)
    payment = create(live, sepa_initiation("301.00"))
    first = webhook_receiver.wait_for(2)
    assert first[0].headers["token-event"] == "PAYMENT_STATUS_CHANGED"
    event = token_client.verify_webhook(first[1].body, first[1].headers)
    assert event["payment"]["id"] == payment["id"]
    assert statuses(webhook_receiver, live, "payment", payment["id"]) == [
        "INITIATION_PENDING",
        "INITIATION_PENDING_DECOUPLED_AUTH",
    ]
    live.state.clock.advance(10)
    webhook_receiver.wait_for(3)
    live.state.clock.advance(4)
    webhook_receiver.wait_for(4)
    live.state.clock.advance(3600)
    assert statuses(webhook_receiver, live, "payment", payment["id"]) == [
        "INITIATION_PENDING",
        "INITIATION_PENDING_DECOUPLED_AUTH",
        "INITIATION_PROCESSING",
        "INITIATION_COMPLETED",
    ]
    # Reading the payment now publishes nothing new.
    api(live).get(url(live, f"/v2/payments/{payment['id']}"))
    assert len(statuses(webhook_receiver, live, "payment", payment["id"])) == 4


def test_redirect_payment_and_refund_notify_their_changes(
    live: LiveServer, webhook_receiver: WebhookReceiver
) -> None:
    live.state.clock.freeze()
    subscribe(live, webhook_receiver)
    payment = approved(live, sepa_initiation("40.00"))
    live.state.clock.advance(5)
    webhook_receiver.wait_for(5)
    assert statuses(webhook_receiver, live, "payment", payment["id"]) == [
        "INITIATION_PENDING",
        "INITIATION_PENDING_REDIRECT_AUTH",
        "INITIATION_PENDING_REDIRECT_AUTH_VERIFICATION",
        "INITIATION_PROCESSING",
        "INITIATION_COMPLETED",
    ]
    made = (
        api(live)
        .post(
            url(live, "/refunds"),
            json={
                "initiation": {
                    "refId": "refund-hook",
                    "amount": {"value": "10.00", "currency": "EUR"},
                    "originalPaymentId": payment["id"],
                    "localInstrument": "SEPA",
                    "description": "Partial refund",
                }
            },
        )
        .json()["refund"]
    )
    live.state.clock.advance(5)
    webhook_receiver.wait_for(8)
    assert statuses(webhook_receiver, live, "refund", made["id"]) == [
        "INITIATION_PENDING",
        "INITIATION_PROCESSING",
        "INITIATION_COMPLETED",
    ]


def test_vrp_consent_and_vrp_notify_their_changes(
    live: LiveServer, webhook_receiver: WebhookReceiver
) -> None:
    live.state.clock.freeze()
    subscribe(live, webhook_receiver)
    from tests.tokenos.helpers_v2 import consent_initiation, vrp

    consent = (
        api(live)
        .post(url(live, "/vrp-consents"), json={"initiation": consent_initiation()})
        .json()["vrpConsent"]
    )
    callback_params(decide(consent["authentication"]["redirectUrl"]))
    live.state.clock.advance(1)
    made = vrp(live, consent["id"], "20.00").json()["payment"]
    live.state.clock.advance(5)
    webhook_receiver.wait_for(7)
    assert statuses(webhook_receiver, live, "vrpConsent", consent["id"]) == [
        "PENDING",
        "PENDING_REDIRECT_AUTH",
        "PENDING_REDIRECT_AUTH_VERIFICATION",
        "AUTHORIZED",
    ]
    assert statuses(webhook_receiver, live, "vrp", made["id"]) == [
        "INITIATION_PENDING",
        "INITIATION_PROCESSING",
        "INITIATION_COMPLETED",
    ]


def test_an_abandoned_payment_is_notified_failed_by_the_next_call(
    live: LiveServer, webhook_receiver: WebhookReceiver
) -> None:
    live.state.clock.freeze()
    subscribe(live, webhook_receiver)
    abandoned = create(live, sepa_initiation())
    webhook_receiver.wait_for(2)
    live.state.clock.advance(15 * 60)
    # Any later call on these endpoints applies the timeout; nobody reads the payment itself.
    create(live, sepa_initiation())
    assert statuses(webhook_receiver, live, "payment", abandoned["id"]) == [
        "INITIATION_PENDING",
        "INITIATION_PENDING_REDIRECT_AUTH",
        "INITIATION_FAILED",
    ]
