"""quickstream-api.js in headless Chromium: a merchant page written from Westpac's documented
snippet, served from another origin, with only the script URL pointing at mockbank."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from html import escape
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import pytest
import requests

from mockbank.pytest_plugin import Mockbank
from tests.quickstream.helpers import PUBLISHABLE_KEY, SECRET_KEY, payment

pytestmark = pytest.mark.browser

# Westpac's documented Trusted Frame snippet; the script URL is the only mockbank-specific line.
MERCHANT_PAGE = """<!doctype html>
<html><head><title>Checkout</title></head>
<body>
<h1>Pay Acme Plumbing $__AMOUNT__</h1>
<form id="payment-form" action="/pay" method="post">
  <div data-quickstream-api="__KIND__Container"></div>
  <input id="make-payment-submit" type="submit" value="Make payment" disabled="true"/>
</form>
<p id="status"></p>
<script src="__SCRIPT__"></script>
<script>
  var submit = document.getElementById("make-payment-submit");
  var note = document.getElementById("status");
  QuickstreamAPI.init({ publishableApiKey: "__KEY__" });
  var trustedFrame;
  var options = { config: { supplierBusinessCode: "SUPPLIER1" },
                  iframe: { width: "100%", height: "300px" } };
  QuickstreamAPI.__COLLECTION__.createTrustedFrame(options, function (errors, data) {
    if (errors) {
      submit.disabled = true;
      note.textContent = "frame error: " + errors.message;
    } else {
      trustedFrame = data.trustedFrame;
      submit.disabled = false;
      note.textContent = "frame ready";
    }
  });
  var form = document.getElementById("payment-form");
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    trustedFrame.submitForm(function (errors, data) {
      if (!errors) {
        QuickstreamAPI.__COLLECTION__.appendTokenToForm(form, data.singleUseToken.singleUseTokenId);
        form.submit();
      } else {
        var names = errors.errors.map(function (e) { return e.fieldName; });
        note.textContent = "token error: " + names.join(",");
      }
    });
  });
</script>
</body></html>"""


@dataclass
class Merchant:
    """The merchant's web server: the checkout page, and /pay charging the single-use token."""

    api: str
    kind: str = "creditCard"
    key: str = PUBLISHABLE_KEY
    url: str = ""
    paid: list[dict[str, Any]] = field(default_factory=list)

    def page(self) -> bytes:
        collection = "creditCards" if self.kind == "creditCard" else "bankAccounts"
        html = (
            MERCHANT_PAGE.replace("__SCRIPT__", escape(self.api + "/quickstream-api-1.0.min.js"))
            .replace("__KEY__", self.key)
            .replace("__KIND__", self.kind)
            .replace("__COLLECTION__", collection)
            .replace("__AMOUNT__", "120.00")
        )
        return html.encode()

    def pay(self, form: dict[str, str]) -> bytes:
        # The merchant's server never sees card details: only the single-use token.
        answer = requests.post(
            self.api + "/transactions",
            json=payment(120.00, singleUseTokenId=form["singleUseTokenId"]),
            auth=(SECRET_KEY, ""),
            headers={"Idempotency-Key": "checkout-" + form["singleUseTokenId"][:12]},
            timeout=10,
        )
        txn = answer.json()
        self.paid.append({"form": form, "status": answer.status_code, "transaction": txn})
        return (
            f"<h1 id='result'>{escape(txn.get('status', 'error'))}</h1>"
            f"<p id='receipt'>{escape(str(txn.get('receiptNumber')))}</p>"
        ).encode()


def _serve(merchant: Merchant, host: str = "127.0.0.1") -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self._send(merchant.page())

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            form = dict(parse_qsl(self.rfile.read(length).decode()))
            self._send(merchant.pay(form))

        def _send(self, body: bytes) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer((host, 0), Handler)
    server.daemon_threads = True
    merchant.url = f"http://{host}:{server.server_port}"
    threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    ).start()
    return server


@pytest.fixture
def merchant(mockbank: Mockbank) -> Iterator[Merchant]:
    shop = Merchant(api=mockbank.url("quickstream", "/rest/v1"))
    server = _serve(shop)
    yield shop
    server.shutdown()
    server.server_close()


def _frame(page: Any) -> Any:
    return page.frame_locator("iframe[data-quickstream-frame]")


