"""Every provider's browser flow, completed in Chromium inside a sandbox, links staying in it."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from mockbank.clients.syspay import wsse_header
from mockbank.pytest_plugin import MockbankSandbox
from tests.centagate.helpers import b64, qr_body
from tests.quickstream.helpers import token_params

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CALLBACK = "https://tpp.example.com/callback"
TOKENOS_KEY = ("m", "2fH1YspCejjhxqSss5hvLGMfb2Gm:5zKtXEAq:sandbox-api-key")


def _watch(page: Any, sandbox: MockbankSandbox) -> list[str]:
    """Every URL the page asks of the mockbank server (anything else is stubbed)."""
    seen: list[str] = []
    server = sandbox.server.url

    def record(request: Any) -> None:
        if request.url.startswith(server):
            seen.append(request.url)

    page.on("request", record)
    return seen


def _all_inside(seen: list[str], sandbox: MockbankSandbox) -> None:
    assert seen, "the page made no request to mockbank"
    outside = [url for url in seen if not url.startswith(sandbox.base_url + "/")]
    assert outside == [], f"left the sandbox: {outside}"


def test_quickweb_payment_in_a_sandbox(
    mockbank_sandbox: MockbankSandbox, page: Any, artifacts: Path
) -> None:
    sandbox = mockbank_sandbox
    answer = requests.post(
        sandbox.url("quickstream", "/CommunityTokenRequestServlet"),
        data=token_params(paymentReference="SB-1", customerReferenceNumber=None),
        timeout=20,
    )
    assert answer.status_code == 200, answer.text
    token = answer.text.strip().removeprefix("token=")
    seen = _watch(page, sandbox)
    page.goto(
        sandbox.url("quickstream", f"/OnlinePaymentServlet3?token={token}&communityCode=COMMUNITY1")
    )
    page.wait_for_selector("#payment-form")
    page.fill("#cardholderName", "Jane Citizen")
    page.fill("#cardNumber", "4242424242424242")
    page.select_option("#expiryDateMonth", "12")
    page.select_option("#expiryDateYear", "2030")
    page.fill("#cvn", "123")
    page.click("#pay-button")
    page.wait_for_selector("#receipt")
    assert page.inner_text("#outcome") == "Payment successful"
    page.screenshot(path=str(artifacts / "sandbox-quickweb-receipt.png"), full_page=True)
    _all_inside(seen, sandbox)
    assert "/s/" in page.url
    payments = sandbox.state.provider_state("quickstream")
    assert "SB-1" in str(payments)
    default = sandbox.server.state.provider_state("quickstream")
    assert "SB-1" not in str(default)


def test_tokenos_consent_in_a_sandbox(
    mockbank_sandbox: MockbankSandbox, page: Any, artifacts: Path
) -> None:
    sandbox = mockbank_sandbox
    stored = requests.post(
        sandbox.url("tokenos", "/token-requests"),
        auth=TOKENOS_KEY,
        json={
            "requestPayload": {
                "refId": "sandbox-1",
                "to": {},
                "description": "Book purchase",
                "transferBody": {"currency": "EUR", "lifetimeAmount": "10.00"},
                "redirectUrl": CALLBACK,
            },
            "requestOptions": {"bankId": "iron"},
        },
        timeout=20,
    )
    assert stored.status_code == 200, stored.text
    request_id = stored.json()["tokenRequest"]["id"]
    callbacks: list[str] = []

    def fulfil(route: Any) -> None:
        callbacks.append(route.request.url)
        route.fulfill(status=200, content_type="text/html", body="<h1>TPP callback</h1>")

    page.route(f"{CALLBACK}**", fulfil)
    seen = _watch(page, sandbox)
    page.goto(sandbox.url("tokenos", f"/app/request-token/{request_id}"))
    page.fill("#email", "payer@example.com")
    page.click("#continue")
    page.wait_for_selector("#approve")
    page.screenshot(path=str(artifacts / "sandbox-tokenos-consent.png"), full_page=True)
    page.click("#approve")
    page.wait_for_url(f"{CALLBACK}**")
    _all_inside(seen, sandbox)
    token_id = parse_qs(urlsplit(callbacks[0]).query)["tokenId"][0]
    token = requests.get(
        sandbox.url("tokenos", f"/tokens/{token_id}"), auth=TOKENOS_KEY, timeout=20
    )
    assert token.status_code == 200, token.text
    default = requests.get(
        sandbox.server.url_for("tokenos", f"/tokens/{token_id}"), auth=TOKENOS_KEY, timeout=20
    )
    assert default.status_code == 404


def test_centagate_device_page_in_a_sandbox(
    mockbank: Any, mockbank_sandbox: MockbankSandbox, page: Any, artifacts: Path
) -> None:
    sandbox = mockbank_sandbox
    api = sandbox.url("centagate", "/v2/CentagateWS/webresources")
    body = qr_body(sandbox.clock.epoch(), details=b64("Pay RM 250 to Bob"))
    issued = requests.post(f"{api}/req/requestQrCode", json=body, timeout=20).json()
    assert str(issued["code"]) == "0", issued
    import json

    challenge = json.loads(issued["object"])["otpChallenge"]
    seen = _watch(page, sandbox)
    page.goto(sandbox.url("centagate", "/device/alice-device-1"))
    page.locator(f'[data-challenge="{challenge}"] img.qr').wait_for(state="visible")
    page.get_by_role("button", name="Approve").first.click()
    otp = page.locator("[data-otp]").inner_text()
    assert len(otp) == 6
    assert otp.isdigit()
    page.screenshot(path=str(artifacts / "sandbox-centagate-device.png"), full_page=True)
    _all_inside(seen, sandbox)
    # Ids are deterministic per sandbox, so compare what is pending, not the challenge number:
    # the default sandbox (reset by the `mockbank` fixture) has nothing waiting.
    default_page = requests.get(sandbox.server.url_for("centagate", "/device/alice-device-1"))
    assert "data-challenge=" not in default_page.text


def test_syspay_one_time_url_in_a_sandbox(
    mockbank_sandbox: MockbankSandbox, page: Any, artifacts: Path
) -> None:
    sandbox = mockbank_sandbox
    answer = requests.post(
        sandbox.url("syspay", "/api/v2/partner/token/1000001/detokenize"),
        headers={"X-Wsse": wsse_header("myPartnerLogin", "myPartnerPassphrase")},
        json={"type": "TEXT", "viewer": "John Doe", "company_reference": "4242"},
        timeout=20,
    )
    assert answer.status_code == 200, answer.text
    url = answer.json()["redirect_url"]
    assert url.startswith(sandbox.base_url + "/syspay/")
    seen = _watch(page, sandbox)
    first = page.goto(url)
    assert first.status == 200
    assert "4111 1111 1111 1111" in page.content()
    page.screenshot(path=str(artifacts / "sandbox-syspay-card.png"), full_page=True)
    second = page.goto(url)
    assert second.status == 410
    _all_inside(seen, sandbox)
