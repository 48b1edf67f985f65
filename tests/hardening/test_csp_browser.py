"""The pages people use still work in Chromium under their Content-Security-Policy, with no
violation reported: the QuickWeb payment page and passback, the TokenOS consent page, the
CENTAGATE device page, SysPay's one-time card page and the dashboard."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import requests

from mockbank.clients.syspay import wsse_header
from mockbank.clients.tokenos import TokenClient, encode_callback_state
from mockbank.guards import CSP
from mockbank.pytest_plugin import Mockbank
from tests.centagate.helpers import REQUEST_QR, qr_body
from tests.quickstream.helpers import PAN_VISA, token_params

pytestmark = [pytest.mark.browser, pytest.mark.slow]

# Reports every violation into a list the test reads (an init script runs under any policy).
WATCH = """
window.__violations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__violations.push(e.violatedDirective + " " + (e.blockedURI || "inline"));
});
"""
MERCHANT = "https://merchant.example"


@pytest.fixture
def watched(page: Any) -> Any:
    page.context.add_init_script(WATCH)
    console: list[str] = []
    page.on("console", lambda m: console.append(m.text))
    page.console_messages = console
    return page


def _no_violations(page: Any) -> None:
    assert page.evaluate("window.__violations") == []
    assert not [m for m in page.console_messages if "Content Security Policy" in m]


def _merchant(page: Any) -> list[Any]:
    """The merchant's site, answered inside the browser (the network is offline)."""
    seen: list[Any] = []

    def fulfil(route: Any) -> None:
        seen.append(route.request)
        route.fulfill(status=200, content_type="text/html", body="<h1 id='merchant'>Thanks</h1>")

    page.route(f"{MERCHANT}/**", fulfil)
    return seen


def test_payment_page_scripts_and_passback_work_under_the_policy(
    mockbank: Mockbank, watched: Any, artifacts: Path
) -> None:
    page = watched
    seen = _merchant(page)
    token = requests.post(
        mockbank.url("quickstream", "/CommunityTokenRequestServlet"),
        data=token_params(returnUrl=f"{MERCHANT}/thanks", cancelUrl=f"{MERCHANT}/cancel"),
        timeout=10,
    ).text.removeprefix("token=")
    response = page.goto(
        mockbank.url("quickstream", "/OnlinePaymentServlet3")
        + f"?token={token}&communityCode=COMMUNITY1"
    )
    assert response.headers["content-security-policy"] == CSP
    page.fill("#cardholderName", "Jane Citizen")
    page.fill("#cardNumber", PAN_VISA)
    # Only the page's script fills these in.
    assert page.inner_text("#card-scheme") == "VISA"
    assert page.inner_text("#surcharge").startswith("VISA 1.00%")
    page.select_option("#expiryDateMonth", "12")
    page.select_option("#expiryDateYear", "2030")
    page.fill("#cvn", "123")
    page.click("#pay-button")
    page.wait_for_selector("#receipt")
    page.screenshot(path=str(artifacts / "csp_quickstream_receipt.png"))
    _no_violations(page)
    page.click("#return-button")  # the passback page submits itself from its script file
    page.wait_for_selector("#merchant")
    assert [r.method for r in seen] == ["POST"]


def test_consent_page_works_under_the_policy(mockbank: Mockbank, watched: Any) -> None:
    page = watched
    seen = _merchant(page)
    client = TokenClient(mockbank.url("tokenos"))
    member = client.create_member({"type": "DOMAIN", "value": "merchant.example.com"})
    stored = member.store_token_request(
        {
            "refId": "csp-1",
            "to": {},
            "transferBody": {"currency": "EUR", "lifetimeAmount": "5.00"},
            "description": "CSP check",
            "redirectUrl": f"{MERCHANT}/callback",
            "callbackState": encode_callback_state("csrf-csp"),
        },
        {"bankId": "iron", "from": {"alias": {"type": "EMAIL", "value": "payer@example.com"}}},
    )
    response = page.goto(client.generate_token_request_url(stored["id"]))
    assert response.headers["content-security-policy"] == CSP
    buttons = page.locator("button[value=approve]")
    if page.locator("input[name=accountId]").count():
        page.locator("input[name=accountId]").first.check()
    buttons.first.click()
    page.wait_for_selector("#merchant")
    assert "tokenId=" in seen[0].url
    _no_violations(page)


def test_device_page_shows_the_qr_and_the_otp_under_the_policy(
    mockbank: Mockbank, watched: Any, artifacts: Path
) -> None:
    page = watched
    state = mockbank.state
    issued = requests.post(
        mockbank.url("centagate", REQUEST_QR.removeprefix("/centagate")),
        json=qr_body(state.clock.epoch()),
        timeout=10,
    )
    assert issued.status_code == 200
    response = page.goto(mockbank.url("centagate", "/device/alice-device-1"))
    assert response.headers["content-security-policy"] == CSP
    # The QR is a data: image, which the policy allows; it must have really decoded.
    assert page.evaluate("document.querySelector('img.qr').naturalWidth") > 0
    page.click("section.challenge button")
    assert page.inner_text("[data-otp]").isdigit()
    page.screenshot(path=str(artifacts / "csp_centagate_device.png"))
    _no_violations(page)


def test_syspay_card_page_renders_under_the_policy(mockbank: Mockbank, watched: Any) -> None:
    page = watched
    answer = requests.post(
        mockbank.url("syspay", "/api/v2/partner/token/1000001/detokenize"),
        json={"type": "TEXT", "viewer": "csp", "company_reference": "4242"},
        headers={"X-Wsse": wsse_header("myPartnerLogin", "myPartnerPassphrase")},
        timeout=10,
    )
    response = page.goto(answer.json()["redirect_url"])
    assert response.status == 200
    assert response.headers["content-security-policy"] == CSP
    assert "4111" in page.inner_text("body")
    _no_violations(page)


def test_dashboard_refreshes_under_the_policy(mockbank: Mockbank, watched: Any) -> None:
    page = watched
    page.goto(mockbank.server.url + "/")
    requests.get(mockbank.url("syspay", "/csp-probe"), timeout=10)
    page.locator("#requests td").filter(has_text="/syspay/csp-probe").wait_for(timeout=10_000)
    _no_violations(page)


def test_a_page_on_another_site_cannot_drive_the_control_api(mockbank: Mockbank, page: Any) -> None:
    """A form and a no-cors fetch from another origin, in a real browser, change nothing."""
    state = mockbank.state
    control = mockbank.server.url + "/_mockbank"
    evil = f"""<!doctype html><form id=f method=POST action="{control}/clock"
      enctype="text/plain"><input name='{{"advance": 86400, "x": "' value='"}}'></form>
      <form id=g method=POST action="{control}/reset"></form>"""
    page.route(
        "http://evil.example/**",
        lambda route: route.fulfill(status=200, content_type="text/html", body=evil),
    )
    state.add_fault({"provider": "syspay", "endpoint": "detokenize", "status": 503})
    page.goto("http://evil.example/")
    page.evaluate(
        """url => fetch(url, {method: "POST", mode: "no-cors", body: '{"advance": 7200}',
             headers: {"Content-Type": "text/plain"}}).catch(() => null)""",
        f"{control}/clock",
    )
    with page.expect_navigation():
        page.evaluate("document.getElementById('f').submit()")
    assert "cross_site" in page.content()
    page.goto("http://evil.example/")
    with page.expect_navigation():
        page.evaluate("document.getElementById('g').submit()")
    assert "cross_site" in page.content()
    assert state.clock.snapshot()["offset_s"] == 0
    assert len(state.faults.list()) == 1
