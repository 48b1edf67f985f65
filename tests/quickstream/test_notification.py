"""Server-to-server notifications through the outbox: Basic auth, fields, retries, email."""

from __future__ import annotations

import base64

from flask.testing import FlaskClient

from mockbank.pytest_plugin import Mockbank
from mockbank.state import State
from tests.quickstream.helpers import Receiver, card_form, open_session

DOCUMENTED = [
    "sourceCode",
    "receiptNumber",
    "communityCode",
    "supplierBusinessCode",
    "paymentReference",
    "customerReferenceNumber",
    "paymentAmount",
    "surchargeAmount",
    "cardScheme",
    "settlementDate",
    "createdDateTime",
    "responseCode",
    "responseDescription",
    "summaryCode",
    "successFlag",
    "principalAmount",
    "cardholderName",
    "maskedCardNumber",
    "expiryDateMonth",
    "expiryDateYear",
]


def _pay(client: FlaskClient, number: str = "4242424242424242", **params: str | None) -> None:
    page, csrf = open_session(client, **params)
    assert client.post(page + "/pay", data=card_form(csrf, number)).status_code == 303


def _messages(state: State) -> list[dict[str, object]]:
    return [m.as_dict() for m in state.outbox.messages("quickstream")]


def test_notification_arrives_with_basic_auth_and_the_documented_fields(
    mockbank: Mockbank, receiver: Receiver
) -> None:
    client = mockbank.client()
    _pay(
        client,
        serverReturnUrl=receiver.url + "/notify",
        customPayeeName="Acme Pty Ltd",
        registerPaymentAccount="true",
    )
    assert mockbank.state.outbox.wait_idle()
    [request] = receiver.wait_for(1)
    assert request.method == "POST"
    assert request.path == "/notify"
    assert request.headers["Content-Type"] == "application/x-www-form-urlencoded"
    expected = "Basic " + base64.b64encode(b"notify:notify-secret").decode()
    assert request.headers["Authorization"] == expected
    form = request.form
    assert set(DOCUMENTED) <= set(form)
    assert form["sourceCode"] == "QUICKWEB"
    assert form["communityCode"] == "COMMUNITY1"
    assert form["supplierBusinessCode"] == "SUPPLIER1"
    assert form["principalAmount"] == "100.00"
    assert form["surchargeAmount"] == "1.00"
    assert form["paymentAmount"] == "101.00"
    assert form["successFlag"] == "true"
    assert form["summaryCode"] == "0"
    assert form["maskedCardNumber"] == "424242...242"
    assert form["customPayeeName"] == "Acme Pty Ltd"
    assert len(form["accountToken"]) == 20
    assert len(form["settlementDate"]) == 8
    assert "4242424242424242" not in request.body.decode()
    [message] = _messages(mockbank.state)
    assert message["status"] == "delivered"
    assert message["headers"]["Authorization"] == "***"  # type: ignore[index]


def test_declined_payment_is_notified_with_summary_code_1(
    mockbank: Mockbank, receiver: Receiver
) -> None:
    _pay(mockbank.client(), "4000000000000796", serverReturnUrl=receiver.url + "/notify")
    mockbank.state.outbox.wait_idle()
    [request] = receiver.wait_for(1)
    assert request.form["summaryCode"] == "1"
    assert request.form["responseCode"] == "51"
    assert request.form["successFlag"] == "false"


def test_failing_receiver_gets_three_attempts_on_the_clock_then_an_email(
    mockbank: Mockbank, receiver: Receiver
) -> None:
    state = mockbank.state
    state.clock.freeze()
    receiver.statuses = [500, 500, 500]
    _pay(
        mockbank.client(),
        serverReturnUrl=receiver.url + "/notify",
        errorEmailToAddress="ops@merchant.example",
    )
    assert state.outbox.wait_idle()
    assert len(receiver.requests) == 1
    state.clock.advance(9)
    assert state.outbox.wait_idle()
    assert len(receiver.requests) == 1  # not due before +10 s
    state.clock.advance(1)
    assert state.outbox.wait_idle()
    assert len(receiver.requests) == 2
    state.clock.advance(50)
    assert state.outbox.wait_idle()
    assert len(receiver.requests) == 3
    notification, email = _messages(state)
    assert notification["status"] == "failed"
    assert [a["status"] for a in notification["attempts"]] == [500, 500, 500]  # type: ignore[index, union-attr, attr-defined]
    assert email["kind"] == "email"
    assert email["to"] == "ops@merchant.example"
    assert "could not deliver" in str(email["body"])
    listed = mockbank.client().get("/_mockbank/outbox?provider=quickstream").get_json()
    assert listed["count"] == 2


def test_a_retry_that_succeeds_sends_no_email(mockbank: Mockbank, receiver: Receiver) -> None:
    state = mockbank.state
    state.clock.freeze()
    receiver.statuses = [503]
    _pay(mockbank.client(), serverReturnUrl=receiver.url + "/notify")
    state.outbox.wait_idle()
    state.clock.advance(10)
    state.outbox.wait_idle()
    [notification] = _messages(state)
    assert notification["status"] == "delivered"
    assert len(receiver.requests) == 2


def test_non_loopback_url_is_undeliverable_without_touching_the_network(
    mockbank: Mockbank,
) -> None:
    state = mockbank.state
    _pay(mockbank.client(), serverReturnUrl="https://yoursite.com.au/receiveRequest")
    assert state.outbox.wait_idle()
    notification, email = _messages(state)
    assert notification["status"] == "undeliverable"
    attempt = notification["attempts"][0]  # type: ignore[index]
    assert "--allow-outbound yoursite.com.au" in attempt["error"]
    # The facility's default address gets the email when the request named none.
    assert email["to"] == "quickstream-errors@merchant.example"


def test_notify_fault_fails_one_attempt_then_the_retry_delivers(
    mockbank: Mockbank, receiver: Receiver
) -> None:
    state = mockbank.state
    state.clock.freeze()
    state.add_fault({"provider": "quickstream", "endpoint": "notify", "status": 500})
    _pay(mockbank.client(), serverReturnUrl=receiver.url + "/notify")
    state.outbox.wait_idle()
    assert receiver.requests == []
    [notification] = _messages(state)
    assert notification["attempts"][0]["error"] == "injected fault: HTTP 500"  # type: ignore[index]
    state.clock.advance(10)
    state.outbox.wait_idle()
    assert len(receiver.wait_for(1)) == 1
    assert _messages(state)[0]["status"] == "delivered"


def test_no_server_return_url_sends_nothing(client: FlaskClient, state: State) -> None:
    _pay(client)
    assert state.outbox.messages("quickstream") == []


def test_receipt_email_is_recorded_for_the_payer(client: FlaskClient, state: State) -> None:
    _pay(client, receiptEmailAddress="payer@example.com")
    [email] = _messages(state)
    assert email["kind"] == "email"
    assert email["to"] == "payer@example.com"
    assert "Receipt number:" in str(email["body"])
    assert "424242...242" in str(email["body"])
    assert "Total: AUD 101.00" in str(email["body"])