@pytest.mark.slow
def test_trusted_frame_makes_a_single_use_token_and_the_server_pays_with_it(
    mockbank: Mockbank, merchant: Merchant, page: Any, artifacts: Path
) -> None:
    messages: list[str] = []
    page.on("console", lambda m: messages.append(m.text))
    page.goto(merchant.url + "/")
    page.wait_for_selector("#make-payment-submit:not([disabled])", timeout=15000)
    frame = _frame(page)
    frame.locator("#cardholderName").fill("Jane Citizen")
    frame.locator("#cardNumber").fill("4242 4242 4242 4242")
    frame.locator("#expiryDateMonth").select_option("12")
    frame.locator("#expiryDateYear").select_option(str(int(mockbank.clock.now().year) + 3))
    frame.locator("#cvn").fill("123")
    page.screenshot(path=str(artifacts / "quickstream-trusted-frame-filled.png"))
    page.click("#make-payment-submit")
    page.wait_for_selector("#result", timeout=15000)
    page.screenshot(path=str(artifacts / "quickstream-trusted-frame-paid.png"))
    assert page.inner_text("#result") == "Approved"
    [paid] = merchant.paid
    assert paid["status"] == 201
    assert set(paid["form"]) == {"singleUseTokenId"}  # no card field reached the merchant
    txn = paid["transaction"]
    assert txn["creditCard"]["cardNumber"] == "424242...242"
    assert page.inner_text("#receipt") == txn["receiptNumber"]
    view = mockbank.state.provider_state("quickstream")
    assert [t["receiptNumber"] for t in view["restTransactions"]] == [txn["receiptNumber"]]
    assert [t["status"] for t in view["restSingleUseTokens"]] == ["used"]
    journal = str([e.as_dict() for e in mockbank.state.journal.entries()])
    assert "4242424242424242" not in journal
    assert not [m for m in messages if "Content Security Policy" in m]


@pytest.mark.slow
def test_invalid_card_details_come_back_to_the_callback_and_show_in_the_frame(
    merchant: Merchant, page: Any, artifacts: Path
) -> None:
    page.goto(merchant.url + "/")
    page.wait_for_selector("#make-payment-submit:not([disabled])", timeout=15000)
    frame = _frame(page)
    frame.locator("#cardNumber").fill("4242 4242 4242 4241")
    page.click("#make-payment-submit")
    page.wait_for_function(
        "document.getElementById('status').textContent.startsWith('token error')"
    )
    fields = page.inner_text("#status").removeprefix("token error: ").split(",")
    assert {"cardNumber", "expiryDateMonth", "expiryDateYear"} <= set(fields)
    assert "not a valid card number" in frame.locator("#error-cardNumber").inner_text()
    page.screenshot(path=str(artifacts / "quickstream-trusted-frame-errors.png"))
    assert merchant.paid == []


@pytest.mark.slow
def test_bank_account_frame_makes_a_direct_debit_token(mockbank: Mockbank, page: Any) -> None:
    shop = Merchant(api=mockbank.url("quickstream", "/rest/v1"), kind="bankAccount")
    server = _serve(shop)
    try:
        page.goto(shop.url + "/")
        page.wait_for_selector("#make-payment-submit:not([disabled])", timeout=15000)
        frame = _frame(page)
        frame.locator("#accountName").fill("Jane Citizen")
        frame.locator("#bsb").fill("032-000")
        frame.locator("#accountNumber").fill("12345678")
        page.click("#make-payment-submit")
        page.wait_for_selector("#result", timeout=15000)
        assert shop.paid[0]["transaction"]["bankAccount"]["accountNumber"] == "*****678"
    finally:
        server.shutdown()
        server.server_close()


def test_a_wrong_publishable_key_reaches_the_error_callback(mockbank: Mockbank, page: Any) -> None:
    shop = Merchant(api=mockbank.url("quickstream", "/rest/v1"), key="MOCKBANK_PUB_wrong")
    server = _serve(shop)
    try:
        page.goto(shop.url + "/")
        page.wait_for_function(
            "document.getElementById('status').textContent.startsWith('frame error')"
        )
        assert "Authorisation failed" in page.inner_text("#status")
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.slow
def test_a_page_on_an_origin_not_allowed_cannot_frame_it(mockbank: Mockbank, page: Any) -> None:
    shop = Merchant(api=mockbank.url("quickstream", "/rest/v1"))
    server = _serve(shop, host="127.0.0.2")  # loopback, but not in trustedFrameOrigins
    try:
        page.goto(shop.url + "/")
        page.wait_for_function(
            "document.getElementById('status').textContent.startsWith('frame error')", timeout=15000
        )
        assert "trustedFrameOrigins" in page.inner_text("#status")
        assert page.is_disabled("#make-payment-submit")
    finally:
        server.shutdown()
        server.server_close()
    frame_page = requests.get(
        mockbank.url("quickstream", "/rest/v1/trusted-frame/credit-card"),
        params={"origin": "https://evil.example"},
        timeout=5,
    )
    assert frame_page.status_code == 403
    policy = frame_page.headers["Content-Security-Policy"]
    assert "frame-ancestors http://127.0.0.1:* http://localhost:*" in policy
