"""The outbox delivers off the request thread, retries on the app clock, and obeys the policy."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from mockbank.clock import Clock
from mockbank.outbound import OutboundPolicy
from mockbank.outbox import Email, Outbox
from tests.core.helpers import Receiver


@pytest.fixture
def outbox() -> Iterator[Outbox]:
    clock = Clock()
    clock.freeze()
    box = Outbox(clock, OutboundPolicy(upstreams={"merchant.example": "http://127.0.0.1:9"}))
    yield box
    box.close()


def test_delivers_once_when_the_receiver_accepts(outbox: Outbox) -> None:
    receiver = Receiver([200])
    try:
        message = outbox.send_http(
            "demo",
            f"{receiver.url}/notify",
            headers={"Content-Type": "application/x-www-form-urlencoded"},
            body=b"a=1&cardNumber=4111111111111111",
        )
        assert outbox.wait_idle(5)
        assert outbox.message(message.id).status == "delivered"
        assert receiver.calls[0][0] == "/notify"
        assert receiver.calls[0][2] == b"a=1&cardNumber=4111111111111111"
        listed = outbox.message(message.id).as_dict()
        assert "4111111111111111" not in listed["body"]
        assert listed["attempts"][0]["status"] == 200
    finally:
        receiver.close()


def test_retries_follow_the_app_clock_then_record_the_fallback_email(outbox: Outbox) -> None:
    receiver = Receiver([500, 500, 500])
    try:
        fallback = Email("errors@merchant.example", "Notification failed", "receipt 123")
        message = outbox.send_http("demo", receiver.url, body=b"x=1", fallback=fallback)
        assert outbox.wait_idle(5)
        assert len(outbox.message(message.id).attempts) == 1
        assert outbox.message(message.id).status == "pending"
        outbox.clock.advance(9)
        assert outbox.wait_idle(5)
        assert len(outbox.message(message.id).attempts) == 1  # not due before +10 s of clock
        outbox.clock.advance(1)
        assert outbox.wait_idle(5)
        assert len(outbox.message(message.id).attempts) == 2
        outbox.clock.advance(50)
        assert outbox.wait_idle(5)
        assert len(outbox.message(message.id).attempts) == 3
        assert outbox.message(message.id).status == "failed"
        emails = [m for m in outbox.messages() if m.kind == "email"]
        assert [e.email.to for e in emails if e.email] == ["errors@merchant.example"]
        assert len(receiver.calls) == 3
    finally:
        receiver.close()


def test_a_host_outside_the_policy_is_never_contacted(outbox: Outbox) -> None:
    message = outbox.send_http(
        "demo",
        "https://yoursite.com.au/receiveRequest",
        body=b"x",
        fallback=Email("errors@yoursite.com.au", "failed", "body"),
    )
    assert outbox.wait_idle(5)
    assert outbox.message(message.id).status == "undeliverable"
    assert len(outbox.message(message.id).attempts) == 1
    assert "--upstream yoursite.com.au=URL" in outbox.message(message.id).attempts[0]["error"]
    assert [m.kind for m in outbox.messages()] == ["http", "email"]


def test_a_mapped_host_is_delivered_to_its_mapping() -> None:
    receiver = Receiver([204])
    clock = Clock()
    box = Outbox(clock, OutboundPolicy(upstreams={"yoursite.com.au": receiver.url + "/hook"}))
    try:
        message = box.send_http("demo", "https://yoursite.com.au/receiveRequest?x=1", body=b"")
        assert box.wait_idle(5)
        assert box.message(message.id).status == "delivered"
        assert receiver.calls[0][0] == "/hook/receiveRequest?x=1"
    finally:
        box.close()
        receiver.close()


def test_fault_rules_fail_outbound_attempts_without_sending() -> None:
    import random

    from mockbank.faults import Faults

    receiver = Receiver([])
    clock = Clock()
    clock.freeze()
    faults = Faults(random.Random(1), {"demo"})
    faults.add({"provider": "demo", "endpoint": "notify", "status": 503})
    box = Outbox(clock, OutboundPolicy(), faults)
    try:
        message = box.send_http("demo", receiver.url, body=b"x=1", fault_endpoint="notify")
        assert box.wait_idle(5)
        assert box.message(message.id).attempts[0]["error"] == "injected fault: HTTP 503"
        assert receiver.calls == []  # the failed attempt never reached the network
        clock.advance(10)
        assert box.wait_idle(5)
        assert box.message(message.id).status == "delivered"
        assert len(receiver.calls) == 1
    finally:
        box.close()
        receiver.close()
