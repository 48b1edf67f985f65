"""The whole QuickWeb journey in headless Chromium, from the merchant's handoff form to the
signed passback and the server-to-server notification (the issue's centrepiece)."""

from __future__ import annotations

import base64
import json
import logging
import re
from html import escape
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests

from mockbank.clients.quickstream import verify_passback
from mockbank.pytest_plugin import Mockbank
from tests.quickstream.helpers import PAN_VISA, Receiver, fill_card, token_params

pytestmark = pytest.mark.browser

PAN_DECLINED = "4000000000000796"  # ends in 96: Not sufficient funds


def _handoff_form(mockbank: Mockbank, receiver: Receiver) -> str:
    """The merchant's server requests a token; its page hands off like the seed's example."""
    response = requests.post(
        mockbank.url("quickstream", "/CommunityTokenRequestServlet"),
        data=token_params(
            returnUrl=receiver.url + "/thanks",
            cancelUrl=receiver.url + "/cancelled",
            serverReturnUrl=receiver.url + "/notify",
            customPayeeName="Acme Plumbing Pty Ltd",
        ),
        headers={"Accept": "text/plain"},
        timeout=10,
    )
    assert response.status_code == 200
    token = response.text.removeprefix("token=")
    action = mockbank.url("quickstream", "/OnlinePaymentServlet3")
    return f"""<!doctype html><title>Merchant summary</title>
<form action="{escape(action)}" method="POST">
<input type="hidden" name="token" value="{escape(token)}"/>
<input type="hidden" name="communityCode" value="COMMUNITY1"/>
<input type="submit" id="make-payment" value="Make Payment"/>
</form>"""


def _assert_no_full_pan(mockbank: Mockbank, caplog: pytest.LogCaptureFixture, pan: str) -> None:
    journal = json.dumps([e.as_dict() for e in mockbank.state.journal.entries()])
    assert mockbank.state.journal.entries(provider="quickstream")
    assert pan not in journal
    # The pay view journals the form as a masked note instead of the raw body.
    forms = [e.notes["form"] for e in mockbank.state.journal.entries(endpoint="pay")]
    assert {f["cardNumber"] for f in forms} >= {pan[:6] + "..." + pan[-3:]}
    assert {f["cvn"] for f in forms} == {"***"}
    outbox = json.dumps([m.as_dict() for m in mockbank.state.outbox.messages()])
    assert pan not in outbox
    assert pan not in caplog.text


