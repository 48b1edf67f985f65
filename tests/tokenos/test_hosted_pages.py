"""Token.io Hosted Pages for v2 payments: bank search and country filters, the bank's consent
page, the callback with the payment id and state; by plain HTTP and in headless Chromium."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from mockbank.testing import LiveServer
from tests.tokenos.helpers_v2 import (
    CALLBACK,
    advance,
    callback_params,
    create,
    sepa_initiation,
    status,
)


def hosted(**extra: Any) -> dict[str, Any]:
    init = sepa_initiation(flowType="FULL_HOSTED_PAGES", **extra)
    del init["bankId"]
    return init


def test_full_hosted_pages_by_plain_http(live: LiveServer) -> None:
    payment = create(live, hosted())
    assert payment["status"] == "INITIATION_PENDING_REDIRECT_HP"
    session = payment["authentication"]["redirectUrl"]
    assert session == live.url_for("tokenos", f"/session/{payment['id']}")

    page = requests.get(session, timeout=10)
    assert page.status_code == 200
    assert "Iron Bank" in page.text
    assert "Wood Bank" not in page.text  # pays GBP by Faster Payments, not this EUR SEPA payment
    assert "Gold Bank" not in page.text  # information only
    searched = requests.get(session, params={"search": "IRON"}, timeout=10)
    assert 'value="iron"' in searched.text
    nothing = requests.get(session, params={"search": "iron", "country": "GB"}, timeout=10)
    assert 'id="no-banks"' in nothing.text

    chosen = requests.post(session, data={"bankId": "iron"}, allow_redirects=False, timeout=10)
    assert chosen.status_code == 302
    bank_page = chosen.headers["Location"]
    assert status(live, payment["id"]) == "INITIATION_PENDING_REDIRECT_AUTH"
    # The session now forwards to the bank, and the API shows the bank's page.
    forwarded = requests.get(session, allow_redirects=False, timeout=10)
    assert forwarded.headers["Location"] == bank_page

    params = callback_params(
        requests.post(bank_page, data={"decision": "approve"}, allow_redirects=False, timeout=10)
    )
    assert params == {"payment-id": payment["id"], "state": "state-42"}
    advance(live, 5)
    assert status(live, payment["id"]) == "INITIATION_COMPLETED"


def test_hosted_pages_refuse_a_bank_that_cannot_pay(live: LiveServer) -> None:
    payment = create(live, hosted())
    session = payment["authentication"]["redirectUrl"]
    answer = requests.post(session, data={"bankId": "gold"}, allow_redirects=False, timeout=10)
    assert answer.status_code == 400
    assert "does not support payments" in answer.text
    assert status(live, payment["id"]) == "INITIATION_PENDING_REDIRECT_HP"


def test_cancel_on_hosted_pages_declines_and_calls_back(live: LiveServer) -> None:
    payment = create(live, hosted())
    session = payment["authentication"]["redirectUrl"]
    answer = requests.post(session, data={"decision": "cancel"}, allow_redirects=False, timeout=10)
    assert callback_params(answer)["payment-id"] == payment["id"]
    assert status(live, payment["id"]) == "INITIATION_DECLINED"
    assert requests.get(session, timeout=10).status_code == 410


def test_embedded_hosted_pages_go_straight_to_the_chosen_bank(live: LiveServer) -> None:
    payment = create(live, sepa_initiation(flowType="EMBEDDED_HOSTED_PAGES"))
    assert payment["status"] == "INITIATION_PENDING_REDIRECT_HP"
    answer = requests.get(
        payment["authentication"]["redirectUrl"], allow_redirects=False, timeout=10
    )
    assert answer.status_code == 302
    assert "/mock-bank/payments/" in answer.headers["Location"]
    assert status(live, payment["id"]) == "INITIATION_PENDING_REDIRECT_AUTH"


def test_unknown_session_is_404(live: LiveServer) -> None:
    answer = requests.get(live.url_for("tokenos", "/session/pm2:nope:x"), timeout=10)
    assert answer.status_code == 404


@pytest.mark.browser
@pytest.mark.slow
def test_hosted_pages_end_to_end_in_chromium(page: Any, live: LiveServer, artifacts: Path) -> None:
    payment = create(live, hosted(callbackState="basket-7"))
    seen: list[str] = []

    def fulfil(route: Any) -> None:
        seen.append(route.request.url)
        route.fulfill(status=200, content_type="text/html", body="<h1>TPP callback</h1>")

    page.route(f"{CALLBACK}**", fulfil)
    page.goto(payment["authentication"]["redirectUrl"])
    assert page.locator("#step-title").inner_text() == "Choose your bank"
    assert "Pay 10.00 EUR to Book Shop GmbH" in page.locator("#summary").inner_text()
    page.fill("#search", "wood")
    page.click("#filter")
    assert page.locator("#no-banks").is_visible()
    page.fill("#search", "iron")
    page.select_option("#country", "DE")
    page.click("#filter")
    assert [t.strip() for t in page.locator("label.choice").all_inner_texts()] == ["Iron Bank (DE)"]
    page.screenshot(path=str(artifacts / "tokenos-hosted-1-banks.png"))
    page.click("#continue")

    assert page.locator("#brand").inner_text() == "Iron Bank"
    assert "Approve a payment of 10.00 EUR" in page.locator("#step-title").inner_text()
    page.check("input[value='a:iron-savings']")
    page.screenshot(path=str(artifacts / "tokenos-hosted-2-bank.png"))
    page.click("#approve")
    page.wait_for_url(f"{CALLBACK}**")
    page.screenshot(path=str(artifacts / "tokenos-hosted-3-callback.png"))

    query = parse_qs(urlsplit(seen[0]).query)
    assert query == {"payment-id": [payment["id"]], "state": ["basket-7"]}
    advance(live, 5)
    assert status(live, payment["id"]) == "INITIATION_COMPLETED"


def test_real_hostnames_work_in_process(app: Any) -> None:
    """An integrator's code calling api.sandbox.token.io and app.sandbox.token.io, unchanged."""
    from mockbank.testing import inprocess

    with inprocess(app):
        session = requests.Session()
        session.auth = ("", "sandbox-api-key")
        answer = session.post(
            "https://api.sandbox.token.io/v2/payments", json={"initiation": hosted()}, timeout=10
        )
        assert answer.status_code == 200, answer.text
        payment = answer.json()["payment"]
        # Token.io's documented Hosted Pages URL, built by the TPP from the payment id.
        hosted_url = f"https://app.sandbox.token.io/session/{payment['id']}"
        assert "Iron Bank" in requests.get(hosted_url, timeout=10).text
        chosen = requests.post(hosted_url, data={"bankId": "iron"}, allow_redirects=False)
        bank_page = chosen.headers["Location"]
        assert bank_page.startswith("https://app.sandbox.token.io/tokenos/mock-bank/payments/")
        done = requests.post(bank_page, data={"decision": "approve"}, allow_redirects=False)
        assert callback_params(done)["payment-id"] == payment["id"]
        status = session.get(f"https://api.sandbox.token.io/v2/payments/{payment['id']}").json()
        assert status["payment"]["status"] == "INITIATION_PENDING_REDIRECT_AUTH_VERIFICATION"
