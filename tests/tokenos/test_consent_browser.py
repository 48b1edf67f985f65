"""The consent web app in headless Chromium: bank, email, accounts, approve and deny."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from mockbank.clients.tokenos import Member, TokenClient, encode_callback_state
from mockbank.testing import LiveServer
from tests.tokenos.helpers import (
    CALLBACK,
    PAYER,
    access_payload,
    catch_callback,
    consent,
    transfer_payload,
)

pytestmark = pytest.mark.browser


@pytest.mark.slow
def test_transfer_consent_walks_bank_email_accounts_and_approves(
    page: Any, live: LiveServer, merchant: Member, token_client: TokenClient, artifacts: Path
) -> None:
    payload = transfer_payload("25.00", callbackState=encode_callback_state("csrf-b", "basket"))
    stored = merchant.store_token_request(payload, {})
    seen = catch_callback(page)
    page.goto(token_client.generate_token_request_url(stored["id"]))

    assert page.locator("#step-title").inner_text() == "Choose your bank"
    assert "Merchant 123 asks for a payment of up to 25.00 EUR" in (
        page.locator("#summary").inner_text()
    )
    names = page.locator("label.choice:not(.disabled)").all_inner_texts()
    assert any("Iron Bank" in n for n in names)
    assert not any("Gold Bank" in n for n in names)  # information only: no payments
    assert not any("Wood Bank" in n for n in names)  # GBP accounts, a EUR payment
    gold = page.locator("label.choice.disabled[data-unavailable=gold]")
    assert "does not offer payments through Token" in gold.inner_text()
    assert gold.locator("input").is_disabled()
    page.screenshot(path=str(artifacts / "tokenos-consent-1-bank.png"))
    page.check("input[value=iron]")
    page.click("#continue")

    assert page.locator("#step-title").inner_text().startswith("Enter the email")
    page.fill("#email", "nobody@example.com")
    page.click("#continue")
    assert "no Token user" in page.locator("#error").inner_text()
    page.fill("#email", "payer@example.com")
    page.screenshot(path=str(artifacts / "tokenos-consent-2-email.png"))
    page.click("#continue")

    assert "Iron Bank" in page.locator("#step-title").inner_text()
    assert page.locator("input[name=accountId]").count() == 2
    page.check("input[value='a:iron-savings']")
    page.screenshot(path=str(artifacts / "tokenos-consent-3-accounts.png"))
    page.click("#approve")
    page.wait_for_url(f"{CALLBACK}**")

    parsed = token_client.parse_token_request_callback_url(seen[0], "csrf-b")
    assert parsed["innerState"] == "basket"
    token = merchant.get_token(str(parsed["tokenId"]))
    source = token["payload"]["transfer"]["instructions"]["source"]["account"]["token"]
    assert source["accountId"] == "a:iron-savings"
    assert token["payload"]["transfer"]["lifetimeAmount"] == "25.00"


@pytest.mark.slow
def test_access_consent_in_german_is_denied(
    page: Any, live: LiveServer, merchant: Member, token_client: TokenClient, artifacts: Path
) -> None:
    stored = merchant.store_token_request(
        access_payload(["ACCOUNTS", "BALANCES"]),
        {"bankId": "gold", "from": {"alias": {"type": "EMAIL", "value": "payer@example.com"}}},
    )
    seen = catch_callback(page)
    page.goto(token_client.generate_token_request_url(stored["id"]) + "?lang=de")

    assert page.locator("html").get_attribute("lang") == "de"
    assert "Gold Bank" in page.locator("#step-title").inner_text()
    assert page.locator("#approve").inner_text() == "Zustimmen"
    # The requested resources are named in the page's language, not as API field names.
    assert (
        page.locator("#summary")
        .inner_text()
        .endswith("Zugriff auf Ihre Kontoinformationen: Kontodaten, Kontostände")
    )
    boxes = page.locator("input[name=accountId]")
    assert boxes.count() == 2
    assert all(boxes.nth(i).is_checked() for i in range(2))
    page.screenshot(path=str(artifacts / "tokenos-consent-4-de-accounts.png"))
    page.click("#deny")
    page.wait_for_url(f"{CALLBACK}**")

    query = parse_qs(urlsplit(seen[0]).query)
    assert query["error"] == ["access_denied"]
    with pytest.raises(ValueError, match="Error at bank: access_denied"):
        token_client.parse_token_request_callback_url(seen[0], "csrf-2")
    # The answered request cannot be used again.
    page.goto(token_client.generate_token_request_url(stored["id"]))
    assert page.locator("#error").inner_text() == "This request has already been answered."
    page.screenshot(path=str(artifacts / "tokenos-consent-5-answered.png"))


@pytest.mark.slow
def test_access_consent_approves_chosen_accounts_only(
    page: Any, live: LiveServer, merchant: Member, token_client: TokenClient
) -> None:
    stored = merchant.store_token_request(access_payload(["BALANCES"]), {"bankId": "wood"})
    seen = catch_callback(page)
    page.goto(token_client.generate_token_request_url(stored["id"]))
    page.fill("#email", "payer@example.com")
    page.click("#continue")
    page.uncheck("input[value='a:wood-savings']")
    page.click("#approve")
    page.wait_for_url(f"{CALLBACK}**")
    token_id = parse_qs(urlsplit(seen[0]).query)["tokenId"][0]
    resources = merchant.get_token(token_id)["payload"]["access"]["resources"]
    assert resources == [{"balance": {"accountId": "a:wood-current"}}]


@pytest.mark.parametrize(
    ("case", "status", "message"),
    [
        pytest.param("unknown", 404, "Zu diesem Link gibt es keine Anfrage.", id="unknown"),
        pytest.param("expired", 410, "Diese Anfrage ist abgelaufen.", id="expired"),
        pytest.param("answered", 410, "Diese Anfrage wurde bereits beantwortet.", id="answered"),
    ],
)
def test_unusable_request_pages_speak_the_requested_language(
    page: Any,
    live: LiveServer,
    merchant: Member,
    token_client: TokenClient,
    artifacts: Path,
    case: str,
    status: int,
    message: str,
) -> None:
    stored = merchant.store_token_request(transfer_payload(), PAYER)
    request_id = "rq:unknown:5zKtXEAq" if case == "unknown" else stored["id"]
    if case == "expired":
        live.state.clock.advance(15 * 60 + 1)
    if case == "answered":
        assert consent(live, stored["id"]).status_code == 302
    answer = page.goto(token_client.generate_token_request_url(request_id) + "?lang=de")
    assert answer.status == status
    assert page.locator("html").get_attribute("lang") == "de"
    assert page.locator("h1").inner_text() == "Diese Anfrage kann nicht verwendet werden"
    assert page.locator("#error").inner_text().startswith(message)
    # The technical reason stays on the page for the developer, with the request id.
    assert request_id in page.locator("#detail").inner_text()
    assert page.locator("form").count() == 0  # nothing left to approve or deny
    page.screenshot(path=str(artifacts / f"tokenos-consent-error-{case}-de.png"))


def test_unknown_email_is_explained_in_german_and_the_step_repeats(
    page: Any, live: LiveServer, merchant: Member, token_client: TokenClient
) -> None:
    stored = merchant.store_token_request(transfer_payload("1234.5"), {"bankId": "iron"})
    page.goto(token_client.generate_token_request_url(stored["id"]) + "?lang=de-DE")
    # German number format for the amount.
    assert "eine Zahlung von bis zu 1.234,50 EUR" in page.locator("#summary").inner_text()
    page.fill("#email", "niemand@example.com")
    page.click("#continue")
    assert page.locator("#error").inner_text() == (
        "Es gibt keinen Token-Nutzer mit der E-Mail-Adresse niemand@example.com."
    )
    assert page.locator("#step-title").inner_text().startswith("Geben Sie die E-Mail-Adresse")
    page.fill("#email", "payer@example.com")
    page.click("#continue")
    assert (
        page.locator("#step-title").inner_text()
        == "Wählen Sie das Konto / die Konten bei Iron Bank"
    )