@pytest.mark.slow
def test_browser_journey_pays_and_passes_back_a_signed_result(
    mockbank: Mockbank,
    receiver: Receiver,
    page: Any,
    artifacts: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    page.set_content(_handoff_form(mockbank, receiver))
    page.click("#make-payment")
    page.wait_for_selector("#payment-form")
    assert "Payment details" in page.title()
    assert page.inner_text("#principal") == "100.00"
    assert page.inner_text("#payment-reference") == "INV-1001"
    assert "Acme Plumbing Pty Ltd" in page.inner_text("#summary")

    fill_card(page, PAN_VISA)
    # The surcharge appears once the scheme is known (VISA 1.00% of 100.00).
    assert page.inner_text("#card-scheme") == "VISA"
    assert page.inner_text("#surcharge") == "VISA 1.00% = 1.00"
    assert page.inner_text("#total") == "101.00"
    page.screenshot(path=str(artifacts / "quickstream_payment_page.png"), full_page=True)

    # A mistyped number is caught inline and the session stays usable.
    page.fill("#cardNumber", "4242424242424241")
    page.click("#pay-button")
    page.wait_for_selector("#error-cardNumber")
    assert "check digit" in page.inner_text("#error-cardNumber")
    page.screenshot(path=str(artifacts / "quickstream_payment_errors.png"), full_page=True)
    fill_card(page, PAN_VISA)
    page.click("#pay-button")

    page.wait_for_selector("#receipt")
    receipt_number = page.inner_text("#receipt-number")
    assert receipt_number.isdigit()
    assert page.inner_text("#outcome") == "Payment successful"
    assert page.inner_text("#receipt-total") == "AUD 101.00"
    page.screenshot(path=str(artifacts / "quickstream_receipt.png"), full_page=True)

    page.click("#return-button")  # auto-submitted POST passback to the merchant
    page.wait_for_selector("#merchant")
    [passback] = receiver.on("/thanks")
    assert passback.method == "POST"
    fields = passback.form
    assert fields["receiptNumber"] == receipt_number
    assert fields["summaryCode"] == "0"
    assert fields["responseCode"] == "08"
    assert fields["maskedCardNumber"] == "424242...242"
    assert verify_passback(fields, "passback-secret")
    assert not verify_passback({**fields, "paymentAmount": "1.01"}, "passback-secret")

    assert mockbank.state.outbox.wait_idle()
    receiver.wait_for(2)
    [notification] = receiver.on("/notify")
    assert notification.headers["Authorization"] == (
        "Basic " + base64.b64encode(b"notify:notify-secret").decode()
    )
    sent = notification.form
    assert sent["receiptNumber"] == receipt_number
    assert sent["successFlag"] == "true"
    assert sent["paymentAmount"] == "101.00"
    assert sent["customPayeeName"] == "Acme Plumbing Pty Ltd"
    for name in ("sourceCode", "settlementDate", "createdDateTime", "responseDescription"):
        assert sent[name]

    _assert_no_full_pan(mockbank, caplog, PAN_VISA)


@pytest.mark.slow
def test_browser_declined_card_96_passes_back_summary_code_1_response_51(
    mockbank: Mockbank,
    receiver: Receiver,
    page: Any,
    artifacts: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    page.set_content(_handoff_form(mockbank, receiver))
    page.click("#make-payment")
    page.wait_for_selector("#payment-form")
    fill_card(page, PAN_DECLINED)
    page.click("#pay-button")
    page.wait_for_selector("#receipt")
    assert "Not sufficient funds" in page.inner_text("#outcome")
    page.screenshot(path=str(artifacts / "quickstream_receipt_declined.png"), full_page=True)
    page.click("#return-button")
    page.wait_for_selector("#merchant")
    [passback] = receiver.on("/thanks")
    assert passback.form["summaryCode"] == "1"
    assert passback.form["responseCode"] == "51"
    assert verify_passback(passback.form, "passback-secret")
    mockbank.state.outbox.wait_idle()
    receiver.wait_for(2)
    [notification] = receiver.on("/notify")
    assert notification.form["summaryCode"] == "1"
    assert notification.form["responseCode"] == "51"
    _assert_no_full_pan(mockbank, caplog, PAN_DECLINED)


def test_browser_cancel_returns_to_the_cancel_url(
    mockbank: Mockbank, receiver: Receiver, page: Any
) -> None:
    page.set_content(_handoff_form(mockbank, receiver))
    page.click("#make-payment")
    page.wait_for_selector("#payment-form")
    page.click("#cancel-button")
    page.wait_for_selector("#merchant")
    assert [r.method for r in receiver.on("/cancelled")] == ["GET"]
    assert receiver.on("/notify") == []


@pytest.mark.slow
def test_browser_payer_types_the_amount_and_pays_by_bank_account(
    mockbank: Mockbank, receiver: Receiver, page: Any, artifacts: Path
) -> None:
    token = requests.post(
        mockbank.url("quickstream", "/CommunityTokenRequestServlet"),
        data=token_params(principalAmount=None, serverReturnUrl=receiver.url + "/notify"),
        timeout=10,
    ).text.removeprefix("token=")
    page.goto(
        mockbank.url("quickstream", "/OnlinePaymentServlet3")
        + f"?token={token}&communityCode=COMMUNITY1"
    )
    page.fill("#amount", "$250.50")  # a person may type the dollar sign
    page.fill("#cardNumber", "378282246310005")
    assert page.inner_text("#surcharge") == "AMEX 2.50% = 6.26"
    assert page.inner_text("#total") == "256.76"
    page.check("#method-bank")
    assert page.is_hidden("#card-fields")
    assert page.inner_text("#surcharge") == "None for bank account payments"
    assert page.inner_text("#total") == "250.50"
    page.fill("#accountName", "J Citizen")
    page.fill("#bsb", "03200")
    page.fill("#accountNumber", "12345678")
    page.click("#pay-button")
    page.wait_for_selector("#error-bsb")
    assert page.is_visible("#bank-fields")  # the chosen method survives the error
    page.fill("#bsb", "032-000")
    page.screenshot(path=str(artifacts / "quickstream_bank_account.png"), full_page=True)
    page.click("#pay-button")
    page.wait_for_selector("#receipt")
    assert page.inner_text("#receipt-account") == "032-000 *****678"
    assert page.inner_text("#receipt-total") == "AUD 250.50"
    mockbank.state.outbox.wait_idle()
    [notification] = receiver.wait_for(1)
    assert notification.form["bsb"] == "032-000"
    assert notification.form["principalAmount"] == "250.50"


@pytest.mark.slow
def test_browser_keyboard_only_payer_is_led_to_the_first_error_and_pays(
    mockbank: Mockbank, receiver: Receiver, page: Any
) -> None:
    page.set_content(_handoff_form(mockbank, receiver))
    page.click("#make-payment")
    page.wait_for_selector("#payment-form")
    # Tab order follows the form: payment method, then the card fields.
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "method-card"
    page.keyboard.press("Tab")
    page.keyboard.type("Jane Citizen")
    page.keyboard.press("Tab")
    page.keyboard.type("4242 4242 4242 4242")
    page.keyboard.press("Tab")
    page.keyboard.type("12")
    page.keyboard.press("Tab")
    page.keyboard.type("2030")
    page.keyboard.press("Tab")
    page.keyboard.type("12")  # one digit short
    with page.expect_navigation():
        page.keyboard.press("Enter")
    # The page comes back with the error announced, the CVN described by its message, and the
    # focus on the card number: it is never echoed back, so it is the first thing to retype.
    assert page.get_attribute("#form-errors", "role") == "alert"
    assert page.get_attribute("#cvn", "aria-describedby") == "error-cvn"
    assert page.evaluate("document.activeElement.id") == "cardNumber"
    assert page.input_value("#cardholderName") == "Jane Citizen"
    page.keyboard.type("4242424242424242")
    for _ in range(3):  # expiry month and year were kept
        page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "cvn"
    page.keyboard.type("123")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    page.wait_for_selector("#receipt")
    assert page.inner_text("#outcome") == "Payment successful"


@pytest.mark.slow
def test_browser_back_from_the_receipt_after_an_inline_error_shows_the_receipt_again(
    mockbank: Mockbank, receiver: Receiver, page: Any
) -> None:
    page.set_content(_handoff_form(mockbank, receiver))
    page.click("#make-payment")
    page.wait_for_selector("#payment-form")
    fill_card(page, PAN_VISA)
    page.fill("#cvn", "1")
    with page.expect_navigation():
        page.click("#pay-button")
    # The error page answered a POST, but its history entry carries the page's own address.
    assert re.fullmatch(r"/quickstream/quickweb/[\w-]+", urlsplit(page.url).path)
    assert page.is_enabled("#pay-button")
    fill_card(page, PAN_VISA)
    with page.expect_navigation():
        page.click("#pay-button")
    receipt_url = page.url
    assert receipt_url.endswith("/receipt")
    # Back used to hit the POSTed error page (Chromium: ERR_CACHE_MISS, "Confirm Form
    # Resubmission"); now it reloads the payment page, which shows the receipt again.
    page.go_back()
    assert page.url == receipt_url
    assert page.is_visible("#receipt")
    assert len(mockbank.state.store.records("quickstream.payment")) == 1


@pytest.mark.slow
def test_browser_without_javascript_can_still_pay_by_bank_account(
    mockbank: Mockbank, receiver: Receiver, chromium: Any
) -> None:
    context = chromium.new_context(java_script_enabled=False)
    try:
        page = context.new_page()
        page.set_content(_handoff_form(mockbank, receiver))
        with page.expect_navigation():
            page.click("#make-payment")
        # Both forms are shown; the radio decides which one is used.
        assert page.is_visible("#card-fields")
        assert page.is_visible("#bank-fields")
        page.check("#method-bank")
        page.fill("#accountName", "J Citizen")
        page.fill("#bsb", "032-000")
        page.fill("#accountNumber", "12345678")
        with page.expect_navigation():
            page.click("#pay-button")
        assert page.is_visible("#receipt")
        assert page.inner_text("#receipt-account") == "032-000 *****678"
    finally:
        context.close()


@pytest.mark.slow
def test_browser_with_javascript_shows_only_the_chosen_payment_form(
    mockbank: Mockbank, receiver: Receiver, page: Any
) -> None:
    page.set_content(_handoff_form(mockbank, receiver))
    page.click("#make-payment")
    page.wait_for_selector("#payment-form")
    # payment.js is an external script (no inline script under the CSP): wait until it ran.
    page.wait_for_load_state("load")
    page.wait_for_selector("#bank-fields", state="hidden", timeout=10_000)
    assert page.is_visible("#card-fields")
    assert page.is_hidden("#bank-fields")
